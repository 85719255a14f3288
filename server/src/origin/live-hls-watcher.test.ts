import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LiveHlsSink } from './origin-session.js';
import { LiveHlsWatcher, playlistUris } from './live-hls-watcher.js';

/** A sink that keeps each file's bytes as they were when handed over. */
class RecordingSink implements LiveHlsSink {
  readonly handed: { path: string; text: string }[] = [];
  async fileWritten(relativePath: string, absolutePath: string): Promise<void> {
    this.handed.push({ path: relativePath, text: await readFile(absolutePath, 'utf8') });
  }
  async close(): Promise<void> {}
}

const playlist = (segments: number[], end = false) =>
  ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MAP:URI="init_0.mp4"', ...segments.flatMap((n) => ['#EXTINF:2.000,', `seg-${n}.m4s`]), ...(end ? ['#EXT-X-ENDLIST'] : [])].join('\n');
const master = '#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_audio",NAME="audio",URI="audio/index.m3u8"\n#EXT-X-STREAM-INF:BANDWIDTH=1000000\n360p/index.m3u8\n';

describe('LiveHlsWatcher', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'live-hls-watcher-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('hands segments before the playlist that lists them, the master after the playlists it names, and never a .tmp file', async () => {
    const dir = join(root, 'hls');
    const sink = new RecordingSink();
    let playable = 0;
    const watcher = new LiveHlsWatcher(dir, join(root, 'snapshots'), sink, { onPlayable: () => (playable += 1) });
    for (const rung of ['360p', 'audio']) await mkdir(join(dir, rung), { recursive: true });
    await writeFile(join(dir, '360p', 'init_0.mp4'), 'init');
    await writeFile(join(dir, '360p', 'seg-0.m4s.tmp'), 'partial');
    await writeFile(join(dir, 'master.m3u8'), master);
    await watcher.scan();
    assert.equal(sink.handed.length, 0, 'an init segment alone, a .tmp segment and a master naming nothing handed yet');

    await rename(join(dir, '360p', 'seg-0.m4s.tmp'), join(dir, '360p', 'seg-0.m4s'));
    // The playlist names a segment that is not there yet: it waits.
    await writeFile(join(dir, '360p', 'index.m3u8'), playlist([0, 1]));
    await watcher.scan();
    assert.deepEqual(sink.handed.map((file) => file.path), ['360p/init_0.mp4', '360p/seg-0.m4s']);

    await writeFile(join(dir, '360p', 'seg-1.m4s'), 'one');
    await writeFile(join(dir, 'audio', 'init_0.mp4'), 'init');
    await writeFile(join(dir, 'audio', 'seg-0.m4s'), 'a0');
    await writeFile(join(dir, 'audio', 'seg-1.m4s'), 'a1');
    await writeFile(join(dir, 'audio', 'index.m3u8'), playlist([0, 1]));
    await watcher.scan();
    assert.deepEqual(sink.handed.slice(2).map((file) => file.path), ['360p/seg-1.m4s', '360p/index.m3u8', 'audio/init_0.mp4', 'audio/seg-0.m4s', 'audio/seg-1.m4s', 'audio/index.m3u8', 'master.m3u8']);
    assert.equal(playable, 1);

    await watcher.scan();
    assert.equal(sink.handed.length, 9, 'nothing changed, nothing handed');
    await writeFile(join(dir, '360p', 'seg-2.m4s'), 'two');
    await writeFile(join(dir, '360p', 'index.m3u8'), playlist([1, 2], true));
    await watcher.stop();
    assert.deepEqual(sink.handed.slice(9).map((file) => file.path), ['360p/seg-2.m4s', '360p/index.m3u8']);
    assert.match(sink.handed.at(-1)!.text, /EXT-X-ENDLIST/);
    assert.equal(playable, 1);
  });

  it('reads the URIs a playlist names', () => {
    assert.deepEqual(playlistUris(playlist([3, 4])), ['init_0.mp4', 'seg-3.m4s', 'seg-4.m4s']);
    assert.deepEqual(playlistUris(master), ['audio/index.m3u8', '360p/index.m3u8']);
  });
});
