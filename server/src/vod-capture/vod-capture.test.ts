import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, it } from 'node:test';
import { createCanonicalId, liveMetadataSchema, type LiveMetadata } from '@live-upload/schema';
import { HlsOrigin } from '../../../test/fakes/hls-origin/hls-origin.js';
import { sourceSegments } from '../../../test/fakes/hls-origin/source-segments.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { eventually } from '../../../test/support/eventually.js';
import { TEST_BROADCASTER, TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { BUCKETS, STREAMS, SUBJECTS, createNatsBus, decodeJson, encodeJson } from '../bus/index.js';
import { ChannelRegistry } from '../channels/index.js';
import { createLogger } from '../observability/index.js';
import { FilesystemObjectStore } from '../storage/index.js';
import { readArchive, type ArchiveSegmentEntry } from '../vod-ingest/index.js';
import { VodStore, vodJobSchema, type VodJob } from '../vod-jobs/index.js';
import { vodArchivePrefix } from '../vod-jobs/vod-files.js';
import { VodCapture, captureKeyOf, type VodCaptureEvents } from './index.js';

const GRACE_MS = 1_500;

/**
 * The capture against the real pipeline (Twitch webhooks into the test server, the grace window,
 * the canonical LIVE_STATUS stream), a fake HLS origin publishing one ~1 s segment a second on
 * real time, and capture services made here as replicas on the server's bus (the server's own
 * is off: WORKERS=moderation), so each one's following can be counted.
 */
describeEachBus('VOD capture', (bus) => {
  let server: TestServer;
  let origin: HlsOrigin;
  let mediaDir: string;
  let media: FilesystemObjectStore;
  const services: VodCapture[] = [];

  before(async () => {
    origin = await HlsOrigin.start({ clock: { now: () => Date.now() }, segments: await sourceSegments('audio-video', 6), windowSize: 6 });
    server = await startTestServer({ natsUrl: bus.natsUrl(), graceMs: GRACE_MS, env: { WORKERS: 'moderation', OUTBOUND_ALLOW_PRIVATE_HOSTS: '127.0.0.1' } });
    mediaDir = await mkdtemp(join(tmpdir(), 'vod-capture-'));
    media = new FilesystemObjectStore(mediaDir);
  });
  // Each test's replicas are its own: the durable consumer shares status records among all attached.
  beforeEach(async () => {
    for (const service of services.splice(0)) await service.stop();
  });
  after(async () => {
    for (const service of services) await service.stop();
    await server.close();
    await origin.close();
    await rm(mediaDir, { recursive: true, force: true });
  });

  async function setChannel(vod: 'public' | 'unlisted' | 'off', hls = origin.liveUrl): Promise<void> {
    const response = await server.request(`/api/v1/channels/${TEST_CHANNEL}`, {
      method: 'PUT',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ vod, playback: { hls }, providers: { twitch: { user_id: TEST_BROADCASTER.id, login: TEST_BROADCASTER.login } } }),
    });
    assert.ok(response.ok, `channel update answered ${response.status}`);
  }

  /** A capture service (a replica) on the server's bus, with its events counted. */
  async function replica(): Promise<{ service: VodCapture; refreshes: () => number; events: Array<keyof VodCaptureEvents>; skips: string[] }> {
    const service = await VodCapture.open({
      bus: server.running.bus,
      channels: server.running.channels,
      media,
      source: { allowPrivateHosts: new Set(['127.0.0.1']) },
      logger: createLogger({ level: 'silent' }),
      leaseMs: 4_000,
      checkEveryMs: 500,
    });
    let refreshes = 0;
    const events: Array<keyof VodCaptureEvents> = [];
    const skips: string[] = [];
    service.on('refresh', () => refreshes++);
    service.on('skipped', (event) => skips.push(event.reason));
    for (const name of ['following', 'handed-over', 'enqueued', 'recorded', 'skipped'] as const) service.on(name, () => events.push(name));
    services.push(service);
    await service.start();
    return { service, refreshes: () => refreshes, events, skips };
  }

  async function current(): Promise<LiveMetadata> {
    return liveMetadataSchema.parse(await (await server.request(`/api/v1/channels/${TEST_CHANNEL}`)).json());
  }

  async function liveBroadcast(): Promise<string> {
    const record = await eventually(async () => {
      const now = await current();
      return now.status === 'live' && now.canonical_id;
    }, 'the channel to be LIVE');
    return record;
  }

  async function archivedSegments(canonicalId: string): Promise<ArchiveSegmentEntry[]> {
    const archive = await readArchive(media, vodArchivePrefix(canonicalId));
    const segments: ArchiveSegmentEntry[] = [];
    if (!archive) return segments;
    for await (const entry of archive.entries()) if (entry.kind === 'segment') segments.push(entry);
    return segments;
  }

  async function jobsFor(canonicalId: string): Promise<VodJob[]> {
    const messages = await server.running.bus.readLatest(STREAMS.vodJobs.name, { limit: 100 });
    return messages.map((message) => decodeJson(message.data, vodJobSchema)).filter((job) => job.canonical_id === canonicalId);
  }

  async function statusesOf(canonicalId: string): Promise<string[]> {
    const messages = await server.running.bus.readLatest(STREAMS.liveStatus.name, { limit: 500 });
    return messages
      .map((message) => decodeJson(message.data, liveMetadataSchema))
      .filter((record) => record.canonical_id === canonicalId)
      .reverse()
      .map((record) => record.status);
  }

  it('archives a LIVE broadcast as it grows, and at the canonical OFFLINE ends the archive and enqueues one job', async () => {
    await setChannel('unlisted');
    const { events } = await replica();
    await server.goLive('Morning replay');
    const canonicalId = await liveBroadcast();
    const requestsBefore = new Map(origin.segmentRequests);
    const growing = await eventually(async () => {
      const segments = await archivedSegments(canonicalId);
      return segments.length >= 3 && segments;
    }, 'three segments archived', 15_000);
    // The playback URL changed mid-broadcast: the archive keeps its first source (one archive, one origin).
    await setChannel('unlisted', `${origin.baseUrl}/elsewhere/index.m3u8`);
    await eventually(async () => (await current()).playback?.hls.endsWith('/elsewhere/index.m3u8'), 'the new playback URL in the record');
    await eventually(async () => (await archivedSegments(canonicalId)).length >= growing.length + 1, 'the archive to go on from the first URL', 15_000);
    await server.goOffline();
    await eventually(async () => (await jobsFor(canonicalId)).length > 0, 'the VOD job', 15_000);

    const [job, ...more] = await jobsFor(canonicalId);
    assert.equal(more.length, 0, 'one job');
    assert.deepEqual(job!.source, { kind: 'live-archive', archive_prefix: `vod-archives/acme/morning-show/${canonicalId.split(':')[3]}/` });
    assert.equal(job!.channel, TEST_CHANNEL);
    assert.equal(job!.title, 'Morning replay');
    const offline = await current();
    assert.equal(offline.status, 'offline');
    assert.equal(job!.ended_at, offline.ended_at);
    assert.equal(job!.started_at, offline.started_at);

    const archive = await readArchive(media, vodArchivePrefix(canonicalId));
    assert.equal(archive!.head.state, 'ended');
    assert.equal(archive!.head.endedBy, 'stop');
    assert.equal(archive!.head.source, origin.liveUrl);
    const archived = await archivedSegments(canonicalId);
    assert.ok(archived.length >= growing.length);
    for (const entry of archived) assert.equal((origin.segmentRequests.get(entry.sequence) ?? 0) - (requestsBefore.get(entry.sequence) ?? 0), 1, `segment ${entry.sequence} fetched once`);

    const record = await (await VodStore.open(server.running.bus)).get(canonicalId);
    assert.equal(record?.state, 'queued');
    await eventually(async () => (await (await server.running.bus.kv(BUCKETS.vodCaptures)).get(captureKeyOf(canonicalId))) === undefined, 'the capture record to go');
    assert.deepEqual(events.filter((event) => event === 'following' || event === 'enqueued'), ['following', 'enqueued']);
  });

  it('keeps a broadcast that flaps inside the grace window one broadcast, one archive, one job', async () => {
    await setChannel('public');
    await replica();
    await server.goLive('Flappy');
    const canonicalId = await liveBroadcast();
    await eventually(async () => (await archivedSegments(canonicalId)).length >= 1, 'a segment archived', 15_000);
    await server.goOffline();
    await server.goLive();
    // Past the grace window by the archive's own clock: three more segments take three seconds.
    const before = (await archivedSegments(canonicalId)).length;
    await eventually(async () => (await archivedSegments(canonicalId)).length >= before + 3, 'the archive to go on growing past the grace window', 15_000);
    const still = await current();
    assert.equal(still.status, 'live');
    assert.equal(still.canonical_id, canonicalId, 'the same broadcast');
    assert.ok(!(await statusesOf(canonicalId)).includes('offline'), 'no OFFLINE inside the grace window');

    await server.goOffline();
    await eventually(async () => (await jobsFor(canonicalId)).length > 0, 'the VOD job', 15_000);
    assert.equal((await jobsFor(canonicalId)).length, 1);
    assert.deepEqual((await statusesOf(canonicalId)).filter((status) => status === 'offline'), ['offline']);
    const page = await (await VodStore.open(server.running.bus)).list(TEST_CHANNEL);
    assert.equal(page.vods.filter((vod) => vod.canonical_id === canonicalId).length, 1);
  });

  it('archives nothing for a channel whose VOD policy is off', async () => {
    await setChannel('off');
    const { events, refreshes, skips } = await replica();
    const requestsBefore = [...origin.segmentRequests.values()].reduce((sum, count) => sum + count, 0);
    await server.goLive('Not kept');
    const canonicalId = await liveBroadcast();
    await eventually(() => events.includes('skipped'), 'the LIVE record to be skipped');
    assert.deepEqual([...new Set(skips)], ['policy-off']);
    await server.goOffline();
    await eventually(async () => (await current()).status === 'offline', 'OFFLINE', 10_000);
    assert.equal(await readArchive(media, vodArchivePrefix(canonicalId)), undefined, 'no archive');
    assert.equal((await (await server.running.bus.kv(BUCKETS.vodCaptures)).get(captureKeyOf(canonicalId))), undefined, 'no capture record');
    assert.equal((await jobsFor(canonicalId)).length, 0, 'no job');
    assert.equal(refreshes(), 0);
    assert.equal([...origin.segmentRequests.values()].reduce((sum, count) => sum + count, 0), requestsBefore, 'the origin was not asked');
  });

  it('lets one replica of two follow a broadcast, and the other resume the archive when it stops, without fetching a segment again', async () => {
    await setChannel('unlisted');
    const a = await replica();
    const b = await replica();
    // The origin's one broadcast runs across the tests: count this test's requests only.
    const requestsBefore = new Map(origin.segmentRequests);
    await server.goLive('Two replicas');
    const canonicalId = await liveBroadcast();
    await eventually(async () => (await archivedSegments(canonicalId)).length >= 3, 'three segments archived', 15_000);
    const [holder, standby] = a.refreshes() > 0 ? [a, b] : [b, a];
    assert.ok(holder.refreshes() > 0);
    assert.equal(standby.refreshes(), 0, 'the other replica never loaded the playlist');
    assert.deepEqual(holder.service.following, [canonicalId]);
    assert.deepEqual(standby.service.following, []);

    await holder.service.stop();
    const byFirst = await archivedSegments(canonicalId);
    const holderRefreshes = holder.refreshes();
    await eventually(() => standby.events.includes('following'), 'the other replica to take over', 10_000);
    const last = byFirst.at(-1)!.sequence;
    await eventually(async () => (await archivedSegments(canonicalId)).some((entry) => entry.sequence >= last + 2), 'the resumed archive to grow', 15_000);
    assert.equal(holder.refreshes(), holderRefreshes, 'the stopped replica loads nothing more');
    assert.ok(standby.refreshes() > 0);

    await server.goOffline();
    await eventually(async () => (await jobsFor(canonicalId)).length > 0, 'the VOD job', 15_000);
    const archived = await archivedSegments(canonicalId);
    const sequences = archived.map((entry) => entry.sequence);
    assert.deepEqual(sequences, [...new Set(sequences)].sort((x, y) => x - y), 'each sequence once, in order');
    const requests = (sequence: number) => (origin.segmentRequests.get(sequence) ?? 0) - (requestsBefore.get(sequence) ?? 0);
    for (const entry of byFirst) assert.equal(requests(entry.sequence), 1, `segment ${entry.sequence} (archived before the hand-over) fetched once`);
    assert.equal((await readArchive(media, vodArchivePrefix(canonicalId)))!.head.state, 'ended');
    assert.ok(standby.events.includes('enqueued'));
    assert.ok(!holder.events.includes('enqueued'));
  });

  it('starts no capture for a LIVE record that is not its channel\'s current broadcast (the consumer replaying old history)', async () => {
    const ref = { publisher: 'acme', slug: 'stale-show' };
    const created = await server.request('/api/v1/channels/acme/stale-show', {
      method: 'PUT',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ vod: 'public', playback: { hls: origin.liveUrl }, providers: {} }),
    });
    assert.equal(created.status, 201);
    const { events, refreshes, skips } = await replica();
    const placeholder = liveMetadataSchema.parse(await (await server.request('/api/v1/channels/acme/stale-show')).json());
    const canonicalId = createCanonicalId(ref, Date.now() - 3 * 24 * 3600 * 1000);
    const stale: LiveMetadata = { ...placeholder, status: 'live', canonical_id: canonicalId, started_at: new Date(Date.now() - 3 * 24 * 3600 * 1000).toISOString(), seq: 1 };
    await server.running.bus.publish(SUBJECTS.liveStatus(ref), encodeJson(stale));
    await eventually(() => events.includes('skipped'), 'the stale LIVE record to be skipped');
    assert.deepEqual(skips, ['not-current']);
    assert.equal(await (await server.running.bus.kv(BUCKETS.vodCaptures)).get(captureKeyOf(canonicalId)), undefined);
    assert.equal(await readArchive(media, vodArchivePrefix(canonicalId)), undefined);
    assert.equal(refreshes(), 0);
  });

  it('ends a capture whose OFFLINE it never saw: the holder finds the broadcast no longer live and enqueues its job', async () => {
    const { events } = await replica();
    // A capture record left behind (its OFFLINE lost in a race): the channel is offline now.
    const canonicalId = createCanonicalId({ publisher: 'acme', slug: 'morning-show' }, Date.now() - 60_000);
    const record = {
      canonical_id: canonicalId,
      channel: TEST_CHANNEL,
      url: origin.liveUrl,
      archive_prefix: vodArchivePrefix(canonicalId),
      state: 'following',
      started_at: new Date(Date.now() - 60_000).toISOString(),
      updated_at: new Date().toISOString(),
    };
    await (await server.running.bus.kv(BUCKETS.vodCaptures)).create(captureKeyOf(canonicalId), encodeJson(record));
    await eventually(async () => (await jobsFor(canonicalId)).length > 0, 'the VOD job of the orphaned capture', 15_000);
    assert.ok(events.includes('following') && events.includes('enqueued'));
    const [job] = await jobsFor(canonicalId);
    assert.ok(job!.ended_at, 'an end time');
    assert.equal((await readArchive(media, vodArchivePrefix(canonicalId)))!.head.state, 'ended');
    await eventually(async () => (await (await server.running.bus.kv(BUCKETS.vodCaptures)).get(captureKeyOf(canonicalId))) === undefined, 'the capture record to go');
  });

  // A replica that loses the bus (its process hung, its network cut) without giving the lease back:
  // its own lease runs out and it fences its writes; the other takes over once the lease expired
  // (plus the clock skew) and resumes the archive. Real NATS only: a bus of its own to cut.
  if (bus.kind === 'nats') {
    it('hands a broadcast over when its holder loses the bus: the holder fences itself, the other resumes after the lease runs out', async () => {
      await setChannel('unlisted');
      const cutBus = await createNatsBus({ url: bus.natsUrl()!, name: 'vod-capture-cut-replica' });
      const cut = await VodCapture.open({
        bus: cutBus,
        channels: await ChannelRegistry.open(cutBus),
        media,
        source: { allowPrivateHosts: new Set(['127.0.0.1']) },
        logger: createLogger({ level: 'silent' }),
        leaseMs: 3_000,
        checkEveryMs: 500,
      });
      const cutEvents: Array<keyof VodCaptureEvents> = [];
      for (const name of ['following', 'handed-over', 'enqueued'] as const) cut.on(name, () => cutEvents.push(name));
      await cut.start();
      try {
        await server.goLive('Cut replica');
        const canonicalId = await liveBroadcast();
        await eventually(() => cutEvents.includes('following'), 'the first replica to follow');
        await eventually(async () => (await archivedSegments(canonicalId)).length >= 2, 'two segments archived', 15_000);
        const other = await replica();
        await cutBus.close();
        await eventually(() => cutEvents.includes('handed-over'), 'the cut replica to step down when its lease ran out', 10_000);
        await eventually(() => other.events.includes('following'), 'the other replica to take over', 15_000);
        const byCut = await archivedSegments(canonicalId);
        const last = byCut.at(-1)!.sequence;
        await eventually(async () => (await archivedSegments(canonicalId)).some((entry) => entry.sequence >= last + 2), 'the resumed archive to grow', 15_000);
        await server.goOffline();
        await eventually(async () => (await jobsFor(canonicalId)).length > 0, 'the VOD job', 15_000);
        const sequences = (await archivedSegments(canonicalId)).map((entry) => entry.sequence);
        assert.deepEqual(sequences, [...new Set(sequences)].sort((x, y) => x - y), 'each sequence once, in order');
        assert.equal((await readArchive(media, vodArchivePrefix(canonicalId)))!.head.state, 'ended');
        assert.ok(other.events.includes('enqueued'));
        assert.ok(!cutEvents.includes('enqueued'));
      } finally {
        await cut.stop().catch(() => undefined);
      }
    });
  }
});
