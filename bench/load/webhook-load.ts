/**
 * The webhook load generator, run as its own process by bench/ingest.ts so it does not take
 * CPU from the server under test inside one event loop (on 2 cores: one for it, one for the
 * server). It pre-builds distinct, correctly signed Twitch EventSub requests (unique message
 * ids, fresh timestamps) with the independent fake sender, serialized to the bytes on the wire,
 * then keeps `concurrency` requests in flight, one per keep-alive connection: a warm-up, then a
 * measured window that ends when the duration is up or the pre-built pool is used up,
 * whichever comes first. The connections write prepared bytes and read only each answer's
 * status (raw-http-connection.ts): with node's `http.request` client the generator itself used
 * about a full core during the baseline, so the baseline's figure was partly the client's.
 */
import { createEventSubSender } from '../../test/fakes/twitch/eventsub.js';
import { parentChannel } from '../support/child.js';
import type { WebhookLoadMessage, WebhookLoadResult, WebhookLoadRun } from './protocol.js';
import { RawHttpConnection, serializePost } from './raw-http-connection.js';

/** A whole signed request as written on the socket. */
type PreparedRequest = Buffer;

function prepare(run: WebhookLoadRun): PreparedRequest[] {
  const sender = createEventSubSender({ secret: run.secret, broadcaster: run.broadcaster, callback: `http://${run.host}:${run.port}${run.path}` });
  const prepared: PreparedRequest[] = [];
  for (let i = 0; i < run.requests; i++) {
    const twitchRequest = sender.channelUpdate({ messageId: `${run.label}-${i}`, title: `bench ${run.label} ${i}` });
    prepared.push(serializePost(run.host, run.port, run.path, twitchRequest.headers, Buffer.from(twitchRequest.body, 'utf8')));
  }
  return prepared;
}

async function execute(run: WebhookLoadRun): Promise<WebhookLoadResult> {
  const builtAt = performance.now();
  const pool = prepare(run);
  const buildMs = performance.now() - builtAt;
  const connections = Array.from({ length: run.concurrency }, () => new RawHttpConnection(run.host, run.port));

  const latencies = new Float64Array(pool.length);
  let measured = 0;
  let ok = 0;
  let sent = 0;
  let accepted = 0;
  const failures: Record<string, number> = {};
  let next = 0;

  const startedAt = performance.now();
  const measureFrom = startedAt + run.warmupMs;
  const stopAt = measureFrom + run.durationMs;
  let lastDoneAt = measureFrom;
  let cpuAtMeasure: NodeJS.CpuUsage | undefined;

  const worker = async (connection: RawHttpConnection) => {
    for (;;) {
      const now = performance.now();
      if (now >= stopAt || next >= pool.length) return;
      if (cpuAtMeasure === undefined && now >= measureFrom) cpuAtMeasure = process.cpuUsage();
      const prepared = pool[next++]!;
      const began = now;
      sent++;
      const status = await connection.send(prepared);
      const done = performance.now();
      if (status === 204) accepted++;
      if (began >= measureFrom) {
        lastDoneAt = Math.max(lastDoneAt, done);
        if (status === 204) {
          ok++;
          latencies[measured++] = done - began;
        } else {
          const key = status === -1 ? 'error' : String(status);
          failures[key] = (failures[key] ?? 0) + 1;
        }
      }
    }
  };
  await Promise.all(connections.map(worker));
  const cpu = process.cpuUsage(cpuAtMeasure);
  for (const connection of connections) connection.close();
  return {
    type: 'result',
    id: run.id,
    ok,
    failures,
    windowMs: lastDoneAt - measureFrom,
    latenciesMs: latencies.slice(0, measured),
    sent,
    accepted,
    poolExhausted: next >= pool.length,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    buildMs,
  };
}

const reply = parentChannel<WebhookLoadMessage>(async (message) => {
  if (message.type === 'run') reply(await execute(message));
});
