/**
 * Upload benchmark (issue 4): throughput of a 200 MiB tus upload through our server versus a
 * bare `@tus/server` + `FileStore` in the same run, moderation latency per 30 s clip, and
 * transcode speed as a multiple of realtime.
 *
 * Throughput. Ours: the real `startServer` (test/support/test-server.ts, channel open for
 * uploads, memory bus) with the moderation worker OFF (the bytes are random, and this leg is
 * about moving them): `POST /api/v1/uploads/token` (not timed) -> tus creation + PATCHes with
 * the grant as bearer -> Koa -> our hooks (grant verify, upload record lookups) ->
 * QuarantineFileStore -> on the last PATCH the moderation job is enqueued and the record
 * marked `checking` before the 204. Baseline: bare `@tus/server` + stock `FileStore` on a
 * plain node http server (bench/baselines/tus-bare.ts). Both write into the same temp file
 * system. The client is a minimal raw tus client (bench/load/tus-client.ts) in a SEPARATE
 * process (bench/load/tus-upload.ts): streaming 200 MiB out of a file into a socket costs about
 * as much CPU as receiving it, so on 2 cores it would otherwise compete with the server for
 * one event loop. Two modes: 8 MiB PATCHes, and one streamed PATCH of the whole file. Runs
 * alternate baseline/ours (the order flips every round); every run checks the stored size, and
 * the first run of each side and mode checks the stored file's sha256 against the source, so
 * the bench cannot pass by dropping bytes. Stored files are deleted after each run (which also
 * spares the next run the previous one's write-back). The ratio is ours / baseline MiB/s
 * (medians), goal >= 0.9; the median of the per-round ratios is printed next to it.
 *
 * Moderation latency. A 30 s 1280x720 30 fps H.264/AAC clip (lavfi testsrc2 + sine, libx264
 * veryfast) is uploaded through our server with the worker ON and the `review` policy, and one
 * blocklist entry present so the perceptual-hash check really samples frames (with an empty
 * blocklist it passes without decoding). Measured: from the client receiving the last 204
 * until the record reaches `in_review` (every check passed), seen on the uploads KV watch.
 * This upload runs in-process (a few MB; the client is idle while the checks run). Baseline,
 * same run, same file: bare `ffprobe` with the same arguments as our probe + one bare ffmpeg
 * frame-sampling pass (8 frames, 9x8 grey), spawned back to back.
 *
 * Transcode speed: bench/media.ts's `runMediaBench` on the same clip (`transcodeForPublishing`
 * vs a bare `ffmpeg` libx264 veryfast + aac, as a multiple of realtime), plus its moderation
 * media steps measured directly.
 *
 * Everything is loopback. `node --import tsx bench/upload.ts [--rounds=N] [--size-mib=N]`.
 */
import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUCKETS, decodeJson } from '../server/src/bus/index.js';
import { mediaInputArgs, runFfmpeg } from '../server/src/media/index.js';
import { probeArgs } from '../server/src/media/probe.js';
import { uploadRecordSchema, type UploadRecord } from '../server/src/uploads/index.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../test/support/test-server.js';
import { startTusBaseline } from './baselines/tus-bare.js';
import type { TusUploadResult, TusUploadRun, TusUploadTiming } from './load/protocol.js';
import { tusUpload } from './load/tus-client.js';
import { formatMediaBench, runMediaBench, type MediaBenchResult } from './media.js';
import { spawnBenchChild, type BenchChild } from './support/child.js';
import { fmt, fmtInt, median, quantile, table, verdict, wallNow } from './support/stats.js';

const MIB = 1024 * 1024;
export const UPLOAD_THROUGHPUT_GOAL = 0.9;
const UPLOAD_TIMEOUT_MS = 5 * 60_000;
const MODERATION_TIMEOUT_MS = 120_000;
const FFMPEG_TIMEOUT_MS = 10 * 60_000;
/**
 * Grants come faster than a viewer's, and every upload of this bench stays pending (`checking`
 * with the worker off, `in_review` after it): lift the per-client rate limit and the channel's
 * cap of pending uploads so neither ends a run.
 */
const BENCH_ENV = { UPLOAD_RATE_LIMIT_PER_MINUTE: '10000', UPLOAD_CHANNEL_MAX_PENDING: '10000' };
/** A hash no testsrc2 frame is near: the blocklist is non-empty, so frames are sampled, and nothing matches. */
const UNRELATED_HASH = '0123456789abcdef';

export interface UploadBenchOptions {
  /** Bytes of the throughput upload (default 200 MiB). */
  readonly sizeBytes?: number;
  /** PATCH sizes; Infinity = one streamed PATCH (default 8 MiB and one PATCH). */
  readonly chunkSizes?: readonly number[];
  /** Alternating baseline/ours pairs per chunk size. */
  readonly rounds?: number;
  readonly moderationRounds?: number;
  readonly clipSeconds?: number;
  /** Rounds of bench/media.ts (0 = skip the transcode leg). */
  readonly mediaRounds?: number;
  readonly log?: (line: string) => void;
}

export interface ThroughputSide {
  /** Median MiB/s over the runs, from the creation POST to the last 204. */
  readonly mibPerSecond: number;
  readonly runsMibPerSecond: readonly number[];
  /** This process's CPU (both servers live here; only one is busy at a time) per run, median ms. */
  readonly serverCpuMs: number;
  /** The client process's CPU per run, median ms. */
  readonly clientCpuMs: number;
  readonly patches: number;
  /** The stored file's sha256 equalled the source's (checked on the first run). */
  readonly verified: boolean;
}

export interface ThroughputRow {
  readonly mode: string;
  readonly chunkSize: number;
  readonly ours?: ThroughputSide;
  readonly baseline?: ThroughputSide;
  /** ours / baseline of the median MiB/s: the verdict's figure. */
  readonly ratio: number;
  /** Median over rounds of ours / baseline within a round (back-to-back runs share the machine's state). */
  readonly pairedRatio: number;
  readonly goal: number;
  readonly pass: boolean | undefined;
  readonly error?: string;
}

export interface ModerationLatency {
  readonly clipSeconds: number;
  readonly clipBytes: number;
  readonly rounds: number;
  /** Last 204 -> `in_review`, per round, ms. */
  readonly latencyMs: readonly number[];
  readonly p50Ms: number;
  /** Bare ffprobe + one bare frame-sampling pass, per round, ms. */
  readonly baselineMs: readonly number[];
  readonly baselineP50Ms: number;
  /** p50 ours / p50 baseline (> 1: our overhead). */
  readonly ratio: number;
  /** Per check (in order): median `duration_ms` as recorded on the upload. */
  readonly checks: ReadonlyArray<{ readonly name: string; readonly p50Ms: number }>;
}

export interface UploadBenchResult {
  readonly sizeBytes: number;
  readonly rounds: number;
  readonly throughput: ThroughputRow[];
  readonly moderation?: ModerationLatency;
  readonly moderationError?: string;
  readonly media?: MediaBenchResult;
  readonly mediaError?: string;
}

const modeName = (chunkSize: number, size: number) => (chunkSize >= size ? '1 PATCH' : `${fmtInt(chunkSize / MIB)} MiB PATCHes`);
const errorLine = (error: unknown) => (error instanceof Error ? error.message.split('\n')[0]! : String(error));

/** Writes `size` random bytes (random: no file system or page cache can shortcut them) and returns their sha256. */
async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const block = Buffer.alloc(8 * MIB);
  const file = await open(path, 'w', 0o600);
  try {
    for (let written = 0; written < size; ) {
      const length = Math.min(block.length, size - written);
      randomFillSync(block, 0, length);
      hash.update(block.subarray(0, length));
      await file.write(block, 0, length);
      written += length;
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MIB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface Grant {
  readonly upload_url: string;
  readonly token: string;
  readonly upload_id: string;
}

async function grantFor(server: TestServer, size: number, filename: string): Promise<Grant> {
  const response = await server.request('/api/v1/uploads/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ channel: TEST_CHANNEL, filename, size, type: 'video/mp4', source: 'file' }),
  });
  if (response.status !== 201) throw new Error(`upload grant answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Grant;
}

let uploadCounter = 0;

async function clientUpload(client: BenchChild<TusUploadResult>, run: Omit<TusUploadRun, 'type' | 'id'>): Promise<TusUploadTiming> {
  const id = ++uploadCounter;
  client.send({ type: 'upload', id, ...run } satisfies TusUploadRun);
  const result = await client.next((m): m is TusUploadResult => m.type === 'uploaded' && m.id === id, UPLOAD_TIMEOUT_MS);
  if (!result.timing) throw new Error(result.error ?? 'the upload failed');
  return result.timing;
}

interface RunSample {
  readonly timing: TusUploadTiming;
  readonly serverCpuMs: number;
  readonly verified: boolean | undefined;
}

function summarizeSide(samples: readonly RunSample[], size: number): ThroughputSide {
  const rates = samples.map((s) => size / MIB / (s.timing.totalMs / 1000));
  return {
    mibPerSecond: median(rates),
    runsMibPerSecond: rates,
    serverCpuMs: median(samples.map((s) => s.serverCpuMs)),
    clientCpuMs: median(samples.map((s) => s.timing.clientCpuMs)),
    patches: samples[0]?.timing.patches ?? 0,
    verified: samples.some((s) => s.verified === true),
  };
}

async function benchThroughput(
  dir: string,
  settings: { size: number; chunkSizes: readonly number[]; rounds: number },
  log: (line: string) => void,
): Promise<ThroughputRow[]> {
  const source = join(dir, 'source.bin');
  const started = performance.now();
  const sourceSha = await writeRandomFile(source, settings.size);
  log(`  ${fmtInt(settings.size / MIB)} MiB of random bytes written in ${fmtInt(performance.now() - started)} ms`);

  const client = spawnBenchChild<TusUploadResult>(new URL('./load/tus-upload.ts', import.meta.url));
  const bare = await startTusBaseline(join(dir, 'bare'));
  let server: TestServer | undefined;
  const rows: ThroughputRow[] = [];
  try {
    server = await startTestServer({
      env: { ...BENCH_ENV, WORKERS: 'none', UPLOAD_MAX_BYTES: String(Math.max(settings.size, 500 * MIB)) },
    });
    const ours = server;
    // Warm-up (JIT, sockets, file system metadata) on both sides, not measured.
    const warm = Math.min(settings.size, 8 * MIB);
    const warmFile = join(dir, 'warm.bin');
    await writeRandomFile(warmFile, warm);
    await clientUpload(client, { endpoint: bare.endpoint, headers: {}, path: warmFile, size: warm, chunkSize: warm });
    const warmGrant = await grantFor(ours, warm, 'warm.bin');
    await clientUpload(client, { endpoint: warmGrant.upload_url, headers: { Authorization: `Bearer ${warmGrant.token}` }, path: warmFile, size: warm, chunkSize: warm });

    for (const chunkSize of settings.chunkSizes) {
      const mode = modeName(chunkSize, settings.size);
      try {
        const samples = { ours: [] as RunSample[], baseline: [] as RunSample[] };
        const runOne = async (side: 'ours' | 'baseline'): Promise<RunSample> => {
          const verify = samples[side].length === 0;
          let target: { endpoint: string; headers: Record<string, string> };
          let storedPath: (location: string) => string;
          if (side === 'ours') {
            const grant = await grantFor(ours, settings.size, 'bench.bin');
            target = { endpoint: grant.upload_url, headers: { Authorization: `Bearer ${grant.token}` } };
            storedPath = () => join(ours.quarantineDir, grant.upload_id);
          } else {
            target = { endpoint: bare.endpoint, headers: {} };
            storedPath = (location) => join(bare.directory, new URL(location).pathname.split('/').at(-1)!);
          }
          const cpuBefore = process.cpuUsage();
          const timing = await clientUpload(client, { ...target, path: source, size: settings.size, chunkSize });
          const cpu = process.cpuUsage(cpuBefore);
          const stored = storedPath(timing.location);
          try {
            const { size } = await stat(stored);
            if (size !== settings.size) throw new Error(`${side}: stored ${size} bytes of ${settings.size}`);
            let verified: boolean | undefined;
            if (verify) {
              verified = (await sha256Of(stored)) === sourceSha;
              if (!verified) throw new Error(`${side}: the stored file's sha256 differs from the source's`);
            }
            return { timing, serverCpuMs: (cpu.user + cpu.system) / 1000, verified };
          } finally {
            await rm(stored, { force: true });
            await rm(`${stored}.json`, { force: true });
          }
        };
        const roundRatios: number[] = [];
        for (let round = 0; round < settings.rounds; round++) {
          const order = round % 2 === 0 ? (['baseline', 'ours'] as const) : (['ours', 'baseline'] as const);
          const line: string[] = [];
          for (const side of order) {
            const sample = await runOne(side);
            samples[side].push(sample);
            line.push(`${side} ${fmt(settings.size / MIB / (sample.timing.totalMs / 1000))} MiB/s${sample.verified ? ' (sha256 ok)' : ''}`);
          }
          roundRatios.push(samples.baseline.at(-1)!.timing.totalMs / samples.ours.at(-1)!.timing.totalMs);
          log(`  ${mode} round ${round + 1}/${settings.rounds}: ${line.join(', ')}`);
        }
        const oursSide = summarizeSide(samples.ours, settings.size);
        const baselineSide = summarizeSide(samples.baseline, settings.size);
        const ratio = oursSide.mibPerSecond / baselineSide.mibPerSecond;
        rows.push({ mode, chunkSize, ours: oursSide, baseline: baselineSide, ratio, pairedRatio: median(roundRatios), goal: UPLOAD_THROUGHPUT_GOAL, pass: ratio >= UPLOAD_THROUGHPUT_GOAL });
      } catch (error) {
        log(`  ${mode}: FAILED: ${errorLine(error)}`);
        rows.push({ mode, chunkSize, ratio: Number.NaN, pairedRatio: Number.NaN, goal: UPLOAD_THROUGHPUT_GOAL, pass: undefined, error: errorLine(error) });
      }
    }
  } finally {
    await server?.close();
    await bare.close();
    await client.stop();
    await rm(source, { force: true });
  }
  return rows;
}

/** Spawns a media tool with its output discarded; resolves when it exited 0. */
function bareTool(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString('latin1')) : reject(new Error(`${command} exited ${code}: ${stderr.trim()}`))));
  });
}

/** The moderation tools' work with no wrapper: ffprobe (our arguments), then one frame-sampling decode (our filter). */
async function bareModerationTools(clip: string): Promise<number> {
  const started = performance.now();
  const probed = JSON.parse(await bareTool('ffprobe', probeArgs(clip))) as { format?: { duration?: string } };
  const durationS = Number(probed.format?.duration);
  if (!(durationS > 0)) throw new Error('bare ffprobe found no duration');
  const step = durationS / 8;
  await bareTool('ffmpeg', [
    '-v', 'error', ...mediaInputArgs(clip), '-map', '0:v:0', '-an', '-sn', '-dn',
    '-vf', `select='gte(t\\,(selected_n+0.5)*${step.toFixed(6)})',scale=9:8:flags=area,format=gray`,
    '-fps_mode', 'passthrough', '-frames:v', '8', '-threads', '2', '-f', 'rawvideo', 'pipe:1',
  ]);
  return performance.now() - started;
}

/** Resolves with the record and the wall time when it first reaches a decided status (KV watch). */
async function watchDecision(server: TestServer, uploadId: string): Promise<{ decided: Promise<{ record: UploadRecord; at: number }>; stop: () => void }> {
  const bucket = await server.running.bus.kv(BUCKETS.uploads);
  let reached!: (value: { record: UploadRecord; at: number }) => void;
  const decided = new Promise<{ record: UploadRecord; at: number }>((resolve) => (reached = resolve));
  const watch = await bucket.watch((event) => {
    if (event.key !== uploadId || !event.value) return;
    const at = wallNow();
    const record = decodeJson(event.value, uploadRecordSchema);
    if (!['uploading', 'checking'].includes(record.status)) reached({ record, at });
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`upload ${uploadId} was not decided within ${MODERATION_TIMEOUT_MS} ms`)), MODERATION_TIMEOUT_MS);
  });
  return {
    decided: Promise.race([decided, timeout]),
    stop: () => {
      clearTimeout(timer);
      watch.unsubscribe();
    },
  };
}

async function benchModeration(clip: string, settings: { clipSeconds: number; rounds: number }, log: (line: string) => void): Promise<ModerationLatency> {
  const clipBytes = (await stat(clip)).size;
  const server = await startTestServer({ env: { ...BENCH_ENV, MODERATION_POLICY: 'review' } });
  try {
    const added = await server.request('/api/v1/moderation/blocklist', {
      method: 'POST',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ hashes: [UNRELATED_HASH], label: 'bench: makes the hash check sample frames' }),
    });
    if (added.status !== 201) throw new Error(`blocklist entry answered ${added.status}: ${await added.text()}`);

    const latencyMs: number[] = [];
    const baselineMs: number[] = [];
    const checkMs = new Map<string, number[]>();
    // Warm-up round (first spawn of each tool, JIT), not measured.
    await bareModerationTools(clip);
    for (let round = 0; round <= settings.rounds; round++) {
      const baseline = await bareModerationTools(clip);
      const grant = await grantFor(server, clipBytes, 'clip.mp4');
      const watch = await watchDecision(server, grant.upload_id);
      try {
        const timing = await tusUpload({ endpoint: grant.upload_url, headers: { Authorization: `Bearer ${grant.token}` }, path: clip, size: clipBytes, chunkSize: clipBytes });
        const { record, at } = await watch.decided;
        if (record.status !== 'in_review') {
          throw new Error(`the clip was ${record.status}, not in_review: ${JSON.stringify(record.checks.map(({ name, result, detail }) => ({ name, result, detail })))}`);
        }
        if (round === 0) continue; // the first upload warms the worker's path
        latencyMs.push(at - timing.completedAt);
        baselineMs.push(baseline);
        for (const check of record.checks) {
          if (check.duration_ms === undefined) continue;
          checkMs.set(check.name, [...(checkMs.get(check.name) ?? []), check.duration_ms]);
        }
        log(
          `  moderation round ${round}/${settings.rounds}: 204 -> in_review ${fmtInt(at - timing.completedAt)} ms ` +
            `(${record.checks.map((c) => `${c.name} ${c.duration_ms ?? '?'} ms`).join(', ')}); bare ffprobe + frame sampling ${fmtInt(baseline)} ms`,
        );
      } finally {
        watch.stop();
      }
    }
    const p50Ms = quantile(latencyMs, 0.5);
    const baselineP50Ms = quantile(baselineMs, 0.5);
    return {
      clipSeconds: settings.clipSeconds,
      clipBytes,
      rounds: settings.rounds,
      latencyMs,
      p50Ms,
      baselineMs,
      baselineP50Ms,
      ratio: p50Ms / baselineP50Ms,
      checks: [...checkMs].map(([name, values]) => ({ name, p50Ms: median(values) })),
    };
  } finally {
    await server.close();
  }
}

async function generateClip(path: string, seconds: number): Promise<void> {
  await runFfmpeg(
    [
      '-y', '-v', 'error',
      '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', path,
    ],
    { timeoutMs: FFMPEG_TIMEOUT_MS },
  );
}

export async function runUploadBench(options: UploadBenchOptions = {}): Promise<UploadBenchResult> {
  const size = options.sizeBytes ?? 200 * MIB;
  const rounds = options.rounds ?? 5;
  const clipSeconds = options.clipSeconds ?? 30;
  const mediaRounds = options.mediaRounds ?? 2;
  const chunkSizes = (options.chunkSizes ?? [8 * MIB, Number.POSITIVE_INFINITY]).map((chunk) => Math.min(chunk, size));
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = await mkdtemp(join(tmpdir(), 'live-upload-bench-upload-'));
  try {
    log(`throughput: ${fmtInt(size / MIB)} MiB, ${rounds} alternating rounds per mode`);
    let throughput: ThroughputRow[];
    try {
      throughput = await benchThroughput(dir, { size, chunkSizes, rounds }, log);
    } catch (error) {
      log(`  throughput: FAILED: ${errorLine(error)}`);
      throughput = chunkSizes.map((chunkSize) => ({
        mode: modeName(chunkSize, size),
        chunkSize,
        ratio: Number.NaN,
        pairedRatio: Number.NaN,
        goal: UPLOAD_THROUGHPUT_GOAL,
        pass: undefined,
        error: errorLine(error),
      }));
    }

    const clip = join(dir, 'clip-720p.mp4');
    let clipError: string | undefined;
    try {
      log(`generating a ${clipSeconds} s 1280x720 H.264/AAC clip (libx264 veryfast)...`);
      await generateClip(clip, clipSeconds);
    } catch (error) {
      clipError = `could not generate the clip: ${errorLine(error)}`;
    }

    let moderation: ModerationLatency | undefined;
    let moderationError = clipError;
    if (!clipError) {
      try {
        log(`moderation latency: ${options.moderationRounds ?? 3} rounds (+1 warm-up)`);
        moderation = await benchModeration(clip, { clipSeconds, rounds: options.moderationRounds ?? 3 }, log);
      } catch (error) {
        moderationError = errorLine(error);
        log(`  moderation: FAILED: ${moderationError}`);
      }
    }

    let media: MediaBenchResult | undefined;
    let mediaError = mediaRounds > 0 ? clipError : 'skipped';
    if (!clipError && mediaRounds > 0) {
      try {
        log(`transcode: bench/media.ts on the same clip, ${mediaRounds} rounds`);
        media = await runMediaBench({ clip, clipSeconds, rounds: mediaRounds, log: (line) => log(`  ${line}`) });
      } catch (error) {
        mediaError = errorLine(error);
        log(`  transcode: FAILED: ${mediaError}`);
      }
    }
    return {
      sizeBytes: size,
      rounds,
      throughput,
      ...(moderation ? { moderation } : {}),
      ...(moderationError ? { moderationError } : {}),
      ...(media ? { media } : {}),
      ...(mediaError && !media ? { mediaError } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatUpload(result: UploadBenchResult): string {
  const lines: string[] = [
    `upload throughput: ${fmtInt(result.sizeBytes / MIB)} MiB of random bytes, raw tus client in a separate process, ${result.rounds} alternating runs per side, medians; ` +
      'baseline = bare @tus/server + FileStore on node:http',
    table([
      ['mode', 'ours MiB/s', 'baseline MiB/s', 'ratio', 'goal', 'verdict', 'paired ratio', 'ours runs', 'baseline runs', 'srv CPU ms ours/base', 'client CPU ms', 'sha256'],
      ...result.throughput.map((row) =>
        !row.ours || !row.baseline
          ? [row.mode, 'error', '', '', `>= ${row.goal}`, 'n/a', '', row.error ?? '', '', '', '', '']
          : [
              row.mode,
              fmt(row.ours.mibPerSecond),
              fmt(row.baseline.mibPerSecond),
              fmt(row.ratio, 2),
              `>= ${row.goal}`,
              verdict(row.pass),
              fmt(row.pairedRatio, 2),
              row.ours.runsMibPerSecond.map((v) => fmt(v, 0)).join(' '),
              row.baseline.runsMibPerSecond.map((v) => fmt(v, 0)).join(' '),
              `${fmtInt(row.ours.serverCpuMs)} / ${fmtInt(row.baseline.serverCpuMs)}`,
              fmtInt(row.ours.clientCpuMs),
              row.ours.verified && row.baseline.verified ? 'ok' : 'NOT checked',
            ],
      ),
    ]),
    'ours = grant (untimed) -> tus POST + PATCHes with bearer -> Koa -> hooks -> QuarantineFileStore, moderation worker off; time = POST until the last 204;',
    'ratio = of the medians (the verdict); paired ratio = median of ours/baseline within each round (the order flips every round); runs in order',
    '',
  ];
  const m = result.moderation;
  if (m) {
    lines.push(
      `moderation latency per ${m.clipSeconds} s 720p clip (${fmt(m.clipBytes / MIB)} MiB, review policy, 1 blocklist entry), last 204 -> in_review, ${m.rounds} rounds`,
      table([
        ['', 'p50 ms', 'runs ms'],
        ['ours: worker, all checks, records + audit', fmtInt(m.p50Ms), m.latencyMs.map(fmtInt).join(' ')],
        ['baseline: bare ffprobe + 1 frame-sampling pass', fmtInt(m.baselineP50Ms), m.baselineMs.map(fmtInt).join(' ')],
      ]),
      `ratio ours / baseline p50: ${fmt(m.ratio, 2)}`,
      `per check p50 (record duration_ms): ${m.checks.map((c) => `${c.name} ${fmtInt(c.p50Ms)} ms`).join(', ')}`,
    );
  } else lines.push(`moderation latency not measured: ${result.moderationError ?? 'unknown'}`);
  lines.push('');
  if (result.media) lines.push(`transcode (bench/media.ts on the same clip):`, formatMediaBench(result.media));
  else lines.push(`transcode not measured: ${result.mediaError ?? 'unknown'}`);
  return lines.join('\n');
}

/** One line per figure for `npm run bench`'s summary. */
export function uploadSummary(result: UploadBenchResult | undefined): string[] {
  if (!result) return ['upload  not measured'];
  const lines = result.throughput.map((row) =>
    !row.ours || !row.baseline
      ? `upload  ${row.mode.padEnd(16)} not measured: ${row.error ?? ''}`
      : `upload  ${row.mode.padEnd(16)} ours ${fmt(row.ours.mibPerSecond)} MiB/s, baseline ${fmt(row.baseline.mibPerSecond)} MiB/s, ` +
        `ratio ${fmt(row.ratio, 2)} (paired ${fmt(row.pairedRatio, 2)}; goal >= ${row.goal}): ${verdict(row.pass)}`,
  );
  const m = result.moderation;
  lines.push(
    m
      ? `moderation ${m.clipSeconds} s clip 204 -> in_review p50 ${fmtInt(m.p50Ms)} ms (${m.checks.map((c) => `${c.name} ${fmtInt(c.p50Ms)}`).join(', ')} ms), ` +
          `bare tools ${fmtInt(m.baselineP50Ms)} ms, ratio ${fmt(m.ratio, 2)}`
      : `moderation not measured: ${result.moderationError ?? 'unknown'}`,
  );
  const media = result.media;
  lines.push(
    media
      ? `transcode ${fmt(media.oursRealtime, 2)}x realtime (MP4 + HLS + poster), bare ffmpeg ${fmt(media.baselineRealtime, 2)}x, ratio ${fmt(media.ratio, 2)}; ` +
          `moderation media steps ${fmtInt(media.moderationMs.total)} ms`
      : `transcode not measured: ${result.mediaError ?? 'unknown'}`,
  );
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const found = process.argv.find((a) => a.startsWith(`--${name}=`));
    const value = found ? Number(found.slice(name.length + 3)) : Number.NaN;
    return Number.isFinite(value) && value > 0 ? value : undefined;
  };
  const rounds = arg('rounds');
  const sizeMib = arg('size-mib');
  const result = await runUploadBench({ ...(rounds ? { rounds } : {}), ...(sizeMib ? { sizeBytes: Math.round(sizeMib * MIB) } : {}) });
  console.log(`\n${formatUpload(result)}\n\n${uploadSummary(result).join('\n')}`);
}
