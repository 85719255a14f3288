// Browser tests for the element, in Debian's Chromium: `npx web-test-runner --config element/web-test-runner.config.mjs`
// (from the repo root). Tests import TypeScript source; esbuild strips types with the root tsconfig.
import { Buffer } from 'node:buffer';
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { fileURLToPath, URL } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';

const rootDir = fileURLToPath(new URL('..', import.meta.url));
const rootTsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
const testServerModule = new URL('../test/support/test-server.ts', import.meta.url);
const elementBuildModule = new URL('./scripts/build.ts', import.meta.url);
const whipTestServerModule = new URL('../test/support/whip-test-server.ts', import.meta.url);

/**
 * A REAL local live HLS stream for the clip tests: ffmpeg encodes a test pattern with a tone in
 * real time (`-re`) into 2 s MPEG-TS segments with EXT-X-PROGRAM-DATE-TIME, into a temp dir,
 * served (uncached) at `/__live-hls/live` on the test page's origin. Started by the first
 * `live-hls-url` command (which resolves once three segments exist), stopped with the run.
 *
 * Also `POST /__ffprobe`: ffprobe's JSON report (format duration, streams) of the posted bytes,
 * so tests check the MP4s the browser made with the real ffprobe.
 */
function liveHlsStream() {
  /** @type {{ dir: string, ffmpeg: import('node:child_process').ChildProcess } | undefined} */
  let stream;
  const start = () => {
    if (stream) return stream;
    const dir = mkdtempSync(join(tmpdir(), 'live-upload-hls-'));
    const ffmpeg = spawn('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-re',
      '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
      '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
      '-c:a', 'aac', '-b:a', '64k',
      '-f', 'hls', '-hls_time', '2', '-hls_list_size', '20', '-hls_flags', 'delete_segments+program_date_time',
      '-hls_segment_filename', join(dir, 'segment-%05d.ts'), join(dir, 'live.m3u8'),
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    stream = { dir, ffmpeg };
    return stream;
  };
  const stop = () => {
    if (!stream) return;
    stream.ffmpeg.kill('SIGKILL');
    rmSync(stream.dir, { recursive: true, force: true });
    stream = undefined;
  };
  const ready = async () => {
    const { dir } = start();
    for (let i = 0; i < 200; i++) {
      const playlist = await readFile(join(dir, 'live.m3u8'), 'utf8').catch(() => '');
      if ((playlist.match(/#EXTINF/g) ?? []).length >= 3) return '/__live-hls/live';
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error('ffmpeg did not produce a live HLS stream');
  };
  /** @type {import('koa').Middleware} */
  const middleware = async (ctx, next) => {
    // The playlist has no extension: wtr marks every path with one as cacheable for a year.
    const hls = /^\/__live-hls\/(live|segment-\d{5}\.ts)$/.exec(ctx.path);
    if (hls && stream) {
      const playlist = hls[1] === 'live';
      const body = await readFile(join(stream.dir, playlist ? 'live.m3u8' : hls[1])).catch(() => undefined);
      if (!body) return next();
      ctx.set('Cache-Control', 'no-store');
      ctx.type = playlist ? 'application/vnd.apple.mpegurl' : 'video/mp2t';
      ctx.body = body;
      return;
    }
    // Media fixtures made by the real ffmpeg: /__fixture/{seconds}s-{height}p.{mp4|webm}.
    const fixture = /^\/__fixture\/(\d{1,2})s-(360|720|1080)p\.(mp4|webm)$/.exec(ctx.path);
    if (fixture) {
      const [, seconds, height, container] = fixture;
      const file = join(fixtureDir, `${seconds}-${height}.${container}`);
      if (!existsSync(file)) {
        const codecs = container === 'mp4' ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'] : ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1M', '-c:a', 'libopus'];
        await new Promise((resolve, reject) =>
          execFile('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${(Number(height) * 16) / 9}x${height}:rate=25`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', seconds, ...codecs, '-y', file], (error) => (error ? reject(error) : resolve(undefined))),
        );
      }
      ctx.type = `video/${container}`;
      ctx.body = await readFile(file);
      return;
    }
    if (ctx.path === '/__ffprobe' && ctx.method === 'POST') {
      const chunks = [];
      for await (const chunk of ctx.req) chunks.push(chunk);
      const dir = mkdtempSync(join(tmpdir(), 'live-upload-probe-'));
      try {
        await writeFile(join(dir, 'media'), Buffer.concat(chunks));
        const report = await new Promise((resolve, reject) =>
          execFile('ffprobe', ['-v', 'error', '-show_entries', 'format=duration,format_name:stream=codec_type,codec_name,width,height', '-of', 'json', join(dir, 'media')], (error, stdout) =>
            error ? reject(error) : resolve(stdout),
          ),
        );
        ctx.type = 'application/json';
        ctx.body = report;
      } catch (error) {
        ctx.status = 422;
        ctx.body = { error: String(error) };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return;
    }
    return next();
  };
  const plugin = {
    name: 'live-hls-stream',
    serverStop: stop,
    async executeCommand({ command, payload, session }) {
      if (command === 'live-hls-url') return ready();
      if (command === 'live-workers') {
        // The dedicated workers Chromium runs for the page right now (DevTools targets, not a wrapper in the page).
        const page = session.browser.getPage(session.id);
        return page.workers().map((worker) => worker.url());
      }
      if (command === 'live-network') {
        // Real network loss for the page (Chrome DevTools Protocol), back after payload.offlineMs.
        const page = session.browser.getPage(session.id);
        await page.setOfflineMode(true);
        setTimeout(() => void page.setOfflineMode(false).catch(() => {}), Number(payload?.offlineMs ?? 1000));
        return true;
      }
      return undefined;
    },
  };
  return { middleware, plugin };
}
/**
 * A live HLS stream on a clock the test controls (the house rule for media tests: made ahead,
 * served faster than real time). ffmpeg makes 40 one-second MPEG-TS segments once; a stream
 * `/__ctl-hls/{id}/live` serves a sliding live playlist (6 segments, program date times, no
 * ENDLIST) ending at its `position`. Commands: `ctl-hls-start` ({ position? }) -> { id, url },
 * `ctl-hls-set` ({ id, position?, gone? }): move the clock, or take the playlist away (404) and
 * bring it back; `ctl-hls-requests` ({ id }) -> ms timestamps of every playlist request.
 */
function controllableHls() {
  /** @type {Promise<string> | undefined} */
  let made;
  const streams = new Map();
  const SEGMENTS = 40;
  const WINDOW = 6;
  const make = () =>
    (made ??= (async () => {
      const dir = mkdtempSync(join(tmpdir(), 'live-upload-ctl-hls-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      await new Promise((resolve, reject) =>
        execFile('ffmpeg', [
          '-hide_banner', '-loglevel', 'error',
          '-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=25:duration=${SEGMENTS}`,
          '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SEGMENTS}`,
          '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0',
          '-c:a', 'aac', '-b:a', '64k', '-f', 'hls', '-hls_time', '1', '-hls_list_size', '0', '-hls_playlist_type', 'vod',
          '-hls_segment_filename', join(dir, 'segment-%05d.ts'), join(dir, 'all.m3u8'),
        ], (error) => (error ? reject(error) : resolve(undefined))),
      );
      return dir;
    })());
  const playlist = (stream) => {
    const first = Math.max(0, stream.position - WINDOW);
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${first}`];
    for (let i = first; i < stream.position; i++) {
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(stream.startedAt + i * 1000).toISOString()}`, '#EXTINF:1.000000,', `segment-${String(i).padStart(5, '0')}.ts`);
    }
    return `${lines.join('\n')}\n`;
  };
  /** @type {import('koa').Middleware} */
  const middleware = async (ctx, next) => {
    const match = /^\/__ctl-hls\/(\d+)\/(live|segment-(\d{5})\.ts)$/.exec(ctx.path);
    const stream = match && streams.get(match[1]);
    if (!match || !stream) return next();
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Access-Control-Allow-Origin', '*');
    if (match[2] === 'live') {
      stream.requests.push(Date.now());
      if (stream.gone) return next(); // 404
      ctx.type = 'application/vnd.apple.mpegurl';
      ctx.body = playlist(stream);
      return;
    }
    const index = Number(match[3]);
    if (stream.gone || index >= stream.position || index >= SEGMENTS) return next();
    ctx.type = 'video/mp2t';
    ctx.body = await readFile(join(await make(), `segment-${match[3]}.ts`));
  };
  const plugin = {
    name: 'controllable-hls',
    async executeCommand({ command, payload }) {
      if (command === 'ctl-hls-start') {
        await make();
        const id = String(streams.size + 1);
        streams.set(id, { position: Math.min(SEGMENTS, Number(payload?.position ?? 6)), gone: false, startedAt: Date.now() - 60_000, requests: [] });
        return { id, url: `/__ctl-hls/${id}/live` };
      }
      const stream = payload && streams.get(String(payload.id));
      if (command === 'ctl-hls-set' && stream) {
        if (payload.position !== undefined) stream.position = Math.min(SEGMENTS, Number(payload.position));
        if (payload.gone !== undefined) stream.gone = Boolean(payload.gone);
        return true;
      }
      if (command === 'ctl-hls-requests' && stream) return stream.requests;
      return undefined;
    },
  };
  return { middleware, plugin };
}

/**
 * tus-js-client's browser build imports CommonJS packages (url-parse, js-base64), which the dev
 * server does not convert; the production bundle gets them through esbuild, and so do the tests:
 * the bare import is served as one esbuild ESM bundle, exactly as `element/scripts/build.ts` would.
 */
function bundleCommonJsDependencies(packages) {
  const bundles = new Map();
  return {
    name: 'bundle-commonjs-dependencies',
    resolveImport({ source }) {
      if (packages.includes(source)) return `/__bundled/${source}.js`;
      return undefined;
    },
    async serve(context) {
      const name = /^\/__bundled\/(.+)\.js$/.exec(context.path)?.[1];
      if (!name || !packages.includes(name)) return undefined;
      if (!bundles.has(name)) {
        const { build } = await import('esbuild');
        const result = await build({ stdin: { contents: `export * from '${name}';`, resolveDir: rootDir }, bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
        bundles.set(name, result.outputFiles[0].text);
      }
      return { body: bundles.get(name), type: 'js' };
    },
  };
}

const fixtureDir = mkdtempSync(join(tmpdir(), 'live-upload-fixtures-'));
process.once('exit', () => rmSync(fixtureDir, { recursive: true, force: true }));
const hlsStream = liveHlsStream();
const ctlHls = controllableHls();

/**
 * A REAL replay of the test channel, published by the test server's own VOD worker: ffmpeg makes
 * a 12 s 854x480 broadcast as 2 s MPEG-TS segments, they are archived exactly as the live
 * archiver writes them (`ArchiveSink` under the broadcast's archive prefix, in the server's media
 * store), and a VOD job is enqueued on the server's bus; the worker transcodes its ladder (480p
 * and 360p rungs by the defaults, fMP4, audio apart, poster, storyboard). Resolves once the job
 * is enqueued (a command answers within 20 s): the test waits for its master playlist. One
 * replay per run (cached).
 */
async function publishTestReplay(server) {
  const { tsImport } = await import('tsx/esm/api');
  const load = (path) => tsImport(new URL(path, import.meta.url).href, import.meta.url);
  const [{ createCanonicalId }, { FilesystemObjectStore }, { ArchiveSink, SEGMENT_FORMATS }, { enqueueVodJob }, { vodArchivePrefix }] = await Promise.all([
    load('../packages/schema/src/index.ts'),
    load('../server/src/storage/index.ts'),
    load('../server/src/vod-ingest/index.ts'),
    load('../server/src/vod-jobs/enqueue-vod-job.ts'),
    load('../server/src/vod-jobs/vod-files.ts'),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'live-upload-replay-source-'));
  try {
    await new Promise((resolve, reject) =>
      execFile('ffmpeg', [
        '-hide_banner', '-loglevel', 'error',
        '-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=25:duration=12',
        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=12',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
        '-c:a', 'aac', '-b:a', '64k', '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod',
        '-hls_segment_filename', join(dir, 'seg-%d.ts'), join(dir, 'index.m3u8'),
      ], (error) => (error ? reject(error) : resolve(undefined))),
    );
    const playlist = await readFile(join(dir, 'index.m3u8'), 'utf8');
    const durations = [...playlist.matchAll(/^#EXTINF:([0-9.]+),/gm)].map((match) => Number(match[1]));
    const names = playlist.split('\n').filter((line) => /^seg-\d+\.ts$/.test(line));
    const startedMs = Date.now() - 60_000;
    const id = createCanonicalId({ publisher: 'acme', slug: 'morning-show' }, startedMs);
    const prefix = vodArchivePrefix(id);
    const { Readable } = await import('node:stream');
    const sink = await ArchiveSink.open(new FilesystemObjectStore(server.mediaDir), prefix, { kind: 'live', source: 'https://origin.example/live.m3u8' }, { clock: { now: () => Date.now() } });
    for (const [sequence, name] of names.entries()) {
      const data = await readFile(join(dir, name));
      const key = await sink.putSegment(sequence, SEGMENT_FORMATS.mpegTs, Readable.from([data]));
      await sink.append({ kind: 'segment', sequence, key, format: SEGMENT_FORMATS.mpegTs, durationS: durations[sequence], bytes: data.length, discontinuity: false, discontinuitySequence: 0 });
    }
    await sink.end('stop');
    await enqueueVodJob(server.running.bus, {
      canonical_id: id,
      channel: 'acme/morning-show',
      source: { kind: 'live-archive', archive_prefix: prefix },
      started_at: new Date(startedMs).toISOString(),
      requested_at: new Date().toISOString(),
    });
    return { canonical_id: id, master: `${server.url}/vod/${id.split(':').slice(1).join('/')}/master.m3u8` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Boots the real server (test/support/test-server.ts: Koa app, memory bus, short grace window,
 * signed Twitch EventSub webhooks) once per run, and lets tests drive it through
 * `executeServerCommand`: `live-server-url`, `live-go-live` ({ title? }), `live-go-offline`,
 * `live-update-title` ({ title }), `live-create-channel` ({ channel, title }), `live-set-playback`
 * ({ hls?, vod? }), `live-publish-replay` -> { canonical_id, master } (`publishTestReplay`), and
 * `live-upload-record` ({ id }): an upload's record as a moderator reads it (with its `clip`),
 * `live-publisher-grant` ({ channel }) -> a `go-live` publisher grant's token (the origin runs in
 * this server too: every worker kind, the pipeline's origin provider).
 * Tests that do not need it never wait for it; a boot failure fails only the tests that ask.
 */
function liveTestServerPlugin() {
  /** @type {Promise<import('../test/support/test-server.ts').TestServer> | undefined} */
  let booting;
  /** @type {Promise<{ canonical_id: string, master: string }> | undefined} */
  let replay;
  const server = () => {
    if (!booting) throw new Error(`${fileURLToPath(testServerModule)} is missing: the live-server tests cannot run`);
    return booting;
  };
  return {
    name: 'live-test-server',
    serverStart() {
      if (!existsSync(testServerModule)) return;
      // The server serves element/dist (the FFmpeg worker bundle among it): build it first.
      booting = import('tsx/esm/api')
        .then(async ({ tsImport }) => {
          await (await tsImport(elementBuildModule.href, import.meta.url)).buildElement({ sourcemap: false });
          return tsImport(testServerModule.href, import.meta.url);
        })
        .then(({ startTestServer }) => startTestServer({ env: { UPLOAD_RATE_LIMIT_PER_MINUTE: '1000', UPLOAD_CHANNEL_MAX_PENDING: '1000' } }));
      booting.catch(() => {}); // reported to the test that asks for it
    },
    async serverStop() {
      if (booting) await (await booting.catch(() => undefined))?.close();
    },
    async executeCommand({ command, payload }) {
      switch (command) {
        case 'live-server-url':
          return (await server()).url;
        case 'live-go-live':
          await (await server()).goLive(payload?.title);
          return true;
        case 'live-go-offline':
          await (await server()).goOffline();
          return true;
        case 'live-update-title':
          await (await server()).updateTitle(String(payload?.title ?? ''));
          return true;
        case 'live-set-playback': {
          // The test channel as the test server made it, with `playback.hls` when given (an absolute URL).
          const response = await (await server()).request('/api/v1/channels/acme/morning-show', {
            method: 'PUT',
            admin: true,
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({
              title: 'Acme Morning Show',
              uploads: 'open',
              providers: { twitch: { user_id: '4242', login: 'acme_live' } },
              ...(payload?.hls ? { playback: { hls: payload.hls } } : {}),
              ...(payload?.vod ? { vod: payload.vod } : {}),
            }),
          });
          if (!response.ok) throw new Error(`PUT playback: ${response.status} ${await response.text()}`);
          return true;
        }
        case 'live-publish-replay': {
          const running = await server();
          replay ??= publishTestReplay(running);
          replay.catch(() => (replay = undefined));
          return replay;
        }
        case 'live-upload-record': {
          const response = await (await server()).request(`/api/v1/uploads/${encodeURIComponent(String(payload?.id ?? ''))}`, { admin: true });
          if (!response.ok) throw new Error(`GET upload ${payload?.id}: ${response.status} ${await response.text()}`);
          return response.json();
        }
        case 'live-publisher-grant': {
          // A go-live publisher grant for payload.channel, as the host page's backend would ask for it (admin token).
          const response = await (await server()).request(`/api/v1/channels/${payload.channel}/publisher-grants`, {
            method: 'POST',
            admin: true,
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ capabilities: ['go-live'] }),
          });
          if (response.status !== 201) throw new Error(`POST publisher-grants ${payload.channel}: ${response.status} ${await response.text()}`);
          return (await response.json()).token;
        }
        case 'live-audience': {
          // A broadcast's audience report as its publisher reads it (admin API): what the server counted of the page's beacons.
          const channel = String(payload?.channel ?? 'acme/morning-show');
          const response = await (await server()).request(`/api/v1/channels/${channel}/broadcasts/${encodeURIComponent(String(payload?.canonicalId ?? ''))}/audience`, { admin: true });
          if (!response.ok) throw new Error(`GET audience ${payload?.canonicalId}: ${response.status} ${await response.text()}`);
          return response.json();
        }
        case 'live-create-channel': {
          const response = await (await server()).request(`/api/v1/channels/${payload.channel}`, {
            method: 'PUT',
            admin: true,
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ title: payload.title ?? payload.channel, providers: {} }),
          });
          if (!response.ok) throw new Error(`PUT channel ${payload.channel}: ${response.status} ${await response.text()}`);
          return true;
        }
        default:
          return undefined;
      }
    },
  };
}

/**
 * A second real server for going live (issue 23): `startWhipTestServer` (test/support) runs the
 * real routes with the origin worker (WHIP endpoint, werift, the ffmpeg live ladder) and records
 * what the origin signals to the pipeline and hands to its HLS sink. Booted by the first
 * `whip-server-url` command, which answers `null` while that module does not exist (the tests
 * that need it are then pending). `whip-grant` ({ channel?, capabilities? }): a publisher grant
 * from the admin API, as the host page's backend would get it. `whip-session` ({ sessionId }):
 * how often the origin signalled it online and offline, and the ladder files its sink got.
 * `whip-create-channel` ({ channel }): another channel there. `whip-end-session` ({ sessionId }):
 * DELETE it from the server's side of the network -> the status.
 */
function whipTestServerPlugin() {
  /** @type {Promise<import('../test/support/whip-test-server.ts').WhipTestServer> | undefined} */
  let booting;
  const server = () =>
    (booting ??= import('tsx/esm/api')
      .then(({ tsImport }) => tsImport(whipTestServerModule.href, import.meta.url))
      .then(({ startWhipTestServer }) => startWhipTestServer({ env: { WHIP_OFFERS_PER_MINUTE: '1000', ORIGIN_MEDIA_TIMEOUT_MS: '5000' } })));
  return {
    name: 'whip-test-server',
    async serverStop() {
      if (booting) await (await booting.catch(() => undefined))?.close();
    },
    async executeCommand({ command, payload }) {
      switch (command) {
        case 'whip-server-url':
          return existsSync(whipTestServerModule) ? (await server()).url : null;
        case 'whip-grant':
          return (await server()).grant({ ...(payload?.channel ? { channel: payload.channel } : {}), ...(payload?.capabilities ? { capabilities: payload.capabilities } : {}) });
        case 'whip-create-channel': {
          // Another channel on the origin's server, so a test's broadcast never meets another test's session.
          const response = await (await server()).request(`/api/v1/channels/${payload.channel}`, {
            method: 'PUT',
            admin: true,
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ title: payload.channel, uploads: 'open', providers: {} }),
          });
          if (!response.ok) throw new Error(`PUT channel ${payload.channel}: ${response.status} ${await response.text()}`);
          return true;
        }
        case 'whip-end-session': {
          // Ends a session from the server's side of the network (the page may be offline meanwhile).
          const response = await (await server()).request(`/api/v1/whip/sessions/${encodeURIComponent(String(payload?.sessionId ?? ''))}`, { method: 'DELETE' });
          return response.status;
        }
        case 'whip-session': {
          const { collaborators } = await server();
          const sessionId = String(payload?.sessionId ?? '');
          return {
            online: collaborators.signals.onlineFor(sessionId).length,
            offline: collaborators.signals.offlineFor(sessionId).length,
            files: collaborators.sinks.get(sessionId)?.handed ?? [],
          };
        }
        default:
          return undefined;
      }
    },
  };
}

export default {
  rootDir,
  files: ['element/src/**/*.test.ts'],
  // `browser`: packages' browser builds (tus-js-client's package.json maps its Node build to one).
  nodeResolve: { browser: true },
  concurrency: 1,
  browserStartTimeout: 60_000,
  testsStartTimeout: 60_000,
  testsFinishTimeout: 600_000, // the <live-upload> file clips a live stream and runs FFmpeg.wasm
  testFramework: { config: { timeout: 10_000 } },
  filterBrowserLogs: ({ args }) => !String(args[0] ?? '').startsWith('Lit is in dev mode'),
  middleware: [hlsStream.middleware, ctlHls.middleware],
  plugins: [esbuildPlugin({ ts: true, tsconfig: rootTsconfig, target: 'es2022' }), liveTestServerPlugin(), whipTestServerPlugin(), hlsStream.plugin, ctlHls.plugin, bundleCommonJsDependencies(['tus-js-client'])],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-dev-shm-usage',
          '--use-fake-device-for-media-stream',
          '--use-fake-ui-for-media-stream',
        ],
      },
    }),
  ],
};
