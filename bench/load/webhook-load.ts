/**
 * The webhook load generator, run as its own process by bench/ingest.ts so it does not take
 * CPU from the server under test inside one event loop (on 2 cores: one for it, one for the
 * server). It pre-builds distinct, correctly signed Twitch EventSub requests (unique message
 * ids, fresh timestamps) with the independent fake sender, then keeps `concurrency` requests
 * in flight over keep-alive `http.Agent` sockets: a warm-up, then a measured window that ends
 * when the duration is up or the pre-built pool is used up, whichever comes first.
 */
import { Agent, request } from 'node:http';
import { createEventSubSender } from '../../test/fakes/twitch/eventsub.js';
import { parentChannel } from '../support/child.js';
import type { WebhookLoadMessage, WebhookLoadResult, WebhookLoadRun } from './protocol.js';

interface PreparedRequest {
  readonly messageId: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

function prepare(run: WebhookLoadRun): PreparedRequest[] {
  const sender = createEventSubSender({ secret: run.secret, broadcaster: run.broadcaster, callback: `http://${run.host}:${run.port}${run.path}` });
  const prepared: PreparedRequest[] = [];
  for (let i = 0; i < run.requests; i++) {
    const twitchRequest = sender.channelUpdate({ messageId: `${run.label}-${i}`, title: `bench ${run.label} ${i}` });
    const body = Buffer.from(twitchRequest.body, 'utf8');
    prepared.push({ messageId: twitchRequest.messageId, headers: { ...twitchRequest.headers, 'Content-Length': String(body.byteLength) }, body });
  }
  return prepared;
}

async function execute(run: WebhookLoadRun): Promise<WebhookLoadResult> {
  const builtAt = performance.now();
  const pool = prepare(run);
  const buildMs = performance.now() - builtAt;
  const agent = new Agent({ keepAlive: true, maxSockets: run.concurrency, maxFreeSockets: run.concurrency, scheduling: 'fifo' });

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

  const one = (prepared: PreparedRequest) =>
    new Promise<number>((resolve) => {
      const req = request(
        { agent, host: run.host, port: run.port, path: run.path, method: 'POST', headers: prepared.headers },
        (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
          res.once('error', () => resolve(-1));
        },
      );
      req.once('error', () => resolve(-1));
      req.end(prepared.body);
    });

  const worker = async () => {
    for (;;) {
      const now = performance.now();
      if (now >= stopAt || next >= pool.length) return;
      if (cpuAtMeasure === undefined && now >= measureFrom) cpuAtMeasure = process.cpuUsage();
      const prepared = pool[next++]!;
      const began = now;
      sent++;
      const status = await one(prepared);
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
  await Promise.all(Array.from({ length: run.concurrency }, worker));
  const cpu = process.cpuUsage(cpuAtMeasure);
  agent.destroy();
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
