import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ulid } from 'ulid';
import { eventually } from '../../../test/support/eventually.js';
import { FIXTURE_RUNGS, feedLiveLadder, initsOf, writeContinuedLadderFixture, writeLiveLadderFixture } from '../../../test/support/origin-ladder-fixture.js';
import { startS3Server, type S3ServerHandle } from '../../../test/support/s3-server.js';
import { FilesystemObjectStore, openStorage, type ObjectStore, type Storage } from '../storage/index.js';
import { LiveHlsMirror, ORIGIN_ARCHIVE_PLAYLIST, parseMediaPlaylist } from './live-hls-mirror.js';
import { originKeyPrefix } from './origin-session.js';

const WINDOW = 3;

async function text(store: ObjectStore, key: string): Promise<string | undefined> {
  const read = await store.get(key);
  if (!read) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function bytes(store: ObjectStore, key: string): Promise<Buffer | undefined> {
  const read = await store.get(key);
  if (!read) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The mirror's contract on one store: run on the file system and on an S3-compatible server. */
function mirrorContract(name: string, openStore: () => Promise<ObjectStore>) {
  describe(`LiveHlsMirror on ${name}`, () => {
    let ladder: string;
    let continued: string;
    let scratch: string;
    let store: ObjectStore;

    before(async () => {
      [ladder, continued] = await Promise.all([writeLiveLadderFixture(6), writeContinuedLadderFixture({ seconds: 4, reliefSeconds: 4 })]);
      scratch = await mkdtemp(join(tmpdir(), 'origin-mirror-'));
      store = await openStore();
    });
    after(async () => {
      await rm(ladder, { recursive: true, force: true });
      await rm(continued, { recursive: true, force: true });
      await rm(scratch, { recursive: true, force: true });
    });

    it('stores every file with its type, keeps every segment for the replay, and closes with ENDLIST and a complete archive playlist', async () => {
      const prefix = originKeyPrefix('acme/studio', ulid());
      const mirror = new LiveHlsMirror(store, prefix);
      const names = await feedLiveLadder(ladder, mirror, WINDOW, scratch);
      // A store that keeps types (S3) has each file's; the route answers by name either way.
      assert.ok([undefined, 'application/vnd.apple.mpegurl'].includes((await store.head(`${prefix}master.m3u8`))!.contentType));
      for (const rung of FIXTURE_RUNGS) {
        const segments = names.get(rung)!;
        assert.ok(segments.length >= 5, `${rung}: ${segments.length} segments`);
        const [init] = await initsOf(ladder, rung);
        assert.ok([undefined, 'video/mp4'].includes((await store.head(`${prefix}${rung}/${init}`))!.contentType));
        for (const segment of segments) {
          const stored = await bytes(store, `${prefix}${rung}/${segment}`);
          assert.deepEqual(stored, await readFile(join(ladder, rung, segment)), `${rung}/${segment} byte for byte, kept after it left the window`);
        }
        const live = parseMediaPlaylist((await text(store, `${prefix}${rung}/index.m3u8`))!);
        assert.deepEqual(live.segments.map(([segment]) => segment), segments.slice(-WINDOW), `${rung}: the live playlist is the window`);
        assert.equal(live.ended, false);
      }

      await mirror.close();
      for (const rung of FIXTURE_RUNGS) {
        const segments = names.get(rung)!;
        const final = parseMediaPlaylist((await text(store, `${prefix}${rung}/index.m3u8`))!);
        assert.equal(final.ended, true, `${rung}: the final live playlist ends`);
        assert.deepEqual(final.segments.map(([segment]) => segment), segments.slice(-WINDOW));
        const archiveText = (await text(store, `${prefix}${rung}/${ORIGIN_ARCHIVE_PLAYLIST}`))!;
        const archive = parseMediaPlaylist(archiveText);
        assert.equal(archive.ended, true);
        assert.match(archiveText, /#EXT-X-PLAYLIST-TYPE:VOD/);
        assert.match(archiveText, /#EXT-X-MAP:URI="init_\d\.mp4"/);
        assert.doesNotMatch(archiveText, /#EXT-X-MEDIA-SEQUENCE:[1-9]/);
        assert.deepEqual(archive.segments.map(([segment]) => segment), segments, `${rung}: the archive lists every segment`);
        assert.ok(archive.segments.every(([, lines]) => lines.some((line) => line.startsWith('#EXTINF:'))));
      }
      await assert.rejects(mirror.fileWritten('360p/seg-99.m4s', join(ladder, 'master.m3u8')), /closed/);
    });

    it('without a replay to make, deletes a segment that left the live window after the delay, never one still listed', async () => {
      const prefix = originKeyPrefix('acme/studio', ulid());
      const mirror = new LiveHlsMirror(store, prefix, { keepForReplay: false, deleteDelayMs: 100 });
      const names = await feedLiveLadder(ladder, mirror, WINDOW, scratch);
      for (const rung of FIXTURE_RUNGS) {
        const segments = names.get(rung)!;
        const gone = segments.slice(0, -WINDOW);
        await eventually(async () => (await Promise.all(gone.map((segment) => store.head(`${prefix}${rung}/${segment}`)))).every((object) => object === undefined), `${rung}: segments out of the window deleted`);
        for (const segment of segments.slice(-WINDOW)) assert.ok(await store.head(`${prefix}${rung}/${segment}`), `${rung}/${segment} still listed, still there`);
        for (const init of await initsOf(ladder, rung)) assert.ok(await store.head(`${prefix}${rung}/${init}`));
      }
      await mirror.close();
      mirror.dispose();
    });

    it('discards a ladder replaced before the session went live, its master playlist too: what it stored is removed and not in the archive; refused once live', async () => {
      const prefix = originKeyPrefix('acme/studio', ulid());
      const mirror = new LiveHlsMirror(store, prefix);
      const [init] = await initsOf(ladder, '360p');
      // A small start's rung (its init, a segment, its playlist), never listed by a master.
      await mirror.fileWritten(`180p/${init}`, join(ladder, '360p', init!));
      await mirror.fileWritten('180p/seg-0.m4s', join(ladder, '360p', 'seg-0.m4s'));
      await mirror.fileWritten('180p/index.m3u8', join(ladder, '360p', 'index.m3u8'));
      // Playable (its master stored), but the session did not go live with it (its ffmpeg fell behind).
      await mirror.fileWritten('master.m3u8', join(ladder, 'master.m3u8'));
      assert.ok(await store.head(`${prefix}180p/seg-0.m4s`));
      await mirror.discard();
      for (const key of [`180p/${init}`, '180p/seg-0.m4s', '180p/index.m3u8', 'master.m3u8']) assert.equal(await store.head(`${prefix}${key}`), undefined, `${key} removed`);
      assert.equal(mirror.masterPlaylist, undefined);

      const names = await feedLiveLadder(ladder, mirror, WINDOW, scratch);
      assert.ok(names.get('360p')!.length > 0);
      mirror.live();
      await assert.rejects(mirror.discard(), /live or closed/);
      assert.ok(await store.head(`${prefix}360p/seg-0.m4s`), 'what the live ladder stored stays');
      await mirror.close();
      assert.equal(await store.head(`${prefix}180p/${ORIGIN_ARCHIVE_PLAYLIST}`), undefined, 'no archive for the discarded rung');
      assert.ok(await store.head(`${prefix}360p/${ORIGIN_ARCHIVE_PLAYLIST}`));
    });

    it('keeps a relieved ladder whole: the archive lists every segment once with the discontinuity and the new init before the first of the relief encoder, the final live playlist is the last window', async () => {
      const prefix = originKeyPrefix('acme/studio', ulid());
      const mirror = new LiveHlsMirror(store, prefix);
      const names = await feedLiveLadder(continued, mirror, WINDOW, scratch);
      await mirror.close();
      for (const rung of FIXTURE_RUNGS) {
        const segments = names.get(rung)!;
        const joined = parseMediaPlaylist(await readFile(join(continued, rung, 'index.m3u8'), 'utf8'));
        const firstInit = joined.header.find((line) => line.startsWith('#EXT-X-MAP:'))!;
        const reliefMap = `#EXT-X-MAP:URI="init_r1_${rung}.mp4"`;
        const firstRelief = joined.segments.findIndex(([, lines]) => lines.includes(reliefMap));
        assert.ok(firstRelief > WINDOW && segments.length - firstRelief >= WINDOW, `${rung}: both encoders wrote more than a window (${firstRelief} then ${segments.length - firstRelief})`);
        for (const init of await initsOf(continued, rung)) {
          assert.deepEqual(await bytes(store, `${prefix}${rung}/${init}`), await readFile(join(continued, rung, init)), `${rung}/${init} stored`);
        }

        const archiveText = (await text(store, `${prefix}${rung}/${ORIGIN_ARCHIVE_PLAYLIST}`))!;
        const archive = parseMediaPlaylist(archiveText);
        assert.deepEqual(archive.segments.map(([segment]) => segment), segments, `${rung}: every segment once, in order`);
        assert.deepEqual(archive.header.filter((line) => line.startsWith('#EXT-X-MAP:')), [firstInit], `${rung}: the header names the first init`);
        assert.ok(archive.header.includes('#EXT-X-PLAYLIST-TYPE:VOD'));
        assert.doesNotMatch(archiveText, /#EXT-X-(?:MEDIA|DISCONTINUITY)-SEQUENCE/);
        for (const [index, [segment, lines]] of archive.segments.entries()) {
          const tags = lines.filter((line) => line === '#EXT-X-DISCONTINUITY' || line.startsWith('#EXT-X-MAP:'));
          assert.deepEqual(tags, index === firstRelief ? ['#EXT-X-DISCONTINUITY', reliefMap] : [], `${rung}/${segment}`);
          assert.equal(lines.indexOf('#EXT-X-DISCONTINUITY'), index === firstRelief ? 0 : -1);
        }
        assert.ok(archive.ended);

        const final = parseMediaPlaylist((await text(store, `${prefix}${rung}/index.m3u8`))!);
        assert.equal(final.ended, true);
        assert.deepEqual(final.segments.map(([segment]) => segment), segments.slice(-WINDOW), `${rung}: the last window`);
        assert.ok(final.header.includes(reliefMap), `${rung}: the last header names the relief init`);
        assert.ok(final.header.includes(`#EXT-X-MEDIA-SEQUENCE:${segments.length - WINDOW}`));
        assert.ok(final.header.includes('#EXT-X-DISCONTINUITY-SEQUENCE:1'));
        assert.ok(final.segments.every(([, lines]) => !lines.includes('#EXT-X-DISCONTINUITY')));
      }
    });

    it('marks the init change in the archive when the relief encoder\'s first segment is first seen at the start of a window', async () => {
      const prefix = originKeyPrefix('acme/studio', ulid());
      const mirror = new LiveHlsMirror(store, prefix);
      const segment = (n: number) => ['#EXTINF:2.000000,', `seg-${n}.m4s`];
      const playlists = [
        ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-MAP:URI="init_0.mp4"', ...segment(0), ...segment(1)],
        // The watcher missed the playlists between: seg-2, the relief's first, is already first.
        ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:2', '#EXT-X-DISCONTINUITY-SEQUENCE:1', '#EXT-X-MAP:URI="init_r1_720p.mp4"', ...segment(2), ...segment(3)],
      ];
      for (const [step, lines] of playlists.entries()) {
        const path = join(scratch, `jump-${step}.m3u8`);
        await writeFile(path, `${lines.join('\n')}\n`);
        await mirror.fileWritten('720p/index.m3u8', path);
      }
      await mirror.close();
      const archive = parseMediaPlaylist((await text(store, `${prefix}720p/${ORIGIN_ARCHIVE_PLAYLIST}`))!);
      assert.deepEqual(archive.header.filter((line) => line.startsWith('#EXT-X-MAP:')), ['#EXT-X-MAP:URI="init_0.mp4"']);
      assert.deepEqual(archive.segments, [
        ['seg-0.m4s', segment(0)],
        ['seg-1.m4s', segment(1)],
        ['seg-2.m4s', ['#EXT-X-DISCONTINUITY', '#EXT-X-MAP:URI="init_r1_720p.mp4"', ...segment(2)]],
        ['seg-3.m4s', segment(3)],
      ]);
      const final = (await text(store, `${prefix}720p/index.m3u8`))!;
      assert.match(final, /#EXT-X-DISCONTINUITY-SEQUENCE:1\n#EXT-X-MAP:URI="init_r1_720p\.mp4"\n#EXTINF/);
    });

    it('refuses a path that is no file of a ladder', async () => {
      const mirror = new LiveHlsMirror(store, originKeyPrefix('acme/studio', ulid()));
      for (const hostile of ['../secret.m3u8', '360p/../../x.m4s', '/etc/passwd', '360p/seg-1.ts', '360p/.hidden.m4s', 'a/b/index.m3u8', '']) {
        await assert.rejects(mirror.fileWritten(hostile, join(ladder, 'master.m3u8')), /not a file of a live ladder/, hostile);
      }
    });

    it('takes a relief encoder\'s init segment, init_r{k}_{rung}.mp4, and refuses names that only look like one', async () => {
      const prefix = originKeyPrefix('acme/studio', ulid());
      const mirror = new LiveHlsMirror(store, prefix);
      const [init] = await initsOf(ladder, '360p');
      for (const name of ['360p/init_r1_360p.mp4', 'audio/init_r12_audio.mp4']) {
        await mirror.fileWritten(name, join(ladder, '360p', init!));
        assert.ok(await store.head(`${prefix}${name}`), name);
      }
      for (const hostile of ['360p/init_r123_360p.mp4', '360p/init_r_360p.mp4', '360p/init_r1_.mp4', '360p/init_r1_-360p.mp4', '360p/init_r1_../x.mp4', '360p/init_r1_360p.m4s', '360p/init_r1_360p.mp4/x', '360p/init_r1_360p', '360p/init_r1_a/b.mp4', '360p/init_rx_360p.mp4']) {
        await assert.rejects(mirror.fileWritten(hostile, join(ladder, '360p', init!)), /not a file of a live ladder/, hostile);
      }
    });
  });
}

mirrorContract('the file system', async () => new FilesystemObjectStore(await mkdtemp(join(tmpdir(), 'origin-media-'))));

describe('LiveHlsMirror on S3', () => {
  let s3: S3ServerHandle;
  let storage: Storage;
  before(async () => {
    s3 = await startS3Server();
    storage = await openStorage(s3.storage);
  });
  after(async () => {
    await storage?.close();
    await s3?.stop();
  });
  mirrorContract('an S3-compatible server', async () => storage.media);
});
