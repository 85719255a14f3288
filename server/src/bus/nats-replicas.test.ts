import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NatsError, StorageType, connect } from 'nats';
import { startNatsCluster, type NatsClusterHandle } from '../../../test/support/nats-cluster.js';
import { eventually } from '../../../test/support/eventually.js';
import { startNatsServer, type NatsServerHandle } from '../../../test/support/nats-server.js';
import { ConfigError, loadConfig } from '../config.js';
import { startServer } from '../start-server.js';
import type { StreamConfig } from './bus.js';
import { createNatsBus } from './nats.js';
import { BusReplicasError, replicasError } from './nats-replicas.js';
import { toJetStreamConfig } from './nats-streams.js';

const STREAM: StreamConfig = { name: 'REPLICA_T', subjects: ['replica.t.>'], retention: 'limits', maxAgeMs: 60_000, duplicateWindowMs: 10_000 };

/** A NatsError as nats.js builds it from a JetStream API error reply. */
function jetStreamError(errCode: number, description: string): NatsError {
  const err = new NatsError(description, '500');
  err.api_error = { code: 500, err_code: errCode, description };
  return err;
}

let counter = 0;
const unique = (prefix: string): string => `${prefix}${process.pid.toString(36)}${Date.now().toString(36)}${counter++}`.toUpperCase();

describe('bus replica count', () => {
  describe('toJetStreamConfig', () => {
    it('keeps one replica unless told otherwise', () => {
      assert.equal(toJetStreamConfig(STREAM).num_replicas, 1);
    });

    it('asks JetStream for the configured number of replicas', () => {
      assert.equal(toJetStreamConfig(STREAM, 3).num_replicas, 3);
      assert.equal(toJetStreamConfig(STREAM, 5).num_replicas, 5);
    });
  });

  describe('replicasError', () => {
    const single = { cluster: undefined, connect_urls: undefined };

    it('says a single server is not clustered (10074)', () => {
      const mapped = replicasError(jetStreamError(10074, 'replicas > 1 not supported in non-clustered mode'), single, 3, 'nats://one:4222');
      assert.ok(mapped instanceof BusReplicasError);
      assert.equal(mapped.replicas, 3);
      assert.match(mapped.message, /^3 replicas of each stream and KV bucket cannot be met: the NATS server at nats:\/\/one:4222 is not clustered: it runs JetStream on 1 server/);
    });

    it('says a cluster is too small, with the servers it advertises (10005 and 10023)', () => {
      const cluster = { cluster: 'east', connect_urls: ['a:4222', 'b:4222', 'c:4222'] };
      for (const code of [10005, 10023]) {
        const mapped = replicasError(jetStreamError(code, 'no suitable peers for placement'), cluster, 5, 'nats://a:4222');
        assert.ok(mapped instanceof BusReplicasError, `code ${code}`);
        assert.match(mapped.message, /the NATS cluster east at nats:\/\/a:4222 has fewer than 5 JetStream servers with room for a stream; it advertises 3 servers/);
      }
    });

    it('passes every other error through unchanged', () => {
      const other = jetStreamError(10059, 'stream not found');
      assert.equal(replicasError(other, single, 3, 'x'), other);
      const plain = new Error('socket closed');
      assert.equal(replicasError(plain, single, 3, 'x'), plain);
    });
  });

  describe('createNatsBus', () => {
    it('refuses a count JetStream cannot have, before connecting', async () => {
      for (const replicas of [0, 6, 2.5, -1, Number.NaN]) {
        await assert.rejects(createNatsBus({ url: 'nats://127.0.0.1:1', replicas }), RangeError, `replicas ${replicas}`);
      }
    });
  });

  describe('on a single nats-server', { timeout: 60_000 }, () => {
    let server: NatsServerHandle;
    let cwd: string;

    before(async () => {
      server = await startNatsServer();
      cwd = await mkdtemp(join(tmpdir(), 'live-upload-replicas-'));
    });

    after(async () => {
      await server?.stop();
      if (cwd) await rm(cwd, { recursive: true, force: true });
    });

    it('BUS_REPLICAS=3 fails the start with a ConfigError that says the server is not clustered', async () => {
      const config = loadConfig({ NODE_ENV: 'test', NATS_URL: server.url, BUS_REPLICAS: '3', PORT: '0' }, cwd);
      assert.equal(config.busReplicas, 3);
      await assert.rejects(startServer(config), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, 'BUS_REPLICAS');
        assert.match(error.message, /^invalid environment variable BUS_REPLICAS: is 3 but the NATS server at nats:\/\/127\.0\.0\.1:\d+ is not clustered: it runs JetStream on 1 server, which keeps 1 replica/);
        assert.match(error.message, /set BUS_REPLICAS to at most the number of JetStream servers/);
        return true;
      });
    });

    it('leaves no probe stream behind, and one replica works as before', async () => {
      await assert.rejects(createNatsBus({ url: server.url, replicas: 2 }), BusReplicasError);
      const bus = await createNatsBus({ url: server.url, replicas: 1 });
      try {
        const name = unique('single');
        await bus.ensureStreams([{ ...STREAM, name, subjects: [`${name.toLowerCase()}.>`] }]);
        await bus.kv(name.toLowerCase());
      } finally {
        await bus.close();
      }
      const nc = await connect({ servers: server.url });
      try {
        const jsm = await nc.jetstreamManager();
        const names: string[] = [];
        for await (const stream of jsm.streams.list()) names.push(stream.config.name);
        assert.ok(!names.some((n) => n.includes('PROBE')), `streams: ${names.join(', ')}`);
      } finally {
        await nc.close();
      }
    });
  });

  describe('on a three-node cluster', { timeout: 120_000 }, () => {
    let cluster: NatsClusterHandle;

    before(async () => {
      cluster = await startNatsCluster();
    });

    after(async () => {
      await cluster?.stop();
    });

    async function streamReplicas(name: string): Promise<{ configured: number; peers: number }> {
      const nc = await connect({ servers: cluster.urls[0]! });
      try {
        const info = await (await nc.jetstreamManager()).streams.info(name);
        return { configured: info.config.num_replicas, peers: 1 + (info.cluster?.replicas?.length ?? 0) };
      } finally {
        await nc.close();
      }
    }

    it('BUS_REPLICAS=3 creates streams and KV buckets with three replicas', async () => {
      const bus = await createNatsBus({ url: cluster.serversFrom(0), replicas: 3 });
      try {
        const name = unique('rthree');
        await bus.ensureStreams([{ ...STREAM, name, subjects: [`${name.toLowerCase()}.>`] }]);
        await bus.kv(`${name.toLowerCase()}-kv`);
        for (const stream of [name, `KV_${name.toLowerCase()}-kv`]) {
          assert.equal((await streamReplicas(stream)).configured, 3, stream);
          // The raft group lists its followers once they have joined.
          await eventually(async () => (await streamReplicas(stream)).peers === 3, `three peers of ${stream}`);
        }
      } finally {
        await bus.close();
      }
    });

    it('re-replicates existing one-replica streams and buckets when the count goes to three', async () => {
      const name = unique('grow');
      const config = { ...STREAM, name, subjects: [`${name.toLowerCase()}.>`] };
      const before = await createNatsBus({ url: cluster.serversFrom(1) });
      try {
        await before.ensureStreams([config]);
        const kv = await before.kv(`${name.toLowerCase()}-kv`);
        await kv.put('kept', new TextEncoder().encode('yes'));
        await before.publish(`${name.toLowerCase()}.one`, new TextEncoder().encode('stored'));
        // A durable consumer made at one replica: the work a replica picks up goes through it.
        await (await before.consume({ stream: name, durable: 'worker', filterSubject: `${name.toLowerCase()}.none` }, () => undefined)).stop();
      } finally {
        await before.close();
      }
      assert.deepEqual(await streamReplicas(name), { configured: 1, peers: 1 });

      const logged: string[] = [];
      const logger = { info: (_fields: object, message: string) => void logged.push(message), warn: () => undefined };
      const after = await createNatsBus({ url: cluster.serversFrom(2), replicas: 3, logger });
      try {
        await after.ensureStreams([config]);
        const kv = await after.kv(`${name.toLowerCase()}-kv`);
        assert.equal(new TextDecoder().decode((await kv.get('kept'))?.value), 'yes');
        assert.equal((await streamReplicas(name)).configured, 3);
        assert.equal((await streamReplicas(`KV_${name.toLowerCase()}-kv`)).configured, 3);
        assert.ok(logged.includes('updated JetStream stream: replica count changed'), logged.join('; '));
        assert.ok(logged.includes('updated JetStream KV bucket: replica count changed'), logged.join('; '));
        const [stored] = await after.readLatest(name, { limit: 1 });
        assert.equal(new TextDecoder().decode(stored?.data), 'stored');
        // Its consumers follow the stream (they inherit its count): none is left on one node.
        await eventually(async () => {
          const nc = await connect({ servers: cluster.urls[0]! });
          try {
            const info = await (await nc.jetstreamManager()).consumers.info(name, 'worker');
            return 1 + (info.cluster?.replicas?.length ?? 0) === 3;
          } finally {
            await nc.close();
          }
        }, 'the durable consumer on three nodes');
      } finally {
        await after.close();
      }
    });

    it('a probe stream left with another count by a check that crashed does not block the start', async () => {
      const nc = await connect({ servers: cluster.urls[0]! });
      try {
        const jsm = await nc.jetstreamManager();
        await jsm.streams.add({ name: 'LIVE_UPLOAD_REPLICA_PROBE', subjects: ['_live_upload.replica_probe'], storage: StorageType.Memory, num_replicas: 2 });
        const bus = await createNatsBus({ url: cluster.serversFrom(0), replicas: 3 });
        await bus.close();
        await assert.rejects(jsm.streams.info('LIVE_UPLOAD_REPLICA_PROBE'), /stream not found/);
      } finally {
        await nc.close();
      }
    });

    it('two replicas checking at the same moment both start (JetStream answers neither the add nor the delete of a probe being placed)', async () => {
      for (let round = 0; round < 2; round++) {
        const buses = await Promise.all([createNatsBus({ url: cluster.serversFrom(0), replicas: 3 }), createNatsBus({ url: cluster.serversFrom(1), replicas: 3 })]);
        await Promise.all(buses.map((bus) => bus.close()));
      }
    });

    it('BUS_REPLICAS=5 on three servers is refused with the size of the cluster', async () => {
      await assert.rejects(createNatsBus({ url: cluster.serversFrom(0), replicas: 5 }), (error: unknown) => {
        assert.ok(error instanceof BusReplicasError);
        assert.match(error.message, /^5 replicas of each stream and KV bucket cannot be met: the NATS cluster live-upload-test at .* has fewer than 5 JetStream servers with room for a stream; it advertises 3 servers/);
        return true;
      });
    });
  });
});
