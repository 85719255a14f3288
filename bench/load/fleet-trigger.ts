/**
 * Sends several HTTP requests at once when told (the fleet bench's baseline triggers every bare
 * broadcast process in the same instant; ours sends one webhook) and reports when the first went
 * out and when each answer was back, on the shared wall clock. A process of its own, so no busy
 * event loop delays the timestamps; one keep-alive connection per target, opened by the warm-up.
 */
import { Agent, request } from 'node:http';
import { parentChannel } from '../support/child.js';
import { wallNow } from '../support/stats.js';
import type { FleetRequest, FleetTriggerCommand, FleetTriggerMessage, FleetTriggerSend, FleetTriggerSent } from './fleet-protocol.js';

/** Keep-alive, one socket per host:port, so two targets never queue behind each other. */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** Writes the request at once (synchronously) and resolves when its answer is complete. */
function post(target: FleetRequest): Promise<{ status: number; answeredAt: number }> {
  const body = Buffer.from(target.body, 'utf8');
  return new Promise((resolve) => {
    const finish = (status: number) => resolve({ status, answeredAt: wallNow() });
    const req = request(target.url, { method: 'POST', agent, headers: { ...target.headers, 'Content-Length': String(body.byteLength) } }, (res) => {
      res.resume();
      res.once('end', () => finish(res.statusCode ?? 0));
      res.once('error', () => finish(-1));
    });
    req.once('error', () => finish(-1));
    req.end(body);
  });
}

async function send(message: FleetTriggerSend): Promise<FleetTriggerSent> {
  const sentAt = wallNow();
  const answers = await Promise.all(message.requests.map(post));
  return { type: 'sent', id: message.id, sentAt, answers };
}

const reply = parentChannel<FleetTriggerCommand>(async (message) => {
  if (message.type === 'send') reply((await send(message)) satisfies FleetTriggerMessage);
  else reply({ type: 'pong', sentAt: message.sentAt, childAt: wallNow() } satisfies FleetTriggerMessage);
});
