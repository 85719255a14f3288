/**
 * Issue 20: two replicas of the server (the real entry point, two processes) on different nodes
 * of a three-node NATS cluster, every stream and bucket in three copies. A signed Twitch webhook
 * that replica A accepts reaches the SSE subscribers of replica B, and the other way round.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STREAMS } from '../../server/src/bus/subjects.js';
import { createEventSubSender, deliver } from '../fakes/twitch/eventsub.js';
import type { MainProcess } from '../support/main-process.js';
import { startNatsCluster, type NatsClusterHandle } from '../support/nats-cluster.js';
import { openSse, type SseClient } from '../support/sse-client.js';
import { FLEET_SECRETS, createTwitchChannel, startReplicas, stopReplica } from './fleet.js';

const CHANNEL = 'acme/fleet-webhook';
const BROADCASTER = { id: '7001', login: 'acme_fleet', name: 'Acme_Fleet' } as const;

interface StatusRecord {
  readonly channel: string;
  readonly status: string;
  readonly title: string | null;
  readonly providers: { readonly twitch?: { readonly id: string | null } };
}

describe('a fleet of two replicas on a three-node NATS cluster: webhooks', () => {
  let cluster: NatsClusterHandle;
  let a: MainProcess | undefined;
  let b: MainProcess | undefined;
  let onA: SseClient | undefined;
  let onB: SseClient | undefined;
  const twitch = createEventSubSender({ secret: FLEET_SECRETS.TWITCH_EVENTSUB_SECRET, broadcaster: BROADCASTER });

  before(async () => {
    cluster = await startNatsCluster();
    ({ a, b } = await startReplicas(cluster, { OFFLINE_GRACE_MS: '300', COALESCE_MS: '50' }));
    await createTwitchChannel(a, CHANNEL, BROADCASTER.id, BROADCASTER.login);
    onA = await openSse(`${a.url}/api/v1/live/events?channel=${CHANNEL}`);
    onB = await openSse(`${b.url}/api/v1/live/events?channel=${CHANNEL}`);
    await Promise.all([onA.next((event) => event.event === 'snapshot'), onB.next((event) => event.event === 'snapshot')]);
  });
  after(async () => {
    onA?.close();
    onB?.close();
    await Promise.all([stopReplica(a), stopReplica(b)]);
    await cluster?.stop();
  });

  const statusOn = (sse: SseClient, match: (record: StatusRecord) => boolean, fromIndex: number) =>
    sse.next(
      (event) => {
        if (event.event !== 'status') return false;
        const record = JSON.parse(event.data) as StatusRecord;
        return record.channel === CHANNEL && match(record);
      },
      { fromIndex, timeoutMs: 10_000 },
    );

  it('keeps three copies of the streams the webhooks go through (BUS_REPLICAS=3)', async () => {
    for (const stream of [STREAMS.liveRaw.name, STREAMS.liveStatus.name, STREAMS.liveTimers.name]) {
      assert.equal(await cluster.streamReplicas(stream), 3, stream);
    }
  });

  it('a stream.online accepted by A shows LIVE to the subscribers of B (and of A)', async () => {
    assert.ok(a && onA && onB);
    const fromA = onA.events.length;
    const fromB = onB.events.length;
    const response = await deliver(`${a.url}/webhooks/twitch`, twitch.streamOnline({ streamId: 'fleet-stream-1' }));
    assert.equal(response.status, 204, await response.text());
    const live = (record: StatusRecord) => record.status === 'live' && record.providers.twitch?.id === 'fleet-stream-1';
    await Promise.all([statusOn(onB, live, fromB), statusOn(onA, live, fromA)]);
  });

  it('a title update accepted by B shows on A', async () => {
    assert.ok(b && onA);
    const fromA = onA.events.length;
    const response = await deliver(`${b.url}/webhooks/twitch`, twitch.channelUpdate({ title: 'Accepted by B' }));
    assert.equal(response.status, 204, await response.text());
    await statusOn(onA, (record) => record.title === 'Accepted by B', fromA);
  });
});
