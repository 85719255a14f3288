import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseChannelRef } from '@live-upload/schema';
import { ulid } from 'ulid';
import { eventually } from '../../../test/support/eventually.js';
import { FIXTURE_RUNGS, feedLiveLadder, writeLiveLadderFixture } from '../../../test/support/origin-ladder-fixture.js';
import { openSse, type SseClient } from '../../../test/support/sse-client.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { RawEventIngest } from '../pipeline/index.js';
import { FilesystemObjectStore, type ObjectStore } from '../storage/index.js';
import { VodStore, broadcastKeyPath, vodOutputPrefix, type VodRecord } from '../vod-jobs/index.js';
import { LiveHlsMirror } from './live-hls-mirror.js';
import { originKeyPrefix, originPlaylistPath, type OriginSession } from './origin-session.js';
import { OriginSignalPublisher } from './origin-signals.js';

/**
 * A broadcast of our own origin through the whole product, without WebRTC: a ladder ffmpeg's HLS
 * muxer wrote (what the WHIP session's ffmpeg writes) fed through the mirror, its start and end
 * signalled as the session does -> LIVE with provenance origin on SSE, our playlist served,
 * OFFLINE after the grace window, and the replay published from the same rungs, segments byte
 * for byte (no transcode ran), the live ladder gone from the store after.
 */
describe('an origin broadcast: LIVE, served, OFFLINE after grace, replay from its own ladder', () => {
  let server: TestServer;
  let ladder: string;
  let scratch: string;
  let media: ObjectStore;
  let sse: SseClient;

  before(async () => {
    server = await startTestServer({ graceMs: 500 });
    ladder = await writeLiveLadderFixture(6);
    scratch = await mkdtemp(join(tmpdir(), 'origin-broadcast-'));
    media = new FilesystemObjectStore(server.mediaDir);
    sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
  });
  after(async () => {
    sse?.close();
    await server?.close();
    await rm(ladder, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  it('goes the whole way', async () => {
    const sessionId = ulid();
    const now = new Date().toISOString();
    const session: OriginSession = {
      session_id: sessionId,
      channel: TEST_CHANNEL,
      replica: 'test',
      state: 'connecting',
      grant_id: 'grant',
      created_at: now,
      playlist_path: originPlaylistPath(TEST_CHANNEL, sessionId),
      heartbeat_at: now,
    };
    const signals = new OriginSignalPublisher(new RawEventIngest(server.running.bus, server.running.metrics));
    const mirror = new LiveHlsMirror(media, originKeyPrefix(TEST_CHANNEL, sessionId));
    const names = await feedLiveLadder(ladder, mirror, 3, scratch);

    const liveAt = new Date().toISOString();
    await signals.online({ ...session, state: 'live', live_at: liveAt });
    const live = JSON.parse((await sse.next((event) => event.event === 'status' && JSON.parse(event.data).status === 'live', { timeoutMs: 10_000 })).data) as {
      canonical_id: string;
      playback?: { hls: string };
      sources: Record<string, { provider: string }>;
    };
    assert.equal(live.sources['status']?.provider, 'origin');
    assert.equal(live.playback?.hls, `${server.running.config.publicUrl}${originPlaylistPath(TEST_CHANNEL, sessionId)}`);
    const master = await fetch(live.playback!.hls);
    assert.equal(master.status, 200);
    assert.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    await master.text();

    await mirror.close();
    const endedAt = new Date().toISOString();
    const fromIndex = sse.events.length;
    const offlineSignalledAt = Date.now();
    await signals.offline({ ...session, state: 'ended', live_at: liveAt, ended_at: endedAt, ended_reason: 'deleted' });
    const offline = JSON.parse((await sse.next((event) => event.event === 'status' && JSON.parse(event.data).status === 'offline', { fromIndex, timeoutMs: 10_000 })).data) as { ended_at: string };
    assert.ok(Date.now() - offlineSignalledAt >= 450, 'OFFLINE came after the grace window');
    assert.equal(offline.ended_at, endedAt);

    const vods = await VodStore.open(server.running.bus);
    const published = await eventually(async () => {
      const record = await vods.get(live.canonical_id);
      if (record?.state === 'failed') throw new Error(`the replay failed: ${JSON.stringify(record.failure)}`);
      return record?.state === 'published' ? record : undefined;
    }, 'the replay published', 60_000);
    assertSameRungs(published);
    const replay = vodOutputPrefix(live.canonical_id);
    for (const rung of FIXTURE_RUNGS) {
      for (const [index, name] of names.get(rung)!.entries()) {
        const copied = await readFile(join(server.mediaDir, ...`${replay}${rung}/segment-${String(index).padStart(5, '0')}.m4s`.split('/')));
        assert.deepEqual(copied, await readFile(join(ladder, rung, name)), `${rung}/${name}: the replay's segment is the live one, byte for byte (no transcode)`);
      }
    }
    const vodMaster = await server.request(`/vod/${broadcastKeyPath(live.canonical_id)}/master.m3u8`);
    assert.equal(vodMaster.status, 200);
    assert.match(await vodMaster.text(), /360p\/index\.m3u8/);
    for (const file of ['poster.jpg', 'storyboard.vtt', '360p/index.m3u8']) {
      const response = await server.request(`/vod/${broadcastKeyPath(live.canonical_id)}/${file}`);
      assert.equal(response.status, 200, file);
      const body = Buffer.from(await response.arrayBuffer());
      if (file === '360p/index.m3u8') assert.match(body.toString(), /#EXT-X-ENDLIST/);
      if (file === 'poster.jpg') assert.equal(body.subarray(0, 2).toString('hex'), 'ffd8');
    }
    await eventually(async () => (await media.head(`${originKeyPrefix(TEST_CHANNEL, sessionId)}master.m3u8`)) === undefined, 'the live ladder removed once the replay is made');
  });

  it('with the channel\'s VOD policy off, makes no replay and removes the live ladder once the broadcast ended', async () => {
    const channel = 'acme/quiet';
    await server.running.channels.upsert(parseChannelRef(channel)!, { title: null, providers: {}, vod: 'off' });
    const sessionId = ulid();
    const now = new Date().toISOString();
    const session: OriginSession = {
      session_id: sessionId,
      channel,
      replica: 'test',
      state: 'live',
      grant_id: 'grant',
      created_at: now,
      live_at: now,
      playlist_path: originPlaylistPath(channel, sessionId),
      heartbeat_at: now,
    };
    const quiet = await openSse(`${server.url}/api/v1/live/events?channel=${channel}`);
    try {
      const signals = new OriginSignalPublisher(new RawEventIngest(server.running.bus, server.running.metrics));
      const mirror = new LiveHlsMirror(media, originKeyPrefix(channel, sessionId));
      await feedLiveLadder(ladder, mirror, 3, scratch);
      await signals.online(session);
      const live = JSON.parse((await quiet.next((event) => event.event === 'status' && JSON.parse(event.data).status === 'live')).data) as { canonical_id: string };
      await mirror.close();
      await signals.offline({ ...session, state: 'ended', ended_at: new Date().toISOString() });
      await quiet.next((event) => event.event === 'status' && JSON.parse(event.data).status === 'offline');
      await eventually(async () => (await media.head(`${originKeyPrefix(channel, sessionId)}master.m3u8`)) === undefined, 'the live ladder removed');
      assert.equal(await (await VodStore.open(server.running.bus)).get(live.canonical_id), undefined, 'no replay record');
    } finally {
      quiet.close();
    }
  });
});

function assertSameRungs(record: VodRecord): void {
  assert.deepEqual(record.renditions?.map((rendition) => `${rendition.name} ${rendition.width}x${rendition.height}`), ['360p 640x360', '240p 426x240']);
  assert.ok((record.duration_s ?? 0) >= 5 && (record.duration_s ?? 0) <= 7, `duration ${record.duration_s}`);
  assert.ok(record.renditions!.every((rendition) => rendition.frame_rate === 30 && rendition.codecs.includes('mp4a')), JSON.stringify(record.renditions));
}
