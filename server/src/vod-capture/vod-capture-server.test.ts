import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { liveMetadataSchema } from '@live-upload/schema';
import { HlsOrigin } from '../../../test/fakes/hls-origin/hls-origin.js';
import { sourceSegments } from '../../../test/fakes/hls-origin/source-segments.js';
import { eventually } from '../../../test/support/eventually.js';
import { TEST_BROADCASTER, TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { STREAMS, decodeJson } from '../bus/index.js';
import { FilesystemObjectStore } from '../storage/index.js';
import { readArchive } from '../vod-ingest/index.js';
import { VodStore, vodJobSchema } from '../vod-jobs/index.js';
import { vodArchivePrefix } from '../vod-jobs/vod-files.js';
import { VOD_CAPTURE_EVENTS_METRIC, VOD_CAPTURE_FOLLOWING_METRIC } from './index.js';

/** The capture as start-server wires it (WORKERS has vod-capture; the VOD worker is off, so the job stays queued). */
describe('VOD capture in a running server', () => {
  let server: TestServer;
  let origin: HlsOrigin;

  before(async () => {
    origin = await HlsOrigin.start({ clock: { now: () => Date.now() }, segments: await sourceSegments('audio-video', 6) });
    server = await startTestServer({ env: { WORKERS: 'moderation,vod-capture', OUTBOUND_ALLOW_PRIVATE_HOSTS: '127.0.0.1' } });
  });
  after(async () => {
    await server.close();
    await origin.close();
  });

  it('archives the channel\'s own HLS while LIVE and leaves a queued replay and its job at OFFLINE', async () => {
    const response = await server.request(`/api/v1/channels/${TEST_CHANNEL}`, {
      method: 'PUT',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ playback: { hls: origin.liveUrl }, providers: { twitch: { user_id: TEST_BROADCASTER.id, login: TEST_BROADCASTER.login } } }),
    });
    assert.equal(response.status, 200);
    await server.goLive('Wired');
    const canonicalId = await eventually(async () => {
      const record = liveMetadataSchema.parse(await (await server.request(`/api/v1/channels/${TEST_CHANNEL}`)).json());
      return record.status === 'live' && record.canonical_id;
    }, 'LIVE');
    const media = new FilesystemObjectStore(server.mediaDir);
    await eventually(async () => ((await readArchive(media, vodArchivePrefix(canonicalId)))?.totals.segments ?? 0) >= 2, 'two segments archived', 15_000);
    await server.goOffline();
    const vods = await VodStore.open(server.running.bus);
    const record = await eventually(async () => await vods.get(canonicalId), 'the replay record', 15_000);
    assert.equal(record.state, 'queued');
    assert.equal(record.title, 'Wired');
    const jobs = (await server.running.bus.readLatest(STREAMS.vodJobs.name, { limit: 10 })).map((message) => decodeJson(message.data, vodJobSchema));
    assert.deepEqual(jobs.map((job) => job.canonical_id), [canonicalId]);
    assert.equal((await readArchive(media, vodArchivePrefix(canonicalId)))?.head.state, 'ended');
    const listing = (await (await server.request(`/api/v1/channels/${TEST_CHANNEL}/vods`, { admin: true })).json()) as { vods: Array<{ canonical_id: string }> };
    assert.deepEqual(listing.vods.map((vod) => vod.canonical_id), [canonicalId]);

    const registry = server.running.metrics.registry;
    const counted = Object.fromEntries((await registry.getSingleMetric(VOD_CAPTURE_EVENTS_METRIC)!.get()).values.map((sample) => [String(sample.labels['event']), sample.value]));
    assert.deepEqual(counted, { following: 1, enqueued: 1 });
    await eventually(async () => (await registry.getSingleMetric(VOD_CAPTURE_FOLLOWING_METRIC)!.get()).values[0]?.value === 0, 'nothing followed after OFFLINE');
  });
});
