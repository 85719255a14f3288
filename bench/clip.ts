/**
 * Clip benchmark (issue 5): in Chromium (playwright-core, Debian's /usr/bin/chromium), the time
 * from a Clip press to an uploadable MP4 for a 30 s 720p clip of a live HLS stream, and the
 * re-encode of the same clip by FFmpeg.wasm versus native ffmpeg on the same input in the same run.
 *
 * The stream: native ffmpeg encodes 40 s of a 720p test pattern with a tone into 2 s MPEG-TS HLS
 * segments with EXT-X-PROGRAM-DATE-TIME (as the test stream and the demo do). The page holds the
 * segments as the player would (`ClipBuffer`, fed with the fetched bytes, not timed), then a "press"
 * runs exactly the element's clip path: `select` the last 30 s, `concatSegments`, and
 * `MediaTranscoder.remux` (FFmpeg.wasm stream copy, keyframe cut). FFmpeg.wasm comes from the real
 * server's `/element/ffmpeg/...` (element-assets-route), never a CDN. Measured cold (the first press
 * of a page: the ~30 MB core is loaded and compiled) and warm (median of later presses), on the
 * single-thread core and, on a cross-origin-isolated page (COOP/COEP), the multi-thread core.
 *
 * Where a cold press's time goes (issue 26), each phase in a fresh browser context (empty HTTP
 * cache) with `performance.mark`/`measure` in the bench page, none in the shipped code: the FFmpeg
 * worker's start (a round trip to the bare worker), the core's fetch (JS and wasm bodies), a
 * streaming compile of the wasm (`WebAssembly.compileStreaming` of the network response), and the
 * whole `ffmpeg.load` (`MediaTranscoder.preload`: worker, core module, fetch, compile, instantiate
 * and on `core-mt` its pool of pthread workers, sized by the element: `ffmpeg-thread-pool.ts`),
 * and on `core-mt` the same load with the core's own fixed pool of 32 workers (its URL without
 * `pthreads`, what the element loaded before), for comparison in the same run. Then the two ways the element now avoids a cold
 * load, each a first press on a fresh page: a revisit (same browser profile: the core from the
 * HTTP cache, the compiled wasm from Chromium's code cache) and a press a few seconds after the
 * player started (the element's `ClipperPreload`, which loads the core at the first idle moment
 * once the player plays). The "cold" figure above keeps its definition: a first press with
 * nothing loaded and nothing cached.
 *
 * The cores come from their versioned, immutable URLs (`FFMPEG_ASSETS`, `element/scripts/ffmpeg-cores.ts`).
 *
 * The cross-origin-isolated page serves `/element/` from its own origin (proxied to the server,
 * as a site that embeds the element on an isolated page does): the multi-thread core runs only
 * when its workers start from the page's origin (`ffmpegWorkerSource`).
 *
 * Re-encode: `MediaTranscoder.encode` (the element's exact-cut path: H.264/AAC, at most 720p)
 * versus native ffmpeg with the very same arguments (`encodeArgs`) on the very same bytes.
 * Goals: press -> MP4 < 1 s (warm, stream copy); wasm re-encode <= 5x native.
 */
import { execFile } from 'node:child_process';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import { buildElement } from '../element/scripts/build.js';
import { encodeArgs } from '../element/src/live-upload/ffmpeg-args.js';
import { startTestServer } from '../test/support/test-server.js';
import { fmt, median, verdict } from './support/stats.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../', import.meta.url));

export const CLIP_GOALS = { pressToMp4Ms: 1000, reencodeRatio: 5, coldPressMs: 1500 } as const;

/** When the preloaded press comes, after the player started: a viewer watches a few seconds before a Clip is worth pressing. */
export const PRESS_AFTER_PLAYER_START_MS = 5000;

/** Where a cold press's time goes, ms, each phase measured on its own in a fresh context (see the file's comment). */
export interface ClipColdPhases {
  readonly workerStartMs: number;
  readonly fetchMs: number;
  readonly fetchAndCompileMs: number;
  readonly loadMs: number;
  /** `core-mt` only: the whole load with the core's own fixed pool of 32 pthread workers. */
  readonly fixedPoolLoadMs?: number;
}

export interface ClipCoreResult {
  readonly core: string;
  readonly coldMs: number;
  /** Each round's cold press (the first is `clipBench`'s own; the others on fresh contexts); `coldMs` is their median. */
  readonly coldRoundsMs: readonly number[];
  readonly revisitRoundsMs: readonly number[];
  readonly preloadedRoundsMs: readonly number[];
  readonly warmMs: number;
  readonly phases: ClipColdPhases;
  /** First press on a fresh page of the same profile (HTTP cache and wasm code cache warm). */
  readonly revisitColdMs: number;
  /** First press `PRESS_AFTER_PLAYER_START_MS` after the player started (the element's preload). */
  readonly preloadedColdMs: number;
  /** Player start -> core loaded, for the preloaded press. */
  readonly preloadMs: number;
  readonly reencodeMs: number;
  /** ffprobe of the copied clip (duration, s). */
  readonly clipDurationS: number;
}

export interface ClipBenchResult {
  readonly clipSeconds: number;
  readonly cores: readonly ClipCoreResult[];
  readonly nativeReencodeMs: number;
  readonly nativeRemuxMs: number;
  /** Best wasm re-encode / native. */
  readonly reencodeRatio: number;
  readonly passPress: boolean;
  readonly passReencode: boolean;
  /** Every core's first press after the player started (preloaded) under `CLIP_GOALS.coldPressMs`. */
  readonly passColdPress: boolean;
  /** Every core's cold press (nothing loaded, nothing cached; median) under `CLIP_GOALS.coldPressMs`. */
  readonly passNothingLoadedPress: boolean;
}

export interface ClipBenchOptions {
  readonly clipSeconds?: number;
  readonly presses?: number;
  /** Samples of each cold figure (cold, revisit, preloaded), each a first press on its own page. Default 3. */
  readonly coldRounds?: number;
  /** Also time the re-encode, in the page and with native ffmpeg (minutes on a busy machine). Default true. */
  readonly reencode?: boolean;
  readonly log?: (line: string) => void;
}

/** The in-page half, bundled by esbuild from the element's own modules. */
const PAGE_SOURCE = `
import { ClipBuffer, concatSegments } from './element/src/live-upload/clip-buffer.ts';
import { FFMPEG_ASSETS, MediaTranscoder } from './element/src/live-upload/media-transcoder.ts';
import { FFmpegWorkerClient } from './element/src/live-upload/ffmpeg-worker-client.ts';
import { ClipperPreload, newestSegmentSample } from './element/src/live-upload/clipper-preload.ts';
const fill = async (segments, clipSeconds) => {
  const buffer = new ClipBuffer((clipSeconds + 20) * 1000);
  for (const segment of segments) {
    const bytes = new Uint8Array(await (await fetch(segment.url)).arrayBuffer());
    buffer.add({ sn: segment.sn, programDateMs: segment.programDateMs, durationMs: segment.durationMs, bytes });
  }
  const last = segments.at(-1);
  return { buffer, end: last.programDateMs + last.durationMs };
};
const firstPress = async (transcoder, { buffer, end }, clipSeconds) => {
  const started = performance.now();
  const selection = buffer.select(end, clipSeconds * 1000);
  await transcoder.remux(concatSegments(selection), { startMs: selection.offsetMs, durationMs: selection.durationMs });
  const ms = performance.now() - started;
  transcoder.cancel();
  return ms;
};
const measure = async (name, work) => {
  performance.mark(name + ':start');
  await work();
  return performance.measure(name, name + ':start').duration;
};
const coreFiles = (assetBase) => {
  const files = crossOriginIsolated && new URL(assetBase).origin === location.origin ? FFMPEG_ASSETS.coreMt : FFMPEG_ASSETS.core;
  return { js: new URL(files.js, assetBase).href, wasm: new URL(files.wasm, assetBase).href };
};
// One phase of a cold load, on a fresh context (see bench/clip.ts).
window.clipPhase = async ({ phase, assetBase }) => {
  const { js, wasm } = coreFiles(assetBase);
  if (phase === 'worker') {
    const url = new URL(FFMPEG_ASSETS.classWorker, assetBase).href;
    const sameOrigin = new URL(url).origin === location.origin;
    const source = sameOrigin ? url : URL.createObjectURL(new Blob(['import ' + JSON.stringify(url) + ';'], { type: 'text/javascript' }));
    let client;
    const ms = await measure('worker-start', async () => {
      client = new FFmpegWorkerClient(source, () => {});
      await client.exec([]).catch(() => {}); // not loaded: the worker answers at once
    });
    client.terminate();
    return ms;
  }
  if (phase === 'fetch') return measure('core-fetch', () => Promise.all([js, wasm].map(async (url) => (await fetch(url)).arrayBuffer())));
  if (phase === 'compile') return measure('core-fetch-compile', () => WebAssembly.compileStreaming(fetch(wasm)));
  if (phase === 'load-fixed-pool') {
    // core-mt's load as before the element sized its pool: the core's URL without \`pthreads\`.
    const client = new FFmpegWorkerClient(new URL(FFMPEG_ASSETS.classWorker, assetBase).href, () => {});
    const ms = await measure('ffmpeg-load-fixed-pool', () => client.load({ coreURL: js, wasmURL: wasm, workerURL: new URL(FFMPEG_ASSETS.coreMt.worker, assetBase).href }));
    client.terminate();
    return ms;
  }
  const transcoder = new MediaTranscoder(assetBase);
  const ms = await measure('ffmpeg-load', () => transcoder.preload());
  transcoder.cancel();
  return ms;
};
// A first press on a fresh page whose profile already loaded the core once (HTTP cache, code cache).
window.clipRevisit = async ({ segments, clipSeconds, assetBase }) => firstPress(new MediaTranscoder(assetBase), await fill(segments, clipSeconds), clipSeconds);
// The element's preload: the player starts, the core loads at the first idle moment, the viewer presses pressAfterMs later.
window.clipPreloaded = async ({ segments, clipSeconds, assetBase, pressAfterMs }) => {
  const transcoder = new MediaTranscoder(assetBase);
  let loaded;
  let buffer;
  performance.mark('player-start');
  const preload = new ClipperPreload(
    () => ({
      keepWarm: (warmUp) => {
        const release = transcoder.keepWarm(warmUp);
        loaded = transcoder.preload().then(() => performance.measure('preload', 'player-start').duration);
        return release;
      },
    }),
    () => buffer && newestSegmentSample(buffer.buffer),
  );
  preload.update(true);
  buffer = await fill(segments, clipSeconds);
  const wait = pressAfterMs - performance.measure('until-press', 'player-start').duration;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const ms = await firstPress(transcoder, buffer, clipSeconds);
  preload.stop();
  return { ms, preloadMs: await loaded };
};
window.clipBench = (args) => clipBench(args).catch((error) => { throw new Error(String(error?.stack ?? error)); });
const clipBench = async ({ segments, clipSeconds, presses, assetBase, reencode }) => {
  const buffer = new ClipBuffer((clipSeconds + 20) * 1000);
  for (const segment of segments) {
    const bytes = new Uint8Array(await (await fetch(segment.url)).arrayBuffer());
    buffer.add({ sn: segment.sn, programDateMs: segment.programDateMs, durationMs: segment.durationMs, bytes });
  }
  const last = segments.at(-1);
  const end = last.programDateMs + last.durationMs;
  const transcoder = new MediaTranscoder(assetBase);
  const press = async () => {
    const started = performance.now();
    const selection = buffer.select(end, clipSeconds * 1000);
    const mp4 = await transcoder.remux(concatSegments(selection), { startMs: selection.offsetMs, durationMs: selection.durationMs });
    return { ms: performance.now() - started, mp4, selection };
  };
  const cold = await press();
  const warm = [];
  for (let i = 0; i < presses; i++) warm.push((await press()).ms);
  const { selection } = cold;
  const input = concatSegments(selection);
  const started = performance.now();
  if (reencode) await transcoder.encode(input, { durationMs: selection.durationMs, cut: { startMs: selection.offsetMs, durationMs: selection.durationMs } });
  const reencodeMs = reencode ? performance.now() - started : NaN;
  transcoder.cancel();
  return { core: transcoder.core + (crossOriginIsolated && transcoder.core === 'core' ? ' (core-mt failed: fell back)' : ''), coldMs: cold.ms, warm, reencodeMs, mp4: Array.from(cold.mp4), offsetMs: selection.offsetMs, durationMs: selection.durationMs, firstSn: selection.segments[0].sn, count: selection.segments.length };
};
`;

interface PageSegment {
  readonly url: string;
  readonly sn: number;
  readonly programDateMs: number;
  readonly durationMs: number;
}

/** Reads ffmpeg's media playlist: segment names, durations and program dates. */
function readPlaylist(text: string, baseUrl: string): PageSegment[] {
  const segments: PageSegment[] = [];
  let sn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  let duration = 0;
  let date = Number.NaN;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8)) * 1000;
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) date = Date.parse(line.slice(25).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    else if (line && !line.startsWith('#')) {
      segments.push({ url: new URL(line, baseUrl).href, sn: sn++, programDateMs: date, durationMs: duration });
      date = Number.isFinite(date) ? date + duration : date;
    }
  }
  return segments;
}

/** Proxies `path` to `upstream` (the real server's `/element/...`), status and headers as they are. */
function proxy(upstream: string, req: IncomingMessage, res: ServerResponse): void {
  const headers = { ...req.headers };
  delete headers.host;
  const outgoing = request(new URL(req.url ?? '/', upstream), { method: req.method, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  outgoing.on('error', () => res.writeHead(502).end());
  req.pipe(outgoing);
}

function serve(dir: string, page: string, isolated: boolean, assetsUpstream: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (isolated && path.startsWith('/element/')) return proxy(assetsUpstream, req, res);
    const headers: Record<string, string> = isolated ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {};
    if (path === '/') return res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end('<!doctype html><title>clip bench</title><script type="module" src="/bench.js"></script>');
    if (path === '/bench.js') return res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' }).end(page);
    const segment = /^\/hls\/([\w-]+\.(ts|m3u8))$/.exec(path)?.[1];
    if (segment) return res.writeHead(200, { ...headers, 'Content-Type': 'video/mp2t' }).end(await readFile(join(dir, segment)));
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

async function ffprobeDuration(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  return Number(stdout.trim());
}

export async function runClipBench(options: ClipBenchOptions = {}): Promise<ClipBenchResult> {
  const clipSeconds = options.clipSeconds ?? 30;
  const presses = options.presses ?? 5;
  const coldRounds = Math.max(1, options.coldRounds ?? 3);
  const reencode = options.reencode ?? true;
  const log = options.log ?? (() => {});
  const dir = await mkdtemp(join(tmpdir(), 'live-upload-clip-bench-'));
  const server = await startTestServer({ env: { WORKERS: 'none' } });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const pages: Server[] = [];
  try {
    await buildElement({ sourcemap: false }); // the server serves element/dist/ffmpeg/ffmpeg-worker.js
    log(`encoding ${clipSeconds + 10} s of 720p HLS with native ffmpeg...`);
    await run('ffmpeg', [
      '-hide_banner', '-loglevel', 'error',
      '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(clipSeconds + 10),
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-b:v', '3M',
      '-c:a', 'aac', '-b:a', '128k',
      '-f', 'hls', '-hls_time', '2', '-hls_list_size', '0', '-hls_flags', 'program_date_time',
      '-hls_segment_filename', join(dir, 'segment-%05d.ts'), join(dir, 'live.m3u8'),
    ]);
    const playlist = await readFile(join(dir, 'live.m3u8'), 'utf8');
    const page = (await build({ stdin: { contents: PAGE_SOURCE, resolveDir: root, loader: 'ts' }, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' })).outputFiles[0]!.text;

    const cores: ClipCoreResult[] = [];
    let sample: { mp4: Uint8Array; offsetMs: number; durationMs: number; firstSn: number; count: number } | undefined;
    for (const isolated of [false, true]) {
      const { server: pageServer, url } = await serve(dir, page, isolated, server.url);
      pages.push(pageServer);
      const assetBase = isolated ? `${url}/element/` : `${server.url}/element/`;
      const segments = readPlaylist(playlist, `${url}/hls/`);
      // Each evaluation on a new page; `fresh` pages get a new context (empty HTTP cache and code cache).
      const onPage = async <T>(context: BrowserContext, fn: string, args: unknown): Promise<T> => {
        const tab = await context.newPage();
        try {
          await tab.goto(url);
          await tab.waitForFunction(() => 'clipBench' in window);
          return await tab.evaluate(([name, a]) => (window as unknown as Record<string, (a: unknown) => Promise<T>>)[name as string]!(a), [fn, args] as const);
        } finally {
          await tab.close();
        }
      };
      const fresh = async <T>(fn: string, args: unknown): Promise<T> => {
        const context = await browser.newContext();
        try {
          return await onPage<T>(context, fn, args);
        } finally {
          await context.close();
        }
      };
      const profile = await browser.newContext();
      const result = await onPage<{ core: string; coldMs: number; warm: number[]; reencodeMs: number; mp4: number[]; offsetMs: number; durationMs: number; firstSn: number; count: number }>(profile, 'clipBench', {
        segments,
        clipSeconds,
        presses,
        assetBase,
        reencode,
      });
      const revisitRoundsMs: number[] = [];
      for (let round = 0; round < coldRounds; round++) revisitRoundsMs.push(await onPage<number>(profile, 'clipRevisit', { segments, clipSeconds, assetBase }));
      await profile.close();
      const coldRoundsMs = [result.coldMs];
      for (let round = 1; round < coldRounds; round++) coldRoundsMs.push(await fresh<number>('clipRevisit', { segments, clipSeconds, assetBase }));
      const phases: ClipColdPhases = {
        workerStartMs: await fresh<number>('clipPhase', { phase: 'worker', assetBase }),
        fetchMs: await fresh<number>('clipPhase', { phase: 'fetch', assetBase }),
        fetchAndCompileMs: await fresh<number>('clipPhase', { phase: 'compile', assetBase }),
        loadMs: await fresh<number>('clipPhase', { phase: 'load', assetBase }),
        ...(isolated ? { fixedPoolLoadMs: await fresh<number>('clipPhase', { phase: 'load-fixed-pool', assetBase }) } : {}),
      };
      const preloadedRounds: { ms: number; preloadMs: number }[] = [];
      for (let round = 0; round < coldRounds; round++) preloadedRounds.push(await fresh<{ ms: number; preloadMs: number }>('clipPreloaded', { segments, clipSeconds, assetBase, pressAfterMs: PRESS_AFTER_PLAYER_START_MS }));
      const preloadedRoundsMs = preloadedRounds.map((round) => round.ms);
      const preloaded = { ms: median(preloadedRoundsMs), preloadMs: median(preloadedRounds.map((round) => round.preloadMs)) };
      const revisitColdMs = median(revisitRoundsMs);
      const mp4 = new Uint8Array(result.mp4);
      const clipFile = join(dir, `clip-${cores.length}.mp4`);
      await writeFile(clipFile, mp4);
      cores.push({
        core: result.core,
        coldMs: median(coldRoundsMs),
        coldRoundsMs,
        revisitRoundsMs,
        preloadedRoundsMs,
        warmMs: median(result.warm),
        phases,
        revisitColdMs,
        preloadedColdMs: preloaded.ms,
        preloadMs: preloaded.preloadMs,
        reencodeMs: result.reencodeMs,
        clipDurationS: await ffprobeDuration(clipFile),
      });
      sample ??= { mp4, offsetMs: result.offsetMs, durationMs: result.durationMs, firstSn: result.firstSn, count: result.count };
      log(`${result.core}: press -> MP4 cold ${rounds(coldRoundsMs)} ms, warm ${fmt(median(result.warm), 0)} ms; re-encode ${fmt(result.reencodeMs, 0)} ms`);
      log(`${result.core}: cold phases: ${formatPhases(phases)}; revisit ${rounds(revisitRoundsMs)} ms; preloaded ${preloadedRounds.map((round) => `${fmt(round.ms, 0)} (preload ${fmt(round.preloadMs, 0)})`).join(' / ')} ms`);
    }

    // Native ffmpeg on the very same bytes, with the very same arguments.
    const names = (await readdir(dir)).filter((name) => name.startsWith('segment-')).sort();
    const chosen = names.slice(sample!.firstSn, sample!.firstSn + sample!.count);
    const input = join(dir, 'input.ts');
    await writeFile(input, Buffer.concat(await Promise.all(chosen.map((name) => readFile(join(dir, name))))));
    const cut = { startMs: sample!.offsetMs, durationMs: sample!.durationMs };
    const timeNative = async (args: string[]) => {
      const started = performance.now();
      await run('ffmpeg', args);
      return performance.now() - started;
    };
    const nativeReencodeMs = !reencode ? Number.NaN : await timeNative(encodeArgs(input, join(dir, 'native-encode.mp4'), { cut, durationMs: cut.durationMs }));
    const nativeRemuxMs = await timeNative(['-hide_banner', '-ss', String(cut.startMs / 1000), '-i', input, '-t', String(cut.durationMs / 1000), '-c', 'copy', '-y', join(dir, 'native-remux.mp4')]);
    const bestReencode = Math.min(...cores.map((core) => core.reencodeMs));
    const reencodeRatio = bestReencode / nativeReencodeMs;
    return {
      clipSeconds,
      cores,
      nativeReencodeMs,
      nativeRemuxMs,
      reencodeRatio,
      passPress: cores.some((core) => core.warmMs < CLIP_GOALS.pressToMp4Ms && Math.abs(core.clipDurationS - clipSeconds) <= 2),
      passReencode: reencodeRatio <= CLIP_GOALS.reencodeRatio,
      passColdPress: cores.every((core) => core.preloadedColdMs < CLIP_GOALS.coldPressMs),
      passNothingLoadedPress: cores.every((core) => core.coldMs < CLIP_GOALS.coldPressMs),
    };
  } finally {
    await browser.close();
    for (const page of pages) page.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function rounds(values: readonly number[]): string {
  return values.map((ms) => fmt(ms, 0)).join(' / ');
}

function formatPhases(phases: ClipColdPhases): string {
  const fixedPool = phases.fixedPoolLoadMs === undefined ? '' : ` (with the core's own 32 pthread workers: ${fmt(phases.fixedPoolLoadMs, 0)} ms)`;
  return `worker start ${fmt(phases.workerStartMs, 0)} ms, core fetch ${fmt(phases.fetchMs, 0)} ms, fetch + streaming compile ${fmt(phases.fetchAndCompileMs, 0)} ms, whole ffmpeg.load ${fmt(phases.loadMs, 0)} ms${fixedPool}`;
}

export function formatClip(result: ClipBenchResult): string {
  const lines = result.cores.flatMap((core) => [
    `clip    ${core.core} ${result.clipSeconds} s 720p press -> uploadable MP4: warm ${fmt(core.warmMs, 0)} ms, cold ${fmt(core.coldMs, 0)} ms (core load; median of ${rounds(core.coldRoundsMs)}), ` +
      `clip ${fmt(core.clipDurationS, 2)} s; re-encode ${fmt(core.reencodeMs, 0)} ms`,
    `clip    ${core.core} cold press: ${formatPhases(core.phases)}; first press ${PRESS_AFTER_PLAYER_START_MS / 1000} s after the player started (preloaded) ${fmt(core.preloadedColdMs, 0)} ms ` +
      `(median of ${rounds(core.preloadedRoundsMs)}; preload took ${fmt(core.preloadMs, 0)} ms), first press on a revisit (HTTP + code cache) ${fmt(core.revisitColdMs, 0)} ms (median of ${rounds(core.revisitRoundsMs)})`,
  ]);
  lines.push(
    `clip    native ffmpeg same input: re-encode ${fmt(result.nativeReencodeMs, 0)} ms, remux ${fmt(result.nativeRemuxMs, 0)} ms; ` +
      `wasm/native re-encode ${fmt(result.reencodeRatio, 2)}x (goal <= ${CLIP_GOALS.reencodeRatio}x): ${verdict(Number.isNaN(result.reencodeRatio) ? undefined : result.passReencode)}; ` +
      `press -> MP4 goal < ${CLIP_GOALS.pressToMp4Ms} ms: ${verdict(result.passPress)}; ` +
      `first press after the player started goal < ${CLIP_GOALS.coldPressMs} ms on every core: ${verdict(result.passColdPress)}; ` +
      `cold press with nothing loaded < ${CLIP_GOALS.coldPressMs} ms on every core: ${verdict(result.passNothingLoadedPress)}`,
  );
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // `--no-reencode`: only the press figures (the re-encode takes minutes on a busy machine).
  console.log(formatClip(await runClipBench({ log: (line) => console.log(line), reencode: !process.argv.includes('--no-reencode') })));
}
