/**
 * SSE subscribers for bench/fanout.ts, in their own process: N raw TCP connections (no HTTP
 * client library: one request written by hand, then only a byte search per chunk), each
 * `GET <path>` with `Accept: text/event-stream`. Ready once every connection got its
 * `event: snapshot`; then, per armed round, the wall-clock time (`performance.timeOrigin +
 * performance.now()`, shared with the parent on one machine) at which each connection's chunk
 * carrying `event: status` arrived. A round is reported when every open connection has it, or
 * at the round's timeout with the rest counted missing. The fleet bench runs several of these,
 * each from its own loopback address (`localAddress`), so no one source runs out of ports.
 */
import { connect, type Socket } from 'node:net';
import { parentChannel } from '../support/child.js';
import { wallNow } from '../support/stats.js';
import type { SseOpenFrom } from './fleet-protocol.js';
import type { SseArm, SseClientCommand, SseClientMessage } from './protocol.js';

const SNAPSHOT = Buffer.from('event: snapshot');
const STATUS = Buffer.from('event: status');
const HEADER_END = Buffer.from('\r\n\r\n');
const TAIL_BYTES = Math.max(SNAPSHOT.length, STATUS.length) - 1;

interface Connection {
  readonly index: number;
  socket: Socket | undefined;
  headersDone: boolean;
  head: Buffer;
  ready: boolean;
  /** Counted as open or failed (a refused connection also closes: it must not count twice). */
  settled: boolean;
  closed: boolean;
  /** The last bytes of the previous chunk, for a marker split across two chunks. */
  tail: Buffer | undefined;
  gotRound: boolean;
}

const connections: Connection[] = [];
let round: { number: number; receivedAt: Float64Array; expected: number; remaining: number; timer: ReturnType<typeof setTimeout>; sampleFrame: string | undefined } | undefined;
let closedCount = 0;
let onReady: ((connection: Connection, error?: string) => void) | undefined;

const reply = parentChannel<SseClientCommand | SseOpenFrom>(async (message) => {
  switch (message.type) {
    case 'open':
      reply(await openAll(message));
      return;
    case 'arm':
      arm(message);
      reply({ type: 'armed', round: message.round } satisfies SseClientMessage);
      return;
    case 'ping':
      reply({ type: 'pong', sentAt: message.sentAt, childAt: wallNow() } satisfies SseClientMessage);
      return;
    case 'close':
      for (const connection of connections) connection.socket?.destroy();
      reply({ type: 'closed' } satisfies SseClientMessage);
      return;
  }
});

function contains(connection: Connection, chunk: Buffer, marker: Buffer): boolean {
  if (chunk.indexOf(marker) >= 0) return true;
  const tail = connection.tail;
  if (!tail) return false;
  // Never the whole marker inside the old tail (it has one byte too few): no double count.
  return Buffer.concat([tail.subarray(Math.max(0, tail.length - marker.length + 1)), chunk.subarray(0, marker.length - 1)]).indexOf(marker) >= 0;
}

function onData(connection: Connection, chunk: Buffer): void {
  const at = wallNow();
  if (!connection.headersDone) {
    connection.head = Buffer.concat([connection.head, chunk]);
    const end = connection.head.indexOf(HEADER_END);
    if (end < 0) return;
    const statusLine = connection.head.subarray(0, connection.head.indexOf('\r\n')).toString('latin1');
    if (!/^HTTP\/1\.1 200 /.test(statusLine)) {
      connection.socket?.destroy();
      onReady?.(connection, statusLine);
      return;
    }
    connection.headersDone = true;
    chunk = connection.head.subarray(end + HEADER_END.length);
    connection.head = Buffer.alloc(0);
  }
  if (!connection.ready) {
    if (contains(connection, chunk, SNAPSHOT)) {
      connection.ready = true;
      onReady?.(connection);
    }
  } else if (round && !connection.gotRound && contains(connection, chunk, STATUS)) {
    connection.gotRound = true;
    round.receivedAt[connection.index] = at;
    if (connection.index === 0) {
      const text = chunk.toString('utf8');
      const start = text.indexOf('event: status');
      const end = text.indexOf('\n\n', start);
      if (start >= 0 && end > start) round.sampleFrame = text.slice(start, end + 2);
    }
    if (--round.remaining === 0) finishRound();
  }
  connection.tail = chunk.length >= TAIL_BYTES ? chunk.subarray(chunk.length - TAIL_BYTES) : undefined;
}

function openOne(connection: Connection, options: SseOpenFrom): void {
  const socket = connect({ host: options.host, port: options.port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
  connection.socket = socket;
  socket.setNoDelay(true);
  socket.once('connect', () => {
    socket.write(`GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\nAccept: text/event-stream\r\n\r\n`);
  });
  socket.on('data', (chunk: Buffer) => onData(connection, chunk));
  socket.on('error', () => undefined);
  socket.once('close', () => {
    connection.closed = true;
    closedCount++;
    if (!connection.ready) onReady?.(connection, 'closed before its snapshot');
    else if (round && !connection.gotRound && --round.remaining === 0) finishRound();
  });
}

function openAll(options: SseOpenFrom): Promise<SseClientMessage> {
  const startedAt = performance.now();
  let next = 0;
  let open = 0;
  let failed = 0;
  let firstError: string | undefined;
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      onReady = undefined;
      resolve({ type: 'ready', open, failed, firstError, elapsedMs: performance.now() - startedAt });
    };
    const timer = setTimeout(() => {
      firstError ??= `timed out after ${options.timeoutMs} ms with ${open} of ${options.connections} open`;
      failed += options.connections - open - failed;
      done();
    }, options.timeoutMs);
    const startNext = () => {
      if (next >= options.connections) return;
      const connection: Connection = { index: next++, socket: undefined, headersDone: false, head: Buffer.alloc(0), ready: false, settled: false, closed: false, tail: undefined, gotRound: false };
      connections.push(connection);
      openOne(connection, options);
    };
    onReady = (connection, error) => {
      if (connection.settled) return;
      connection.settled = true;
      if (error === undefined) open++;
      else {
        failed++;
        firstError ??= `connection ${connection.index}: ${error}`;
      }
      if (open + failed === options.connections) done();
      else startNext();
    };
    for (let i = 0; i < Math.min(options.batch, options.connections); i++) startNext();
  });
}

function arm(message: SseArm): void {
  if (round) clearTimeout(round.timer);
  const receivedAt = new Float64Array(connections.length).fill(Number.NaN);
  let remaining = 0;
  for (const connection of connections) {
    connection.gotRound = false;
    if (connection.ready && !connection.closed) remaining++;
  }
  round = { number: message.round, receivedAt, expected: remaining, remaining, sampleFrame: undefined, timer: setTimeout(finishRound, message.timeoutMs) };
  if (remaining === 0) finishRound();
}

function finishRound(): void {
  if (!round) return;
  const finished = round;
  round = undefined;
  clearTimeout(finished.timer);
  let got = 0;
  for (const at of finished.receivedAt) if (!Number.isNaN(at)) got++;
  const receivedAt = new Float64Array(got);
  let i = 0;
  for (const at of finished.receivedAt) if (!Number.isNaN(at)) receivedAt[i++] = at;
  reply({
    type: 'round',
    round: finished.number,
    sampleFrame: finished.sampleFrame,
    receivedAt,
    missing: finished.expected - got,
    closed: closedCount,
  } satisfies SseClientMessage);
}
