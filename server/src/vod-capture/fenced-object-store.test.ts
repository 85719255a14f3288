import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FilesystemObjectStore } from '../storage/index.js';
import { ArchiveSink } from '../vod-ingest/index.js';
import { FencedObjectStore, FencedWriteError } from './fenced-object-store.js';

describe('FencedObjectStore', () => {
  let root: string;
  let inner: FilesystemObjectStore;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'fenced-store-'));
    inner = new FilesystemObjectStore(root);
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('passes writes through until fenced, then refuses every write (destroying a stream body) and still reads', async () => {
    const store = new FencedObjectStore(inner);
    await store.put('a/one.json', '{"n":1}');
    await store.fence();
    await assert.rejects(store.put('a/two.json', '{}'), FencedWriteError);
    const body = Readable.from([Buffer.from('segment')]);
    await assert.rejects(store.put('a/seg.ts', body), FencedWriteError);
    assert.equal(body.destroyed, true, 'the refused body is not left open');
    await assert.rejects(store.delete('a/one.json'), FencedWriteError);
    await assert.rejects(store.deletePrefix('a/'), FencedWriteError);
    assert.equal((await store.head('a/one.json'))?.size, 7);
    assert.equal(await inner.head('a/two.json'), undefined);
  });

  it('waits for the writes under way before fence() resolves', async () => {
    const store = new FencedObjectStore(inner);
    const body = new PassThrough();
    const writing = store.put('b/slow.ts', body);
    let fenced = false;
    const fencing = store.fence().then(() => {
      fenced = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(fenced, false, 'a write is still under way');
    await assert.rejects(store.put('b/after.ts', 'x'), FencedWriteError, 'refused from the moment fence() was called');
    body.end(Buffer.from('late bytes'));
    await writing;
    await fencing;
    assert.equal((await inner.head('b/slow.ts'))?.size, 10);
  });

  it('leaves an archive following when its writer is fenced: ending it fails and the manifest is unchanged', async () => {
    const store = new FencedObjectStore(inner);
    const clock = { now: () => Date.UTC(2026, 0, 1) };
    const sink = await ArchiveSink.open(store, 'c/', { kind: 'live', source: 'https://origin.example/live.m3u8' }, { clock });
    await store.fence();
    await assert.rejects(sink.end('stop'), FencedWriteError);
    const reopened = await ArchiveSink.open(inner, 'c/', { kind: 'live', source: 'https://origin.example/live.m3u8' }, { clock });
    assert.equal(reopened.head.state, 'following');
  });
});
