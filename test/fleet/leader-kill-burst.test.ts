/**
 * Issue 20: the JetStream leader of the events stream (LIVE_RAW, where every accepted webhook
 * is stored before it is answered) is SIGKILLed during a burst of 1,000 signed webhooks sent to
 * two replicas on different nodes of a three-node cluster, every stream in three copies.
 *
 * The leader is moved to the node replica A is connected to first, so that node's death also
 * cuts A off the bus until it reconnects to another node.
 *
 * The burst is 1,000 `stream.online` events for 1,000 channels (one each, a stream id of its
 * own), so the final state is checkable one by one: each channel LIVE with its own stream id.
 * What must hold, as a provider sees it:
 * - every answer is a 204 or a 503: a webhook the server could not store is never a 2xx;
 * - Twitch retries the 503s (same message id, `Message-Retry` one higher) until they are 2xx;
 * - then every channel is LIVE with its stream id, seen through B's API;
 * - none applied twice: LIVE_RAW holds exactly 1,000 events, and each channel's subject of
 *   LIVE_STATUS exactly one status (a retried webhook that had been stored after all is a
 *   duplicate, not a second event). A status follows its channel's state write, so it is
 *   waited for: one whose publish failed in the outage goes out on a retry or a redelivery.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { STREAMS } from '../../server/src/bus/subjects.js';
import { createEventSubSender, deliver, redeliver, type EventSubWebhookRequest } from '../fakes/twitch/eventsub.js';
import { eventually } from '../support/eventually.js';
import type { MainProcess } from '../support/main-process.js';
import { startNatsCluster, type NatsClusterHandle } from '../support/nats-cluster.js';
import { FLEET_SECRETS, adminFetch, createTwitchChannel, startReplicas, stopReplica } from './fleet.js';

const CHANNELS = 1_000;
/** Webhooks in flight at once, across both replicas. */
const CONCURRENCY = 40;
/** The leader is killed once this many webhooks were answered: mid-burst. */
const KILL_AFTER_ANSWERS = 250;
/** How long Twitch keeps retrying the refused ones (it backs off; so do we, in steps). */
const RETRY_FOR_MS = 30_000;

const channelOf = (i: number) => `fleet/burst-${i}`;
const streamIdOf = (i: number) => `burst-stream-${i}`;

interface Delivery {
  readonly index: number;
  request: EventSubWebhookRequest;
  /** Every answer this webhook got, in order. */
  readonly statuses: number[];
}

/** Runs `work` over `items` with at most `limit` at once. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

describe('a fleet survives the kill of the events stream leader during a burst of 1,000 webhooks', () => {
  let cluster: NatsClusterHandle;
  let replicas: MainProcess[] = [];
  let nc: NatsConnection | undefined;
  let setup = '';

  before(async () => {
    const started = Date.now();
    cluster = await startNatsCluster();
    const clusterAt = Date.now();
    const { a, b } = await startReplicas(cluster, { COALESCE_MS: '50', OFFLINE_GRACE_MS: '60000' });
    replicas = [a, b];
    const replicasAt = Date.now();
    const indexes = Array.from({ length: CHANNELS }, (_, i) => i);
    await inParallel(indexes, 32, (i) => createTwitchChannel(replicas[i % 2]!, channelOf(i), String(100_000 + i), `burst_${i}`));
    setup = `cluster ${clusterAt - started} ms, replicas ${replicasAt - clusterAt} ms, ${CHANNELS} channels ${Date.now() - replicasAt} ms`;
    nc = await connect({ servers: [...cluster.urls], maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  });
  after(async () => {
    await nc?.close();
    await Promise.all(replicas.map((replica) => stopReplica(replica)));
    await cluster?.stop();
  });

  it('answers every webhook 204 or 503, and after the 503s are retried each is applied exactly once', async (t) => {
    // The harder case: the leader's node is also the one replica A is connected to, so its
    // death takes A's bus connection with it (A reconnects to another node) as well as the leader.
    const leader = 0;
    await cluster.moveStreamLeader(STREAMS.liveRaw.name, leader);
    t.diagnostic(`setup: ${setup}`);
    t.diagnostic(`LIVE_RAW leader: node ${leader}, where replica A is connected (B on node 1)`);
    const deliveries: Delivery[] = Array.from({ length: CHANNELS }, (_, i) => {
      const sender = createEventSubSender({
        secret: FLEET_SECRETS.TWITCH_EVENTSUB_SECRET,
        broadcaster: { id: String(100_000 + i), login: `burst_${i}`, name: `Burst_${i}` },
      });
      return { index: i, request: sender.streamOnline({ streamId: streamIdOf(i) }), statuses: [] };
    });

    let answers = 0;
    let killed: Promise<void> | undefined;
    const startedAt = Date.now();
    await inParallel(deliveries, CONCURRENCY, async (delivery) => {
      const replica = replicas[delivery.index % 2]!;
      const response = await deliver(`${replica.url}/webhooks/twitch`, delivery.request);
      await response.arrayBuffer();
      delivery.statuses.push(response.status);
      if (++answers === KILL_AFTER_ANSWERS) killed = cluster.kill(leader);
    });
    await killed;
    const refused = deliveries.filter((delivery) => delivery.statuses[0] !== 204);
    t.diagnostic(`burst answered in ${Date.now() - startedAt} ms: ${CHANNELS - refused.length} x 204, ${refused.length} refused`);
    const unexpected = deliveries.filter((delivery) => delivery.statuses[0] !== 204 && delivery.statuses[0] !== 503);
    assert.deepEqual(unexpected.map((delivery) => delivery.statuses), [], 'a webhook is answered 204 (stored) or 503 (retry), nothing else');

    // Twitch's retries: the same message, Message-Retry one higher, to either replica, until a 2xx.
    const retryUntil = Date.now() + RETRY_FOR_MS;
    let pending = refused;
    for (let attempt = 1; pending.length > 0; attempt++) {
      assert.ok(Date.now() < retryUntil, `${pending.length} webhooks still refused after ${RETRY_FOR_MS} ms of retries: ${JSON.stringify(pending.slice(0, 3).map((d) => d.statuses))}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)));
      await inParallel(pending, CONCURRENCY, async (delivery) => {
        delivery.request = redeliver(delivery.request);
        const response = await deliver(`${replicas[(delivery.index + attempt) % 2]!.url}/webhooks/twitch`, delivery.request);
        await response.arrayBuffer();
        delivery.statuses.push(response.status);
        assert.ok(response.status === 204 || response.status === 503, `a retry answered ${response.status}`);
      });
      pending = pending.filter((delivery) => delivery.statuses.at(-1) !== 204);
    }
    t.diagnostic(`all accepted after retries; most attempts for one webhook: ${Math.max(...deliveries.map((d) => d.statuses.length))}`);

    // The final state, as the public sees it through replica B.
    const b = replicas[1]!;
    const notLive = async () => {
      const wrong: string[] = [];
      await inParallel(deliveries, 40, async ({ index }) => {
        const response = await adminFetch(b, `/api/v1/channels/${channelOf(index)}`);
        const record = (await response.json()) as { status?: string; providers?: { twitch?: { id?: string | null } } };
        if (record.status !== 'live' || record.providers?.twitch?.id !== streamIdOf(index)) wrong.push(`${channelOf(index)}: ${record.status}`);
      });
      return wrong;
    };
    let wrong: string[] = [];
    await eventually(
      async () => {
        wrong = await notLive();
        return wrong.length === 0;
      },
      'every channel LIVE with its own stream id on B',
      30_000,
      { intervalMs: 500 },
    ).catch((error: unknown) => {
      throw new Error(`${wrong.length} channels not LIVE with their stream id: ${wrong.slice(0, 5).join(', ')}`, { cause: error });
    });

    // Applied once: one stored raw event per webhook, one status per channel.
    assert.ok(nc);
    const jsm = await nc.jetstreamManager();
    const raw = await jsm.streams.info(STREAMS.liveRaw.name);
    assert.equal(raw.state.messages, CHANNELS, 'LIVE_RAW holds each webhook once');
    // A status goes out after its channel's state write, and one whose publish failed in the
    // outage goes out on a retry or on the event's redelivery: a channel can read LIVE a moment
    // (in the outage, seconds) before its status is on LIVE_STATUS. So every status is waited
    // for (none may be missing for good), then none may be there twice.
    let counts: number[] = [];
    let missingAtFirstLook: number | undefined;
    const statusesAt = Date.now();
    await eventually(
      async () => {
        const status = await jsm.streams.info(STREAMS.liveStatus.name, { subjects_filter: 'live.status.fleet.>' });
        const perChannel = status.state.subjects ?? {};
        counts = Array.from({ length: CHANNELS }, (_, i) => perChannel[`live.status.fleet.burst-${i}`] ?? 0);
        missingAtFirstLook ??= counts.filter((count) => count === 0).length;
        return counts.every((count) => count > 0);
      },
      'a status on LIVE_STATUS for every channel',
      30_000,
      { intervalMs: 250 },
    ).catch((error: unknown) => {
      const missing = counts.flatMap((count, i) => (count === 0 ? [channelOf(i)] : []));
      throw new Error(`${missing.length} channels LIVE without a status on LIVE_STATUS: ${missing.slice(0, 5).join(', ')}`, { cause: error });
    });
    t.diagnostic(`a status for every channel ${Date.now() - statusesAt} ms after every channel read LIVE (${missingAtFirstLook} without one at the first look)`);
    const notOnce = counts.flatMap((count, i) => (count === 1 ? [] : [`${channelOf(i)}: ${count}`]));
    assert.deepEqual(notOnce, [], 'each channel got exactly one status');
  });
});
