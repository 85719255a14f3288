import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ulid } from 'ulid';
import { FIXTURE_RUNGS, feedLiveLadder, initsOf, writeLiveLadderFixture } from '../../../test/support/origin-ladder-fixture.js';
import { rawGet } from '../../../test/support/raw-get.js';
import { startS3Server, type S3ServerHandle } from '../../../test/support/s3-server.js';
import { startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { LiveHlsMirror } from '../origin/live-hls-mirror.js';
import { originKeyPrefix, originPlaylistPath } from '../origin/origin-session.js';
import { FilesystemObjectStore, openStorage, type Storage } from '../storage/index.js';

const run = promisify(execFile);
const CHANNEL = 'acme/studio';
const SECRET = 'do-not-serve-this';

describe('GET /origin/: our origin\'s live ladder from the media store', () => {
  let server: TestServer;
  let ladder: string;
  let scratch: string;
  const session = ulid();
  let names: Map<string, string[]>;

  before(async () => {
    server = await startTestServer({ withChannel: false });
    ladder = await writeLiveLadderFixture(4);
    scratch = await mkdtemp(join(tmpdir(), 'origin-route-'));
    const store = new FilesystemObjectStore(server.mediaDir);
    names = await feedLiveLadder(ladder, new LiveHlsMirror(store, originKeyPrefix(CHANNEL, session)), 3, scratch);
    await writeFile(join(server.mediaDir, 'secret.txt'), SECRET);
    await writeFile(join(server.mediaDir, 'origin', CHANNEL, session, '.secret'), SECRET);
  });
  after(async () => {
    await server.close();
    await rm(ladder, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  it('serves playlists (no-cache) and segments (immutable, with ranges) with their types, to any origin', async () => {
    const master = await server.request(originPlaylistPath(CHANNEL, session), { headers: { Origin: 'https://blog.example' } });
    assert.equal(master.status, 200);
    assert.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.equal(master.headers.get('cache-control'), 'no-cache');
    assert.equal(master.headers.get('access-control-allow-origin'), '*');
    assert.equal(master.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await master.text(), /360p\/index\.m3u8/);

    const base = `/origin/${CHANNEL}/${session}`;
    const rung = await server.request(`${base}/360p/index.m3u8`);
    assert.equal(rung.headers.get('cache-control'), 'no-cache');
    assert.match(await rung.text(), /#EXT-X-MEDIA-SEQUENCE/);

    const [init] = await initsOf(ladder, '360p');
    const initResponse = await server.request(`${base}/360p/${init}`);
    assert.equal(initResponse.headers.get('content-type'), 'video/mp4');
    assert.equal(initResponse.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    await initResponse.arrayBuffer();

    const segment = names.get('360p')!.at(-1)!;
    const expected = await readFile(join(ladder, '360p', segment));
    const whole = await server.request(`${base}/360p/${segment}`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'video/iso.segment');
    assert.equal(whole.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), expected);
    const range = await server.request(`${base}/360p/${segment}`, { headers: { Range: 'bytes=10-109' } });
    assert.equal(range.status, 206);
    assert.deepEqual(Buffer.from(await range.arrayBuffer()), expected.subarray(10, 110));
    const head = await server.request(`${base}/360p/${segment}`, { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), String(expected.length));
  });

  it('is a playable HLS ladder over HTTP (ffprobe reads every rung through the master playlist)', async () => {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,width,height', '-of', 'json', `${server.url}${originPlaylistPath(CHANNEL, session)}`]);
    const streams = (JSON.parse(stdout) as { streams: Array<{ codec_type: string; width?: number; height?: number }> }).streams;
    assert.ok(streams.some((stream) => stream.codec_type === 'video' && stream.height === 360), JSON.stringify(streams));
    assert.ok(streams.some((stream) => stream.codec_type === 'video' && stream.height === 240), JSON.stringify(streams));
    assert.ok(streams.some((stream) => stream.codec_type === 'audio'), JSON.stringify(streams));
  });

  it('answers a JSON 404 for an unknown session, a segment not there, or a name the ladder never has; 405 for a write', async () => {
    for (const path of [
      originPlaylistPath(CHANNEL, ulid()),
      originPlaylistPath('acme/other', session),
      `/origin/${CHANNEL}/${session}/360p/seg-9999.m4s`,
      `/origin/${CHANNEL}/${session}/720p/index.m3u8`,
      `/origin/${CHANNEL}/${session}/other.m3u8`,
      `/origin/${CHANNEL}/${session}`,
      `/origin/${CHANNEL}`,
      '/origin',
    ]) {
      const response = await server.request(path);
      assert.equal(response.status, 404, path);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'not_found', path);
    }
    const write = await server.request(originPlaylistPath(CHANNEL, session), { method: 'PUT', body: 'x' });
    assert.equal(write.status, 405);
  });

  it('serves the init segment of a ladder that continued the live one (init_r{k}_{rung}.mp4), and no look-alike', async () => {
    const base = `/origin/${CHANNEL}/${session}`;
    const [init] = await initsOf(ladder, '360p');
    await writeFile(join(server.mediaDir, 'origin', CHANNEL, session, '360p', 'init_r1_360p.mp4'), await readFile(join(ladder, '360p', init!)));
    const response = await server.request(`${base}/360p/init_r1_360p.mp4`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'video/mp4');
    assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    await response.arrayBuffer();
    for (const name of ['init_r123_360p.mp4', 'init_r1_.mp4', 'init_r1_360p.mp4.tmp', 'init_r_360p.mp4', 'init_r1_%2e%2e.mp4']) {
      const refused = await server.request(`${base}/360p/${name}`);
      assert.equal(refused.status, 404, name);
      assert.match(refused.headers.get('content-type') ?? '', /application\/json/, name);
      await refused.arrayBuffer();
    }
  });

  it('never lets a path escape: traversal, encoded traversal, dotfiles, case and padding tricks are 404', async () => {
    const base = `/origin/${CHANNEL}/${session}`;
    for (const path of [
      '/origin/../secret.txt',
      `${base}/../../../../secret.txt`,
      `${base}/360p/../master.m3u8`,
      `${base}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt`,
      `${base}/..%2f..%2f..%2f..%2fsecret.txt`,
      `${base}/.secret`,
      `${base}/%2esecret`,
      `${base}/master.m3u8%00`,
      `${base}/master.m3u8/`,
      `${base}/MASTER.M3U8`,
      `${base}//master.m3u8`,
      `${base}/./master.m3u8`,
      `/origin/${CHANNEL}/${session.toLowerCase()}/master.m3u8`,
      `/origin/ACME/studio/${session}/master.m3u8`,
      `/origin/acme%2fstudio/${session}/master.m3u8`,
      `/origin/acme/studio%2f${session}/master.m3u8`,
      `${base}/360p%2fseg-0.m4s`,
      `/origin/-acme/studio/${session}/master.m3u8`,
    ]) {
      const response = await rawGet(server.url, path);
      assert.equal(response.status, 404, path);
      assert.ok(!response.body.includes(SECRET), path);
    }
  });
});

describe('GET /origin/ from a shared S3 media bucket: every replica serves every session', () => {
  let s3: S3ServerHandle;
  let storage: Storage;
  let replicas: TestServer[];
  let ladder: string;
  let scratch: string;
  const session = ulid();

  before(async () => {
    s3 = await startS3Server();
    storage = await openStorage(s3.storage);
    replicas = [await startTestServer({ withChannel: false, env: { ...s3.env } }), await startTestServer({ withChannel: false, env: { ...s3.env } })];
    ladder = await writeLiveLadderFixture(3);
    scratch = await mkdtemp(join(tmpdir(), 'origin-route-s3-'));
    const mirror = new LiveHlsMirror(storage.media, originKeyPrefix(CHANNEL, session));
    await feedLiveLadder(ladder, mirror, 3, scratch);
    await mirror.close();
  });
  after(async () => {
    for (const replica of replicas ?? []) await replica.close();
    await storage?.close();
    await s3?.stop();
    await rm(ladder, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  it('answers the same bytes from both replicas, the final playlists ended', async () => {
    for (const replica of replicas) {
      for (const rung of FIXTURE_RUNGS) {
        const response = await replica.request(`/origin/${CHANNEL}/${session}/${rung}/index.m3u8`);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('content-type'), 'application/vnd.apple.mpegurl');
        assert.match(await response.text(), /#EXT-X-ENDLIST/);
        const segment = await replica.request(`/origin/${CHANNEL}/${session}/${rung}/seg-0.m4s`);
        assert.deepEqual(Buffer.from(await segment.arrayBuffer()), await readFile(join(ladder, rung, 'seg-0.m4s')));
      }
    }
  });
});
