import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FilesystemObjectStore } from '../storage/index.js';
import type { ArchiveEntry } from './archive-manifest.js';
import { ArchiveSink, readArchive } from './archive-sink.js';

const clock = { now: () => 1_767_268_800_000 };
const segment = (sequence: number): ArchiveEntry => ({
  kind: 'segment',
  sequence,
  key: `segments/${String(sequence).padStart(16, '0')}.ts`,
  format: 'mpeg_ts',
  durationS: 2,
  bytes: 1000,
  discontinuity: false,
  discontinuitySequence: 0,
});

async function entriesOf(store: FilesystemObjectStore, prefix: string): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  for await (const entry of (await readArchive(store, prefix))!.entries()) entries.push(entry);
  return entries;
}

describe('ArchiveSink', () => {
  let root: string;
  let store: FilesystemObjectStore;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'vod-archive-sink-'));
    store = new FilesystemObjectStore(root);
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('writes the manifest in pages with running totals, read back in order', async () => {
    const sink = await ArchiveSink.open(store, 'paged/', { kind: 'live', source: 'https://example.com/live.m3u8' }, { clock, entriesPerPage: 3 });
    for (const sequence of [10, 11, 12, 13]) await sink.append(segment(sequence));
    await sink.append({ kind: 'gap', fromSequence: 14, toSequence: 16, reason: 'missed_refresh', durationS: 6, durationEstimated: true });
    await sink.append(segment(17));
    await sink.append(segment(18));
    await sink.end('stop');

    const archive = await readArchive(store, 'paged/');
    assert.equal(archive!.head.pageCount, 3);
    assert.equal(archive!.head.state, 'ended');
    assert.deepEqual(archive!.totals, { segments: 6, gaps: 1, missingSegments: 3, bytes: 6000, durationS: 12, lastSequence: 18 });
    assert.deepEqual((await entriesOf(store, 'paged/')).map((entry) => (entry.kind === 'segment' ? entry.sequence : `gap ${entry.fromSequence}-${entry.toSequence}`)), [10, 11, 12, 13, 'gap 14-16', 17, 18]);
  });

  it('resumes from the last page; a page written after the head was last written is overwritten, not duplicated', async () => {
    const first = await ArchiveSink.open(store, 'resume/', { kind: 'live', source: 'https://example.com/live.m3u8' }, { clock, entriesPerPage: 2 });
    for (const sequence of [1, 2, 3, 4]) await first.append(segment(sequence));
    // A crash after the third page was written and before the head counted it.
    const head = (await readArchive(store, 'resume/'))!.head;
    await first.append(segment(5));
    await store.put('resume/manifest.json', JSON.stringify(head));

    const second = await ArchiveSink.open(store, 'resume/', { kind: 'live', source: 'ignored' }, { clock, entriesPerPage: 2 });
    assert.equal(second.lastSequence, 4);
    assert.equal(second.head.source, 'https://example.com/live.m3u8');
    await second.append(segment(5));
    await second.append(segment(6));
    assert.deepEqual((await entriesOf(store, 'resume/')).map((entry) => (entry as { sequence: number }).sequence), [1, 2, 3, 4, 5, 6]);
  });

  it('stores segments under their sequence, and a failed body leaves no object', async () => {
    const sink = await ArchiveSink.open(store, 'objects/', { kind: 'vod', source: 'https://example.com/vod.m3u8' }, { clock });
    const key = await sink.putSegment(42, 'mpeg_ts', Readable.from([Buffer.from([0x47, 1, 2, 3])]));
    assert.equal(key, 'segments/0000000000000042.ts');
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024, 0x47));
        this.destroy(new Error('connection reset'));
      },
    });
    await assert.rejects(sink.putSegment(43, 'mpeg_ts', failing), /connection reset/);
    assert.equal(await store.head('objects/segments/0000000000000043.ts'), undefined);
    await sink.fail('not_media', 'segment 44 is HTML');
    assert.deepEqual((await readArchive(store, 'objects/'))!.head.failure, { reason: 'not_media', message: 'segment 44 is HTML' });
  });
});
