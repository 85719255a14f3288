/**
 * The three-node cluster the fleet tests run on is a real JetStream cluster: a stream with three
 * replicas keeps what it acknowledged when its leader is killed, another node takes over, and
 * the killed node comes back on the same ports and store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, StorageType, type NatsConnection } from 'nats';
import { eventually } from '../support/eventually.js';
import { startNatsCluster, type NatsClusterHandle } from '../support/nats-cluster.js';

const STREAM = 'CLUSTER_SUPPORT';

describe('test support: a three-node NATS cluster', () => {
  let cluster: NatsClusterHandle;
  let nc: NatsConnection | undefined;

  before(async () => {
    cluster = await startNatsCluster();
  });
  after(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  it('has three nodes with their own client URLs and a JetStream meta leader', () => {
    assert.equal(new Set(cluster.urls).size, 3);
    assert.deepEqual(cluster.names, ['n0', 'n1', 'n2']);
    assert.equal(cluster.serversFrom(1), [cluster.urls[1], cluster.urls[0], cluster.urls[2]].join(','));
  });

  it('keeps an R3 stream through the SIGKILL of its leader and brings the node back', async () => {
    nc = await connect({ servers: [...cluster.urls], maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: STREAM, subjects: ['support.>'], num_replicas: 3, storage: StorageType.File });
    const js = nc.jetstream();
    for (let i = 0; i < 10; i++) await js.publish('support.before', new TextEncoder().encode(String(i)), { msgID: `before-${i}` });

    const leader = await eventually(() => cluster.streamLeader(STREAM), 'the stream to have a leader');
    await cluster.kill(leader);
    const next = await eventually(
      async () => {
        const now = await cluster.streamLeader(STREAM).catch(() => undefined);
        return now !== undefined && now !== leader ? now : undefined;
      },
      'another node to lead the stream',
      20_000,
      { intervalMs: 100 },
    );
    assert.notEqual(next, leader);
    await eventually(
      async () => {
        try {
          await js.publish('support.after', new TextEncoder().encode('after'), { msgID: 'after-0', timeout: 1_000 });
          return true;
        } catch {
          return false;
        }
      },
      'a publish to be acknowledged by the remaining two nodes',
      20_000,
      { intervalMs: 100 },
    );
    assert.equal((await jsm.streams.info(STREAM)).state.messages, 11, 'nothing acknowledged was lost, nothing stored twice');

    await cluster.restart(leader);
    await cluster.waitForJetStreamMeta();
    await eventually(
      async () => {
        const info = await jsm.streams.info(STREAM);
        const replicas = info.cluster?.replicas ?? [];
        return replicas.length === 2 && replicas.every((replica) => replica.current) ? true : undefined;
      },
      'the restarted node to catch up as a current replica',
      20_000,
      { intervalMs: 200 },
    );
  });
});
