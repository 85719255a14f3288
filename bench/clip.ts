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
 * Re-encode: `MediaTranscoder.encode` (the element's exact-cut path: H.264/AAC, at most 720p)
 * versus native ffmpeg with the very same arguments (`encodeArgs`) on the very same bytes.
 * Goals: press -> MP4 < 1 s (warm, stream copy); wasm re-encode <= 5x native.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { buildElement } from '../element/scripts/build.js';
import { encodeArgs } from '../element/src/live-upload/ffmpeg-args.js';
import { startTestServer } from '../test/support/test-server.js';
import { fmt, median, verdict } from './support/stats.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../', import.meta.url));

export const CLIP_GOALS = { pressToMp4Ms: 1000, reencodeRatio: 5 } as const;

export interface ClipCoreResult {
  readonly core: string;
  readonly coldMs: number;
  readonly warmMs: number;
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
}

export interface ClipBenchOptions {
  readonly clipSeconds?: number;
  readonly presses?: number;
  readonly log?: (line: string) => void;
}

/** The in-page half, bundled by esbuild from the element's own modules. */
const PAGE_SOURCE = `
import { ClipBuffer, concatSegments } from './element/src/live-upload/clip-buffer.ts';
import { MediaTranscoder } from './element/src/live-upload/media-transcoder.ts';
window.clipBench = (args) => clipBench(args).catch((error) => { throw new Error(String(error?.stack ?? error)); });
const clipBench = async ({ segments, clipSeconds, presses, assetBase }) => {
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
  await transcoder.encode(input, { durationMs: selection.durationMs, cut: { startMs: selection.offsetMs, durationMs: selection.durationMs } });
  const reencodeMs = performance.now() - started;
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

function serve(dir: string, page: string, isolated: boolean): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
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
      const { server: pageServer, url } = await serve(dir, page, isolated);
      pages.push(pageServer);
      const tab = await browser.newPage();
      await tab.goto(url);
      await tab.waitForFunction(() => 'clipBench' in window);
      const segments = readPlaylist(playlist, `${url}/hls/`);
      const result = await tab.evaluate(
        (args) => (window as unknown as { clipBench(a: unknown): Promise<{ core: string; coldMs: number; warm: number[]; reencodeMs: number; mp4: number[]; offsetMs: number; durationMs: number; firstSn: number; count: number }> }).clipBench(args),
        { segments, clipSeconds, presses, assetBase: `${server.url}/element/` },
      );
      await tab.close();
      const mp4 = new Uint8Array(result.mp4);
      const clipFile = join(dir, `clip-${cores.length}.mp4`);
      await writeFile(clipFile, mp4);
      cores.push({ core: result.core, coldMs: result.coldMs, warmMs: median(result.warm), reencodeMs: result.reencodeMs, clipDurationS: await ffprobeDuration(clipFile) });
      sample ??= { mp4, offsetMs: result.offsetMs, durationMs: result.durationMs, firstSn: result.firstSn, count: result.count };
      log(`${result.core}: press -> MP4 cold ${fmt(result.coldMs, 0)} ms, warm ${fmt(median(result.warm), 0)} ms; re-encode ${fmt(result.reencodeMs, 0)} ms`);
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
    const nativeReencodeMs = await timeNative(encodeArgs(input, join(dir, 'native-encode.mp4'), { cut, durationMs: cut.durationMs }));
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
    };
  } finally {
    await browser.close();
    for (const page of pages) page.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatClip(result: ClipBenchResult): string {
  const lines = result.cores.map(
    (core) =>
      `clip    ${core.core} ${result.clipSeconds} s 720p press -> uploadable MP4: warm ${fmt(core.warmMs, 0)} ms, cold ${fmt(core.coldMs, 0)} ms (core load), ` +
      `clip ${fmt(core.clipDurationS, 2)} s; re-encode ${fmt(core.reencodeMs, 0)} ms`,
  );
  lines.push(
    `clip    native ffmpeg same input: re-encode ${fmt(result.nativeReencodeMs, 0)} ms, remux ${fmt(result.nativeRemuxMs, 0)} ms; ` +
      `wasm/native re-encode ${fmt(result.reencodeRatio, 2)}x (goal <= ${CLIP_GOALS.reencodeRatio}x): ${verdict(result.passReencode)}; ` +
      `press -> MP4 goal < ${CLIP_GOALS.pressToMp4Ms} ms: ${verdict(result.passPress)}`,
  );
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatClip(await runClipBench({ log: (line) => console.log(line) })));
}
