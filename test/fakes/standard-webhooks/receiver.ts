/**
 * A webhook RECEIVER written from the Standard Webhooks spec
 * (github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md) and
 * deliberately independent of our sender: its own header names, its own secret decoding, its
 * own HMAC and constant-time comparison. A test that has it verify our deliveries checks two
 * implementations against each other.
 *
 * It verifies every request (`webhook-id`, `webhook-timestamp` within the tolerance,
 * `webhook-signature` as a space-separated list where any `v1,` entry may match), records it,
 * and answers as scripted: a status, or `hang` (never answers).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** The spec's default tolerance for the attempt timestamp. */
export const TIMESTAMP_TOLERANCE_S = 5 * 60;

export interface ReceivedWebhook {
  readonly id: string | undefined;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly body: string;
  readonly path: string;
  /** True when a signature matched one of the receiver's secrets and the timestamp was fresh. */
  readonly verified: boolean;
  /** Why verification failed. */
  readonly failure: string | undefined;
  /** What the receiver answered (`hang` for none). */
  readonly answer: number | 'hang';
  /** 1 for the first request this receiver saw, 2 for the second, ... */
  readonly sequence: number;
  /** The parsed body when it was JSON. */
  readonly payload: { type?: string; timestamp?: string; data?: Record<string, unknown> } | undefined;
}

/** Decides the answer to the n-th request (1-based). */
export type ReceiverScript = (request: { sequence: number; id: string | undefined }) => number | 'hang';

export interface FakeReceiver {
  readonly url: string;
  readonly port: number;
  readonly received: readonly ReceivedWebhook[];
  /** The secrets it verifies with, `whsec_...` (any may match). */
  secrets: string[];
  script: ReceiverScript;
  /** Resolves with the first recorded request (past or future) that matches. */
  waitFor(predicate: (webhook: ReceivedWebhook) => boolean, timeoutMs?: number): Promise<ReceivedWebhook>;
  close(): Promise<void>;
}

/** Decodes a `whsec_` secret as the spec serializes it: the prefix, then base64 of the key. */
function secretKey(secret: string): Buffer {
  const prefix = 'whsec_';
  return Buffer.from(secret.startsWith(prefix) ? secret.slice(prefix.length) : secret, 'base64');
}

/** Verifies one request per the spec; returns the failure, or undefined when it is authentic. */
export function verifyStandardWebhook(
  secrets: readonly string[],
  headers: { id: string | undefined; timestamp: string | undefined; signature: string | undefined },
  body: string,
  nowSeconds: number,
): string | undefined {
  if (!headers.id || !headers.timestamp || !headers.signature) return 'missing header';
  if (!/^\d+$/.test(headers.timestamp)) return 'invalid timestamp';
  const timestamp = Number(headers.timestamp);
  if (Math.abs(nowSeconds - timestamp) > TIMESTAMP_TOLERANCE_S) return 'timestamp outside tolerance';
  const signed = Buffer.from(`${headers.id}.${headers.timestamp}.${body}`, 'utf8');
  const candidates = headers.signature
    .split(' ')
    .map((entry) => entry.split(','))
    .filter(([version, value]) => version === 'v1' && value !== undefined)
    .map(([, value]) => Buffer.from(value!, 'base64'));
  for (const secret of secrets) {
    const expected = createHmac('sha256', secretKey(secret)).update(signed).digest();
    for (const candidate of candidates) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return undefined;
    }
  }
  return 'no signature matched';
}

export async function startFakeReceiver(options: { secrets?: string[]; script?: ReceiverScript; path?: string } = {}): Promise<FakeReceiver> {
  const received: ReceivedWebhook[] = [];
  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  let sequence = 0;

  const receiver = {
    secrets: options.secrets ?? [],
    script: options.script ?? (() => 204),
  } as { secrets: string[]; script: ReceiverScript };

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => {
        const value = request.headers[name];
        return typeof value === 'string' ? value : undefined;
      };
      const headers = { id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature') };
      const failure = verifyStandardWebhook(receiver.secrets, headers, body, Math.floor(Date.now() / 1000));
      sequence += 1;
      const answer = receiver.script({ sequence, id: headers.id });
      let payload: ReceivedWebhook['payload'];
      try {
        payload = JSON.parse(body) as ReceivedWebhook['payload'];
      } catch {
        payload = undefined;
      }
      const webhook: ReceivedWebhook = { ...headers, body, path: request.url ?? '', verified: failure === undefined, failure, answer, sequence, payload };
      received.push(webhook);
      events.emit('webhook', webhook);
      if (answer === 'hang') {
        hanging.add(response);
        return;
      }
      response.statusCode = answer;
      if (answer >= 300 && answer < 400) response.setHeader('Location', 'http://127.0.0.1:9/elsewhere');
      response.end(answer === 204 ? undefined : 'ok');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${options.path ?? '/hooks'}`,
    port,
    received,
    get secrets() {
      return receiver.secrets;
    },
    set secrets(value: string[]) {
      receiver.secrets = value;
    },
    get script() {
      return receiver.script;
    },
    set script(value: ReceiverScript) {
      receiver.script = value;
    },
    waitFor(predicate, timeoutMs = 10_000) {
      const found = received.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          events.off('webhook', listener);
          reject(new Error(`no matching webhook within ${timeoutMs} ms; received ${received.length}: ${JSON.stringify(received.map((r) => ({ id: r.id, answer: r.answer, verified: r.verified, failure: r.failure })))}`));
        }, timeoutMs);
        const listener = (webhook: ReceivedWebhook) => {
          if (!predicate(webhook)) return;
          clearTimeout(timer);
          events.off('webhook', listener);
          resolve(webhook);
        };
        events.on('webhook', listener);
      });
    },
    async close() {
      for (const response of hanging) response.destroy();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
