import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildElement } from '../../../element/scripts/build.js';
import { FFMPEG_CORE_DIRS } from '../../../element/src/live-upload/ffmpeg-core-dirs.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../observability/index.js';
import { startServer, type RunningServer } from '../start-server.js';
import { TEST_ADMIN_TOKEN, TEST_SECRET } from '../../../test/support/test-server.js';

const coreWasm = fileURLToPath(import.meta.resolve('@ffmpeg/core/wasm'));
const ORIGIN = { Origin: 'https://customer.example' };

describe('element assets route', () => {
  let server: RunningServer;
  let chunks: string[];

  before(async () => {
    const built = await buildElement();
    chunks = [...built.files.keys()].filter((name) => name.startsWith('chunks/') && name.endsWith('.js'));
    const config = loadConfig({ PORT: '0', TWITCH_EVENTSUB_SECRET: TEST_SECRET, ADMIN_TOKEN: TEST_ADMIN_TOKEN, DEMO: '0', LOG_LEVEL: 'silent' });
    server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
  });
  after(() => server.close());

  const get = (path: string) => fetch(`${server.url}${path}`, { headers: ORIGIN });

  it('serves both entry bundles as JavaScript to any origin, cross-origin embeddable, briefly cached', async () => {
    for (const [path, tag] of [
      ['/element/live-badge.js', 'live-badge'],
      ['/element/live-upload.js', 'live-upload'],
    ] as const) {
      const response = await get(path);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      assert.equal(response.headers.get('cross-origin-resource-policy'), 'cross-origin');
      assert.match(response.headers.get('content-type') ?? '', /^text\/javascript/);
      assert.equal(response.headers.get('cache-control'), 'public, max-age=300');
      assert.match(await response.text(), new RegExp(tag));
    }
  });

  it('serves the lazy chunks of this build with a year-long immutable cache', async () => {
    assert.ok(chunks.length >= 3, `chunks: ${chunks.join(', ')}`);
    for (const chunk of chunks) {
      const response = await get(`/element/${chunk}`);
      assert.equal(response.status, 200, chunk);
      assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(response.headers.get('cross-origin-resource-policy'), 'cross-origin');
      assert.match(response.headers.get('content-type') ?? '', /^text\/javascript/);
      await response.arrayBuffer();
    }
    const upload = await (await get('/element/live-upload.js')).text();
    const imported = [...upload.matchAll(/["']\.\/(chunks\/[\w-]+\.js)["']/g)].map((match) => match[1]);
    assert.ok(imported.length > 0);
    for (const chunk of imported) assert.ok(chunks.includes(chunk!), `${chunk} is served`);
  });

  const coreFiles: Array<[string, RegExp]> = [
    [`/element/${FFMPEG_CORE_DIRS.core}ffmpeg-core.js`, /^text\/javascript/],
    [`/element/${FFMPEG_CORE_DIRS.core}ffmpeg-core.wasm`, /^application\/wasm$/],
    [`/element/${FFMPEG_CORE_DIRS.coreMt}ffmpeg-core.js`, /^text\/javascript/],
    [`/element/${FFMPEG_CORE_DIRS.coreMt}ffmpeg-core.wasm`, /^application\/wasm$/],
    [`/element/${FFMPEG_CORE_DIRS.coreMt}ffmpeg-core.worker.js`, /^text\/javascript/],
  ];

  it('serves the FFmpeg worker, and the single- and multi-thread cores from versioned directories cached for a year, wasm as application/wasm', async () => {
    assert.match(FFMPEG_CORE_DIRS.core, /^ffmpeg\/core-\d+\.\d+\.\d+-[0-9a-f]{12}\/$/);
    assert.match(FFMPEG_CORE_DIRS.coreMt, /^ffmpeg\/core-mt-\d+\.\d+\.\d+-[0-9a-f]{12}\/$/);
    for (const [path, type] of [['/element/ffmpeg/ffmpeg-worker.js', /^text\/javascript/] as [string, RegExp], ...coreFiles]) {
      const response = await get(path);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type') ?? '', type, path);
      assert.equal(response.headers.get('access-control-allow-origin'), '*', path);
      assert.equal(response.headers.get('cross-origin-resource-policy'), 'cross-origin', path);
      if (path.includes('/core')) assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable', path);
      const body = new Uint8Array(await response.arrayBuffer());
      if (path.endsWith('.wasm')) assert.deepEqual([...body.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d], 'wasm magic');
    }
    const wasm = await get(`/element/${FFMPEG_CORE_DIRS.core}ffmpeg-core.wasm`);
    assert.equal((await wasm.arrayBuffer()).byteLength, (await readFile(coreWasm)).byteLength);
  });

  it('serves the multi-thread core with its pthread pool sized by its URL, the single-thread core as installed', async () => {
    const mt = await (await get(`/element/${FFMPEG_CORE_DIRS.coreMt}ffmpeg-core.js`)).text();
    assert.doesNotMatch(mt, /var pthreadPoolSize=32;/);
    assert.match(mt, /var pthreadPoolSize=\(s=>.*searchParams\.get\("pthreads"\)/);
    const single = await (await get(`/element/${FFMPEG_CORE_DIRS.core}ffmpeg-core.js`)).text();
    assert.equal(single, await readFile(fileURLToPath(import.meta.resolve('@ffmpeg/core')), 'utf8'));
  });

  it('redirects the cores\' old unversioned names to this build\'s versioned ones, uncached', async () => {
    for (const [old, current] of [
      ['/element/ffmpeg/core/ffmpeg-core.js', `/element/${FFMPEG_CORE_DIRS.core}ffmpeg-core.js`],
      ['/element/ffmpeg/core/ffmpeg-core.wasm', `/element/${FFMPEG_CORE_DIRS.core}ffmpeg-core.wasm`],
      ['/element/ffmpeg/core-mt/ffmpeg-core.js', `/element/${FFMPEG_CORE_DIRS.coreMt}ffmpeg-core.js`],
      ['/element/ffmpeg/core-mt/ffmpeg-core.wasm', `/element/${FFMPEG_CORE_DIRS.coreMt}ffmpeg-core.wasm`],
      ['/element/ffmpeg/core-mt/ffmpeg-core.worker.js', `/element/${FFMPEG_CORE_DIRS.coreMt}ffmpeg-core.worker.js`],
    ] as const) {
      const response = await fetch(`${server.url}${old}`, { headers: ORIGIN, redirect: 'manual' });
      await response.arrayBuffer();
      assert.equal(response.status, 302, old);
      assert.equal(new URL(response.headers.get('location') ?? '', `${server.url}${old}`).pathname, current, old);
      assert.equal(response.headers.get('cache-control'), 'no-cache', old);
      assert.equal(response.headers.get('access-control-allow-origin'), '*', old);
      const followed = await fetch(`${server.url}${old}`, { headers: ORIGIN, method: 'HEAD' });
      assert.equal(followed.status, 200, old);
      assert.equal(new URL(followed.url).pathname, current, old);
    }
  });

  it('gives the scripts workers start from their own policy: isolated (COEP), and a CSP of import, wasm, fetch and pthreads from the same place', async () => {
    for (const path of ['/element/ffmpeg/ffmpeg-worker.js', `/element/${FFMPEG_CORE_DIRS.coreMt}ffmpeg-core.worker.js`]) {
      const response = await get(path);
      await response.arrayBuffer();
      assert.equal(response.headers.get('cross-origin-embedder-policy'), 'require-corp', path);
      assert.equal(response.headers.get('content-security-policy'), "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; worker-src 'self'", path);
    }
    for (const path of ['/element/live-upload.js', `/element/${FFMPEG_CORE_DIRS.core}ffmpeg-core.js`, `/element/${FFMPEG_CORE_DIRS.coreMt}ffmpeg-core.js`]) {
      const response = await get(path);
      await response.arrayBuffer();
      assert.equal(response.headers.get('content-security-policy'), null, `${path} is imported, not a worker's script: no policy of its own`);
    }
  });

  it('serves the Custom Elements Manifest when it was generated', async () => {
    const response = await get('/element/custom-elements.json');
    if (response.status === 404) return assert.match((await response.json()).error.message, /npm run build/);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  });

  it('answers 404 for anything outside the table: traversal, sources, unlisted chunks, the asset list', async () => {
    const hostile = [
      '/element/../package.json',
      '/element/..%2f..%2fpackage.json',
      '/element/chunks/..%2f..%2f..%2fpackage.json',
      '/element/chunks/../../package.json',
      '/element/live-upload.ts',
      '/element/live-upload/live-upload.ts',
      '/element/assets.json',
      '/element/chunks/not-built-ABCDEFGH.js',
      '/element/chunks/x.js%00.map',
      '/element/ffmpeg/core/ffmpeg-core.d.ts',
      '/element/ffmpeg/core/../../../package.json',
      '/element/ffmpeg/core-mt/%2e%2e/package.json',
      '/element/ffmpeg/core-0.12.10-000000000000/ffmpeg-core.js',
      '/element/ffmpeg/core-0.12.10-000000000000/ffmpeg-core.wasm',
      `/element/${FFMPEG_CORE_DIRS.core}ffmpeg-core.worker.js`,
      `/element/${FFMPEG_CORE_DIRS.coreMt}package.json`,
      `/element/${FFMPEG_CORE_DIRS.coreMt}..%2f..%2f..%2fpackage.json`,
      `/element/${FFMPEG_CORE_DIRS.core}ffmpeg-core.d.ts`,
      '/element/%2e%2e/%2e%2e/package.json',
      `/element/${'a'.repeat(5000)}`,
      '/element/',
      '/element/constructor',
      '/element/__proto__',
      '/element/hasOwnProperty',
    ];
    for (const path of hostile) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 404, path);
      const body = await response.text();
      assert.doesNotMatch(body, /"name":\s*"live-upload"/, path);
    }
  });

  it('does not serve with a write method', async () => {
    const response = await fetch(`${server.url}/element/live-upload.js`, { method: 'POST' });
    assert.notEqual(response.status, 200);
  });
});
