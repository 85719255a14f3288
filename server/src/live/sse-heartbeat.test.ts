import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { LiveMetadata } from '@live-upload/schema';
import { offlineRecord } from '../../../test/support/live-metadata-fixture.js';
import { createMemoryBus } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { LiveStatusHub } from './live-status-hub.js';
import { SseConnection, SseFrameCache } from './sse-connection.js';
import { SseHeartbeat, type HeartbeatTimers } from './sse-heartbeat.js';

const INTERVAL_MS = 1_000;

/** Node's interval timer on a clock the test moves: `advance` runs every tick due, in order. */
class ManualClock implements HeartbeatTimers {
  now = 0;
  private readonly intervals = new Map<number, { callback: () => void; ms: number; next: number }>();
  private ids = 0;

  setInterval(callback: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.intervals.set(id, { callback, ms, next: this.now + ms });
    return id;
  }

  clearInterval(handle: unknown): void {
    this.intervals.delete(handle as number);
  }

  get running(): number {
    return this.intervals.size;
  }

  /** Moves the clock to `to`, running each interval's ticks due on the way at their own times. */
  advanceTo(to: number): void {
    for (;;) {
      let due: { callback: () => void; ms: number; next: number } | undefined;
      for (const interval of this.intervals.values()) if (interval.next <= to && (!due || interval.next < due.next)) due = interval;
      if (!due) break;
      this.now = due.next;
      due.next += due.ms;
      due.callback();
    }
    this.now = to;
  }
}

function record(channel: string, seq: number): LiveMetadata {
  return offlineRecord(channel, { title: `seq ${seq}`, seq });
}

/** A real response with no socket (node buffers what is written), its writes noted on the manual clock. */
function recordedResponse(clock: ManualClock): { response: ServerResponse; writes: Array<{ at: number; text: string }> } {
  const response = new ServerResponse(new IncomingMessage(new Socket()));
  const writes: Array<{ at: number; text: string }> = [];
  const write = response.write.bind(response) as (chunk: string | Buffer) => boolean;
  response.write = ((chunk: string | Buffer) => {
    writes.push({ at: clock.now, text: chunk.toString() });
    return write(chunk);
  }) as typeof response.write;
  return { response, writes };
}

/** The longest stretch of the clock without a write, from the first write to `end`. */
function longestSilence(writes: ReadonlyArray<{ at: number }>, end: number): number {
  let longest = 0;
  for (let i = 1; i <= writes.length; i++) longest = Math.max(longest, (writes[i]?.at ?? end) - writes[i - 1]!.at);
  return longest;
}

describe('SseHeartbeat', () => {
  it('keeps every stream within the interval, writing `: hb` only to streams that carried nothing', async () => {
    const bus = createMemoryBus();
    const clock = new ManualClock();
    const heartbeat = new SseHeartbeat(INTERVAL_MS, clock);
    const hub = new LiveStatusHub(bus, async (channel) => record(channel, 1), (channel) => record(channel, 0), createLogger({ level: 'silent' }));
    const frames = new SseFrameCache();
    try {
      // busy: an event every 400 ms (under half the interval); sparse: one every 1,300 ms; idle: none.
      const streams = await Promise.all(
        ['acme/busy', 'acme/sparse', 'acme/idle'].map(async (channel) => {
          const { response, writes } = recordedResponse(clock);
          const connection = new SseConnection(response, new Map(), () => undefined, frames, heartbeat);
          await connection.start(hub, [channel]);
          return { channel, connection, writes };
        }),
      );
      // Streams open at odd times between ticks, too.
      clock.advanceTo(137);
      const late = recordedResponse(clock);
      const lateConnection = new SseConnection(late.response, new Map(), () => undefined, frames, heartbeat);
      await lateConnection.start(hub, ['acme/late']);
      streams.push({ channel: 'acme/late', connection: lateConnection, writes: late.writes });

      const seq = new Map<string, number>([['acme/busy', 1], ['acme/sparse', 1]]);
      const emit = (channel: string) => {
        const next = seq.get(channel)! + 1;
        seq.set(channel, next);
        hub.accept(record(channel, next));
      };
      const end = 20_000;
      for (let at = 150; at <= end; at += 50) {
        clock.advanceTo(at);
        if (at % 400 === 0) emit('acme/busy');
        if (at % 1_300 === 0) emit('acme/sparse');
      }

      const beats = (writes: ReadonlyArray<{ text: string }>) => writes.filter((write) => write.text === ': hb\n\n').length;
      for (const { channel, writes } of streams) {
        assert.ok(longestSilence(writes, end) <= INTERVAL_MS, `${channel}: ${longestSilence(writes, end)} ms without a byte (interval ${INTERVAL_MS} ms)`);
      }
      const [busy, sparse, idle, lateStream] = streams.map((stream) => beats(stream.writes));
      assert.equal(busy, 0, 'a stream carrying events every 400 ms gets no heartbeat');
      // Once per interval at most, as with one timer per stream: 20 s idle is 20 heartbeats, not 40.
      assert.ok(idle! >= 19 && idle! <= 20, `idle stream: ${idle} heartbeats in 20 s`);
      assert.ok(lateStream! >= 19 && lateStream! <= 20, `late stream: ${lateStream} heartbeats in 20 s`);
      assert.ok(sparse! > 0 && sparse! < idle!, `sparse stream: ${sparse} heartbeats (idle: ${idle})`);
      assert.equal(clock.running, 1, 'one timer for every stream');

      for (const { connection } of streams) connection.close();
      assert.equal(heartbeat.size, 0);
      assert.equal(clock.running, 0, 'no timer once no stream is open');
    } finally {
      await bus.close();
    }
  });

  it('ticks at half the interval', () => {
    const clock = new ManualClock();
    const heartbeat = new SseHeartbeat(INTERVAL_MS, clock);
    let checks = 0;
    heartbeat.add({ beatIfQuietSince: () => void checks++ });
    clock.advanceTo(5 * INTERVAL_MS);
    assert.equal(checks, 10);
    assert.equal(heartbeat.epoch, 10);
  });
});
