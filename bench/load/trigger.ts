/**
 * Sends one HTTP request when told and reports when it went out and when the answer was back,
 * on the shared wall clock. A process of its own, so neither the server's nor the
 * subscribers' event loop (both busy during a fan-out) delays the timestamps.
 */
import { Agent, request } from 'node:http';
import { parentChannel } from '../support/child.js';
import { wallNow } from '../support/stats.js';
import type { SsePing, SsePong, TriggerSend, TriggerSent } from './protocol.js';

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function send(message: TriggerSend): Promise<TriggerSent> {
  const body = Buffer.from(message.body, 'utf8');
  return new Promise((resolve) => {
    let sentAt = Number.NaN;
    const finish = (status: number) => resolve({ type: 'sent', id: message.id, status, sentAt, answeredAt: wallNow() });
    const req = request(message.url, { method: 'POST', agent, headers: { ...message.headers, 'Content-Length': String(body.byteLength) } }, (res) => {
      res.resume();
      res.once('end', () => finish(res.statusCode ?? 0));
      res.once('error', () => finish(-1));
    });
    req.once('error', () => finish(-1));
    sentAt = wallNow();
    req.end(body);
  });
}

const reply = parentChannel<TriggerSend | SsePing>(async (message) => {
  if (message.type === 'send') reply(await send(message));
  else if (message.type === 'ping') reply({ type: 'pong', sentAt: message.sentAt, childAt: wallNow() } satisfies SsePong);
});
