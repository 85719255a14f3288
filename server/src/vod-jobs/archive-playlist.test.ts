import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FilesystemObjectStore } from '../storage/index.js';
import { ArchiveSink, GAP_REASONS, SEGMENT_FORMATS, readArchive, type ArchiveSegmentEntry } from '../vod-ingest/index.js';
import { materializeArchive } from './archive-playlist.js';

const clock = { now: () => 1_767_268_800_000 };

describe('materializeArchive', () => {
  let root: string;
  let store: FilesystemObjectStore;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'live-upload-archive-playlist-'));
    store = new FilesystemObjectStore(join(root, 'store'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('lists every segment, breaks the timeline at gaps, source discontinuities, missing objects and init changes, and maps init sections', async () => {
    const sink = await ArchiveSink.open(store, 'a/', { kind: 'live', source: 'https://origin.example/live.m3u8' }, { clock });
    const firstInit = await sink.putInit('https://origin.example/init-1.mp4', Readable.from(['init one']));
    const secondInit = await sink.putInit('https://origin.example/init-2.mp4', Readable.from(['init two']));
    const segment = async (sequence: number, extra: Partial<ArchiveSegmentEntry> = {}) => {
      const key = await sink.putSegment(sequence, SEGMENT_FORMATS.fragmentedMp4, Readable.from([`segment ${sequence}`]));
      await sink.append({ kind: 'segment', sequence, key, format: SEGMENT_FORMATS.fragmentedMp4, durationS: 2.5, bytes: 9, discontinuity: false, discontinuitySequence: 0, initKey: firstInit, ...extra });
      return key;
    };
    await sink.append({ kind: 'gap', fromSequence: 0, toSequence: 0, reason: GAP_REASONS.missedRefresh, durationS: 2, durationEstimated: true });
    await segment(1);
    await segment(2);
    await sink.append({ kind: 'gap', fromSequence: 3, toSequence: 4, reason: GAP_REASONS.segmentUnavailable, durationS: 5, durationEstimated: false });
    await segment(5);
    await segment(6, { discontinuity: true, discontinuitySequence: 1 });
    const lost = await segment(7);
    await store.delete(`a/${lost}`);
    await segment(8);
    await segment(9, { initKey: secondInit });
    await sink.end('stop');

    const out = join(root, 'local');
    const local = await materializeArchive(store, 'a/', (await readArchive(store, 'a/'))!, out);
    assert.deepEqual({ segments: local.segments, durationS: local.durationS, discontinuities: local.discontinuities }, { segments: 6, durationS: 15, discontinuities: 4 });
    const lines = (await readFile(local.playlist, 'utf8')).trim().split('\n');
    const name = (sequence: number) => `${String(sequence).padStart(16, '0')}.m4s`;
    assert.deepEqual(lines, [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:3',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXT-X-MAP:URI="init-0000.mp4"',
      '#EXTINF:2.500000,', name(1),
      '#EXTINF:2.500000,', name(2),
      '#EXT-X-DISCONTINUITY',
      '#EXTINF:2.500000,', name(5),
      '#EXT-X-DISCONTINUITY',
      '#EXTINF:2.500000,', name(6),
      '#EXT-X-DISCONTINUITY',
      '#EXTINF:2.500000,', name(8),
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-MAP:URI="init-0001.mp4"',
      '#EXTINF:2.500000,', name(9),
      '#EXT-X-ENDLIST',
    ]);
    assert.equal(await readFile(join(out, 'init-0001.mp4'), 'utf8'), 'init two');
    assert.equal(await readFile(join(out, name(6)), 'utf8'), 'segment 6');
    assert.equal((await readdir(out)).length, 6 + 2 + 1);
  });

  it('stops between files when aborted', async () => {
    const sink = await ArchiveSink.open(store, 'b/', { kind: 'live', source: 'https://origin.example/live.m3u8' }, { clock });
    const key = await sink.putSegment(0, SEGMENT_FORMATS.mpegTs, Readable.from(['x']));
    await sink.append({ kind: 'segment', sequence: 0, key, format: SEGMENT_FORMATS.mpegTs, durationS: 1, bytes: 1, discontinuity: false, discontinuitySequence: 0 });
    await sink.end('stop');
    await assert.rejects(materializeArchive(store, 'b/', (await readArchive(store, 'b/'))!, join(root, 'aborted'), { signal: AbortSignal.abort() }), { name: 'AbortError' });
  });
});
