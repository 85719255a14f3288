import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createCanonicalId } from '@live-upload/schema';
import { eventually } from '../../../test/support/eventually.js';
import { startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { sourceSegments } from '../../../test/fakes/hls-origin/source-segments.js';
import { FilesystemObjectStore } from '../storage/index.js';
import { ArchiveSink, SEGMENT_FORMATS } from '../vod-ingest/index.js';
import { enqueueVodJob } from './enqueue-vod-job.js';
import { vodArchivePrefix } from './vod-files.js';

describe('replays in the running server (WORKERS default: the vod worker runs)', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  it('an enqueued archive becomes a replay served under /vod with the ladder defaults', async () => {
    const startedMs = Date.now() - 10_000;
    const id = createCanonicalId({ publisher: 'acme', slug: 'morning-show' }, startedMs);
    const media = new FilesystemObjectStore(server.mediaDir);
    const prefix = vodArchivePrefix(id);
    const sink = await ArchiveSink.open(media, prefix, { kind: 'live', source: 'https://origin.example/live.m3u8' }, { clock: { now: () => Date.now() } });
    for (const [sequence, segment] of (await sourceSegments('audio-video', 4)).entries()) {
      const key = await sink.putSegment(sequence, SEGMENT_FORMATS.mpegTs, Readable.from([segment.data]));
      await sink.append({ kind: 'segment', sequence, key, format: SEGMENT_FORMATS.mpegTs, durationS: segment.durationS, bytes: segment.data.length, discontinuity: false, discontinuitySequence: 0 });
    }
    await sink.end('stop');
    const path = id.split(':').slice(1).join('/');
    assert.equal((await server.request(`/vod/${path}/master.m3u8`)).status, 404);
    await enqueueVodJob(server.running.bus, {
      canonical_id: id,
      channel: 'acme/morning-show',
      source: { kind: 'live-archive', archive_prefix: prefix },
      started_at: new Date(startedMs).toISOString(),
      requested_at: new Date().toISOString(),
    });
    const master = await eventually(async () => {
      const response = await server.request(`/vod/${path}/master.m3u8`);
      return response.status === 200 ? response.text() : undefined;
    }, 'the replay served', 30_000, { intervalMs: 100 });
    assert.match(master, /#EXT-X-STREAM-INF:.*RESOLUTION=160x90/);
  });
});
