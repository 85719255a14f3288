/**
 * The ingest baseline (koa-hmac.ts) in its own process, so neither side of bench/ingest is
 * charged for the other's work: sharing the bench process, the baseline paid for the garbage
 * collections of what our server had just freed, and its figure moved with our code.
 * Answers the parent's `cpu` requests with its own CPU time, for the per-request CPU column.
 */
import { parentChannel } from '../support/child.js';
import { startKoaHmacBaseline } from './koa-hmac.js';

export type BaselineProcessRequest = { readonly type: 'start'; readonly secret: string } | { readonly type: 'cpu'; readonly id: number };
export type BaselineProcessMessage =
  | { readonly type: 'ready'; readonly host: string; readonly port: number; readonly koaVersion: string }
  | { readonly type: 'cpu'; readonly id: number; readonly ms: number };

if (process.send) {
  const send = parentChannel<BaselineProcessRequest>(async (message) => {
    if (message.type === 'start') {
      const server = await startKoaHmacBaseline(message.secret);
      send({ type: 'ready', host: server.host, port: server.port, koaVersion: server.koaVersion } satisfies BaselineProcessMessage);
    } else {
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', id: message.id, ms: (user + system) / 1000 } satisfies BaselineProcessMessage);
    }
  });
}
