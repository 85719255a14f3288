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
  async discard(): Promise<void> {
    this.handed.length = 0;
  }
  live(): void {}
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

  it('stop() while polling hands ffmpeg’s final playlists (EXT-X-ENDLIST) after the last segments, the sink failing once on them', async () => {
    const dir = join(root, 'final');
    let failures = 0;
    const sink = new (class extends RecordingSink {
      override async fileWritten(relativePath: string, absolutePath: string): Promise<void> {
        // The store fails once on the final playlist: no poll follows the last scan, so stop() tries again.
        if (relativePath === '360p/index.m3u8' && (await readFile(absolutePath, 'utf8')).includes('#EXT-X-ENDLIST') && failures++ === 0) throw new Error('store unavailable');
        await super.fileWritten(relativePath, absolutePath);
      }
    })();
    const errors: unknown[] = [];
    const watcher = new LiveHlsWatcher(dir, join(root, 'final-snapshots'), sink, { pollMs: 20, onError: (error) => errors.push(error) });
    await mkdir(join(dir, '360p'), { recursive: true });
    await writeFile(join(dir, '360p', 'init_0.mp4'), 'init');
    await writeFile(join(dir, '360p', 'seg-0.m4s'), 'zero');
    await writeFile(join(dir, '360p', 'index.m3u8'), playlist([0]));
    await writeFile(join(dir, 'master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000\n360p/index.m3u8\n');
    watcher.start();
    const deadline = Date.now() + 5_000;
    while (!sink.handed.some((file) => file.path === 'master.m3u8') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(sink.handed.some((file) => file.path === 'master.m3u8'), 'the ladder was handed while polling');

    // What ffmpeg writes as it exits after SIGINT: the last (short) segment, then the playlist with EXT-X-ENDLIST.
    await writeFile(join(dir, '360p', 'seg-1.m4s'), 'last');
    await rename(await writeTemporary(join(dir, '360p', 'index.m3u8'), playlist([0, 1], true)), join(dir, '360p', 'index.m3u8'));
    await watcher.stop();
    const paths = sink.handed.map((file) => file.path);
    assert.ok(paths.includes('360p/seg-1.m4s'), `the last segment reached the sink: ${paths.join(', ')}`);
    const final = sink.handed.findLast((file) => file.path === '360p/index.m3u8')!;
    assert.match(final.text, /seg-1\.m4s\n#EXT-X-ENDLIST$/, 'the final playlist reached the sink');
    assert.ok(paths.indexOf('360p/seg-1.m4s') < paths.lastIndexOf('360p/index.m3u8'), 'the last segment before the playlist naming it');
    assert.equal(failures, 2, 'the failed final playlist was tried again');
    const count = sink.handed.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(sink.handed.length, count, 'no poll after stop()');
  });

  it('stop() gives up with the sink’s error after a few attempts', async () => {
    const dir = join(root, 'failing');
    await mkdir(join(dir, '360p'), { recursive: true });
    await writeFile(join(dir, '360p', 'init_0.mp4'), 'init');
    await writeFile(join(dir, '360p', 'seg-0.m4s'), 'zero');
    let attempts = 0;
    const watcher = new LiveHlsWatcher(dir, join(root, 'failing-snapshots'), {
      fileWritten: async () => {
        attempts += 1;
        throw new Error('store gone');
      },
      discard: async () => {},
      live: () => {},
      close: async () => {},
    }, { pollMs: 5 });
    await assert.rejects(watcher.stop(), /store gone/);
    assert.equal(attempts, 3);
  });

  it('reads the URIs a playlist names', () => {
    assert.deepEqual(playlistUris(playlist([3, 4])), ['init_0.mp4', 'seg-3.m4s', 'seg-4.m4s']);
    assert.deepEqual(playlistUris(master), ['audio/index.m3u8', '360p/index.m3u8']);
  });
  it('hands a ladder that continues another joined to it, open at the old one\'s end, and keeps the master viewers have', async () => {
    const oldDir = join(root, 'old-ladder');
    const newDir = join(root, 'new-ladder');
    const sink = new RecordingSink();
    const oldWatcher = new LiveHlsWatcher(oldDir, join(root, 'old-snapshots'), sink);
    await mkdir(join(oldDir, '360p'), { recursive: true });
    await writeFile(join(oldDir, '360p', 'init_0.mp4'), 'init');
    for (const n of [0, 1, 2]) await writeFile(join(oldDir, '360p', `seg-${n}.m4s`), `s${n}`);
    await writeFile(join(oldDir, '360p', 'index.m3u8'), playlist([0, 1]));
    await writeFile(join(oldDir, 'master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000\n360p/index.m3u8\n');
    await oldWatcher.scan();
    // The old ffmpeg exits (SIGINT): its final playlist ends; another ladder continues it, so viewers do not get that end.
    await writeFile(join(oldDir, '360p', 'index.m3u8'), playlist([0, 1, 2], true));
    await oldWatcher.stop({ open: true });
    const lastOld = sink.handed.at(-1)!;
    assert.equal(lastOld.path, '360p/index.m3u8');
    assert.match(lastOld.text, /seg-2\.m4s\n?$/);
    assert.doesNotMatch(lastOld.text, /ENDLIST/);
    assert.equal(oldWatcher.handedPlaylists().get('360p/index.m3u8'), lastOld.text);

    let playable = 0;
    const newWatcher = new LiveHlsWatcher(newDir, join(root, 'new-snapshots'), sink, {
      onPlayable: () => (playable += 1),
      continues: { playlists: oldWatcher.handedPlaylists(), windowSegments: 10, startNumber: 10 },
    });
    await mkdir(join(newDir, '360p'), { recursive: true });
    await writeFile(join(newDir, '360p', 'init_r1_360p.mp4'), 'init r1');
    await writeFile(join(newDir, '360p', 'seg-10.m4s'), 's10');
    const newPlaylist = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:10', '#EXT-X-MAP:URI="init_r1_360p.mp4"', '#EXTINF:2.000,', 'seg-10.m4s'].join('\n');
    await writeFile(join(newDir, '360p', 'index.m3u8'), newPlaylist);
    await writeFile(join(newDir, 'master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=999\n360p/index.m3u8\n');
    const before = sink.handed.length;
    await newWatcher.scan();
    assert.deepEqual(sink.handed.slice(before).map((file) => file.path), ['360p/init_r1_360p.mp4', '360p/seg-10.m4s', '360p/index.m3u8'], 'no master: viewers keep theirs');
    const joined = sink.handed.at(-1)!.text;
    assert.match(joined, /#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-MAP:URI="init_0\.mp4"\n#EXTINF:2\.000,\nseg-0\.m4s[\s\S]*seg-2\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init_r1_360p\.mp4"\n#EXTINF:2\.000,\nseg-10\.m4s\n$/);
    assert.equal(playable, 1, 'playable once every continued rung lists a new segment');
    await newWatcher.scan();
    assert.equal(playable, 1);
    await newWatcher.cancel();
  });
});

/** Writes `text` beside `path` as ffmpeg's `temp_file` does; answers the temporary file's path. */
async function writeTemporary(path: string, text: string): Promise<string> {
  await writeFile(`${path}.tmp`, text);
  return `${path}.tmp`;
}
