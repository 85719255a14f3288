/**
 * Our own origin (issue 23, `bench/origin`): glass-to-glass latency from a publisher's frame to
 * a viewer's player, and how many concurrent 720p publishers and HLS viewers one machine holds.
 *
 * Ours: the real `startServer` with the origin (`WORKERS=origin`) and its production
 * collaborators (the ladder mirrored into the media store, served at `/origin/...`). Publishers
 * are Google's libwebrtc (`test/support/whip-wrtc-publisher.ts`, a child process each) sending
 * synthetic 720p30 VP8 with the wall-clock ms of each frame burnt in as a bar code
 * (`origin-clock-code.ts`); werift terminates WebRTC, ffmpeg makes the live fMP4 ladder, the
 * mirror stores it, the HTTP route serves it.
 *
 * Latency: a probe (`origin-clock-probe.ts`) polls the lowest rung's playlist over HTTP every
 * 100 ms, fetches each new segment, decodes it and reads the clocks. "last frame -> available" is
 * when the segment was listed minus the painted time of its newest frame: what the pipeline adds
 * (encode, RTP, ladder, mirror, HTTP); "first frame" adds the segment's own 2 s. A player does
 * not play at the edge: hls.js (our player) starts `liveSyncDurationCount` = 3 target durations
 * behind it, so the player's glass-to-glass is computed as "last frame -> available" + 3 x 2 s
 * (not observed in a browser). Baseline (`origin-baseline.ts`): the same painted frames piped raw
 * into one local ffmpeg with the same ladder arguments, read from its directory: no WebRTC, no
 * mirror, no HTTP. Rounds alternate ours and the baseline; each prints its ratio.
 *
 * Publishers: levels of N concurrent 720p30 publishers (a channel each); a level holds when
 * every publisher's segments keep coming at the segment rate and their latency stays bounded and
 * does not drift up (the ladder keeping up in real time). The CPU of the origin (this process +
 * its ladder ffmpegs) and of the publisher children is printed apart: here the publishers'
 * libwebrtc encoders share the two cores with the origin, so the projection "2 cores / origin
 * CPU per publisher" is printed too.
 *
 * Viewers: one publisher live; levels of N players in a separate process
 * (`origin-viewers.ts`) reloading the top rung's playlist every 2 s and fetching each new
 * segment; a level holds while there are no errors and the segment fetch p95 stays under the
 * threshold. Baseline: the same players, right after at the same level, on a bare `node:http`
 * file server over the same files (`origin-static-baseline.ts`); each level prints the ratio.
 *
 * `node --import tsx bench/origin.ts [--rounds=2] [--seconds=16] [--publishers=1,2,3]
 * [--publisher-seconds=16] [--viewers=25,50,100,200,400] [--viewer-seconds=8]
 * [--viewer-p95-ms=1000] [--rungs=1080,720,480,360] [--preset=veryfast] [--skip=latency,publishers,viewers]`
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../server/src/config.js';
import { createLogger } from '../server/src/observability/index.js';
import { ORIGIN_LADDER_SHEDS_METRIC, OriginSessions } from '../server/src/origin/index.js';
import { DEFAULT_LIVE_LADDER_OPTIONS, planLiveLadder } from '../server/src/origin/live-ladder.js';
import { STAGING_DIR_NAME } from '../server/src/publishing/index.js';
import { startServer, type RunningServer } from '../server/src/start-server.js';
import type { LadderPlan } from '../server/src/vod/index.js';
import { TEST_ADMIN_TOKEN, TEST_UPLOAD_TOKEN_SECRET } from '../test/support/test-server.js';
import { publishWithLibwebrtc, type WhipPublication } from '../test/support/whip-wrtc-publisher.js';
import { startLocalLadder } from './origin-baseline.js';
import { startStaticBaseline } from './origin-static-baseline.js';
import { ClockProbe, PlaylistArrivals, type ClockedSegment, type LadderReader } from './origin-clock-probe.js';
import { childCpu, cpuBetween } from './origin-process-cpu.js';
import type { ViewersResult } from './origin-viewers.js';
import { spawnBenchChild } from './support/child.js';
import { fmt, fmtInt, median, quantile, sleep, table } from './support/stats.js';

export interface OriginBenchOptions {
  readonly rounds?: number;
  /** Seconds each latency round measures (ours, then the baseline). */
  readonly seconds?: number;
  readonly publishers?: readonly number[];
  readonly publisherSeconds?: number;
  readonly viewers?: readonly number[];
  readonly viewerSeconds?: number;
  /** A viewer level holds while the segment fetch p95 is under this. */
  readonly viewerP95Ms?: number;
  readonly rungs?: readonly number[];
  readonly preset?: string;
  readonly skip?: readonly ('latency' | 'publishers' | 'viewers')[];
  readonly log?: (line: string) => void;
}

export interface LatencyFigures {
  readonly segments: number;
  /** Segments whose clock could not be read at all. */
  readonly unreadable: number;
  readonly lastP50: number;
  readonly lastP95: number;
  readonly firstP50: number;
  /** Ours only: the newest frame to its segment listed in ffmpeg's own playlist on the replica's disk (before mirror and HTTP), p50. */
  readonly writtenP50?: number;
}

export interface LatencyRound {
  readonly ours: LatencyFigures;
  readonly baseline: LatencyFigures;
  readonly offerToLiveMs: number;
  /** Ours / baseline, "last frame -> available" p50. */
  readonly ratio: number;
}

export interface PublisherLevel {
  readonly publishers: number;
  readonly live: number;
  readonly segments: number;
  readonly expectedSegments: number;
  readonly lastP50: number;
  readonly lastP95: number;
  /** The largest rise of a publisher's latency from its first to its last segments (ms). */
  readonly driftMs: number;
  /** Cores used over the window: this process (werift, mirror, HTTP) + the ladder ffmpegs, and the publisher children. */
  readonly originCores: number;
  readonly ffmpegCores: number;
  readonly publisherCores: number;
  /**
   * Origin CPU seconds per second of media it put out (segments listed x segment length): what
   * one real-time publisher costs the origin, whether or not this shared machine let it keep up.
   */
  readonly originCpuPerMediaS: number;
  /** Ladders the origin replaced by a lighter one during the level, before going live or while live (they fell behind real time: `live_upload_origin_ladder_sheds_total`, both labels). */
  readonly ladderSheds: number;
  readonly held: boolean;
  readonly why: string | undefined;
}

export interface ViewerLevel {
  readonly viewers: number;
  readonly playlistP95: number;
  readonly segmentP50: number;
  readonly segmentP95: number;
  readonly segments: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly mbitPerS: number;
  readonly originCores: number;
  /** The bare file server at the same level, right after: segment fetch p95, and ours / it. */
  readonly baselineSegmentP95: number;
  readonly ratio: number;
  readonly held: boolean;
}

export interface OriginBenchResult {
  readonly settings: string;
  readonly rounds: LatencyRound[];
  readonly latencyRatio: number;
  readonly publisherLevels: PublisherLevel[];
  readonly viewerLevels: ViewerLevel[];
  /** Most concurrent publishers / viewers a level held (0: none held; undefined: not measured). */
  readonly heldPublishers: number | undefined;
  readonly heldViewers: number | undefined;
  /** 2 cores / origin CPU per second of media, at the first level measured (publishers that do not share the origin's cores). */
  readonly projectedPublishers: number | undefined;
}

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
/** hls.js's default `liveSyncDurationCount`: a player starts this many target durations behind the live edge. */
const PLAYER_SEGMENTS_BEHIND = 3;
/** A publisher whose newest frame takes longer than this to be listed has fallen behind. */
const PUBLISHER_LATENCY_LIMIT_MS = 4000;
const PUBLISHER_DRIFT_LIMIT_MS = 1000;
const MACHINE_CORES = 2;

interface OriginServer {
  readonly url: string;
  readonly running: RunningServer;
  /** Where the origin's sessions write their ladder before it is mirrored (`{workRoot}/{session_id}/hls`). */
  readonly workRoot: string;
  /** The media store's directory (the mirror's copy, what `/origin/...` serves). */
  readonly mediaDir: string;
  createChannel(slug: string): Promise<string>;
  grant(channel: string): Promise<string>;
  close(): Promise<void>;
}

async function startOriginServer(rungs: readonly number[], preset: string): Promise<OriginServer> {
  const scratch = await mkdtemp(join(tmpdir(), 'origin-bench-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    DEMO: '0',
    UPLOAD_TOKEN_SECRET: TEST_UPLOAD_TOKEN_SECRET,
    QUARANTINE_DIR: join(scratch, 'quarantine'),
    MEDIA_DIR: join(scratch, 'media'),
    WORKERS: 'origin',
    ORIGIN_LADDER_PRESET: preset,
    ORIGIN_LADDER_RUNGS: rungs.join(','),
    ORIGIN_MAX_SESSIONS: '64',
    WHIP_OFFERS_PER_MINUTE: '10000',
  });
  // No `origin` option: the production collaborators (the mirror into the media store, served at /origin).
  const running = await startServer(config, { logger: createLogger({ level: process.env['BENCH_LOG'] === '1' ? 'info' : 'silent' }) });
  const admin = (path: string, method: string, body: unknown) =>
    fetch(`${running.url}${path}`, { method, headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return {
    url: running.url,
    running,
    workRoot: join(scratch, 'media', STAGING_DIR_NAME, 'origin'),
    mediaDir: join(scratch, 'media'),
    createChannel: async (slug) => {
      const channel = `bench/${slug}`;
      const created = await admin(`/api/v1/channels/${channel}`, 'PUT', { title: `Origin bench ${slug}`, uploads: 'open', providers: {} });
      if (!created.ok) throw new Error(`could not create ${channel}: ${created.status} ${await created.text()}`);
      return channel;
    },
    grant: async (channel) => {
      const response = await admin(`/api/v1/channels/${channel}/publisher-grants`, 'POST', { capabilities: ['go-live'] });
      if (response.status !== 201) throw new Error(`no grant: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { token: string }).token;
    },
    close: async () => {
      await running.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

interface LivePublisher {
  readonly publication: WhipPublication;
  readonly read: LadderReader;
  /** The same ladder as ffmpeg writes it on this replica's disk, before the mirror. */
  readonly readLocal: LadderReader;
  readonly offerToLiveMs: number;
  end(): Promise<void>;
}

/**
 * Publishes clocked 720p30 to `channel` and waits until the session is live (its record on the
 * bus: a ladder the origin replaces before going live, for falling behind, has its playlists
 * served for a moment before) and `rung`'s playlist is served by the origin.
 */
async function goLive(server: OriginServer, channel: string, rung: string, timeoutMs = 60_000): Promise<LivePublisher> {
  const startedAt = Date.now();
  const publication = await publishWithLibwebrtc(`${server.url}/api/v1/channels/${channel}/whip`, await server.grant(channel), { width: WIDTH, height: HEIGHT, fps: FPS, audio: false, clock: true });
  if (publication.status !== 201) throw new Error(`WHIP offer refused: ${publication.status} ${publication.body}`);
  const sessionId = publication.location!.split('/').at(-1)!;
  const base = `${server.url}/origin/${channel}/${sessionId}/`;
  const read: LadderReader = async (relativePath) => {
    const response = await fetch(`${base}${relativePath}`);
    return response.ok ? Buffer.from(await response.arrayBuffer()) : undefined;
  };
  const end = async () => {
    await fetch(`${server.url}${publication.location}`, { method: 'DELETE' }).catch(() => undefined);
    publication.close();
  };
  const sessions = await OriginSessions.open(server.running.bus);
  while ((await sessions.findById(sessionId))?.state !== 'live' || !(await read(`${rung}/index.m3u8`))) {
    if (Date.now() - startedAt > timeoutMs) {
      await end();
      throw new Error(`${channel} not live within ${timeoutMs} ms (publisher ${publication.connectionState()}, ${publication.frames()} frames)`);
    }
    await sleep(100);
  }
  // ffmpeg writes the ladder into `hls-{generation}` of the session's work directory: a new one each time the ladder is planned again (a grown picture, a shed): read the newest.
  const sessionDir = join(server.workRoot, sessionId);
  const readLocal: LadderReader = async (relativePath) => {
    const generations = (await readdir(sessionDir).catch(() => [] as string[])).flatMap((name) => (/^hls-\d+$/.test(name) ? [Number(name.slice(4))] : []));
    if (generations.length === 0) return undefined;
    return readFile(join(sessionDir, `hls-${Math.max(...generations)}`, relativePath)).catch(() => undefined);
  };
  return { publication, read, readLocal, offerToLiveMs: Date.now() - startedAt, end };
}

/** Ladders the origin has replaced by lighter ones so far (its `/metrics` counter). */
async function ladderSheds(server: OriginServer): Promise<number> {
  const metric = server.running.metrics.registry.getSingleMetric(ORIGIN_LADDER_SHEDS_METRIC);
  return ((await metric?.get())?.values ?? []).reduce((sum, sample) => sum + sample.value, 0);
}

function latencyFigures(samples: readonly ClockedSegment[], written?: ReadonlyMap<string, number>): LatencyFigures {
  const readable = samples.filter((sample) => sample.lastPaintedMs !== undefined && sample.firstPaintedMs !== undefined);
  const last = readable.map((sample) => sample.availableAt - sample.lastPaintedMs!);
  const writtenAt = written ? readable.flatMap((sample) => (written.has(sample.name) ? [written.get(sample.name)! - sample.lastPaintedMs!] : [])) : [];
  return {
    ...(written ? { writtenP50: median(writtenAt) } : {}),
    segments: samples.length,
    unreadable: samples.length - readable.length,
    lastP50: median(last),
    lastP95: quantile(last, 0.95),
    firstP50: median(readable.map((sample) => sample.availableAt - sample.firstPaintedMs!)),
  };
}

/** Segments of the first seconds after the playlist appears carry the start (ffmpeg probing its input, the encoder ramping up): not measured. */
const WARMUP_S = 4;

async function probeFor(read: LadderReader, rung: string, seconds: number): Promise<ClockedSegment[]> {
  await sleep(WARMUP_S * 1000);
  const probe = new ClockProbe(read, rung);
  probe.start();
  await sleep(seconds * 1000);
  return probe.stop();
}

const isLadderFfmpeg = (cmdline: string) => cmdline.startsWith('ffmpeg') && cmdline.includes('.sdp');
const isPublisher = (cmdline: string) => cmdline.includes('whip-wrtc-publisher-child');

function describeSettings(plan: LadderPlan): string {
  return (
    `source ${WIDTH}x${HEIGHT}@${FPS} VP8 from libwebrtc (no audio); ladder ${plan.rungs.map((rung) => `${rung.name} ${rung.videoBitrateKbps}k`).join(', ')}; ` +
    `x264 ${plan.preset} zerolatency, ${plan.segmentS} s fMP4 segments, ${DEFAULT_LIVE_LADDER_OPTIONS.playlistSegments}-segment window`
  );
}

export async function runOriginBench(options: OriginBenchOptions = {}): Promise<OriginBenchResult> {
  const log = options.log ?? console.log;
  const rounds = options.rounds ?? 2;
  const seconds = options.seconds ?? 16;
  const rungs = options.rungs ?? DEFAULT_LIVE_LADDER_OPTIONS.rungs;
  const preset = options.preset ?? DEFAULT_LIVE_LADDER_OPTIONS.preset;
  const skip = new Set(options.skip ?? []);
  const ladderOptions = { ...DEFAULT_LIVE_LADDER_OPTIONS, rungs, preset };
  const plan = planLiveLadder({ width: WIDTH, height: HEIGHT }, false, ladderOptions);
  const lowest = plan.rungs.at(-1)!.name;
  const top = plan.rungs[0]!.name;
  const settings = describeSettings(plan);
  log(`settings: ${settings}`);
  const server = await startOriginServer(rungs, preset);
  const result = {
    settings,
    rounds: [] as LatencyRound[],
    latencyRatio: Number.NaN,
    publisherLevels: [] as PublisherLevel[],
    viewerLevels: [] as ViewerLevel[],
    heldPublishers: undefined as number | undefined,
    heldViewers: undefined as number | undefined,
    projectedPublishers: undefined as number | undefined,
  };
  try {
    if (!skip.has('latency')) {
      const channel = await server.createChannel('latency');
      log(`latency: ${rounds} rounds of ${seconds} s, probe on the ${lowest} rung, ours then the baseline`);
      for (let round = 1; round <= rounds; round += 1) {
        const live = await goLive(server, channel, lowest);
        const arrivals = new PlaylistArrivals(live.readLocal, lowest);
        arrivals.start();
        const oursSamples = await probeFor(live.read, lowest, seconds).finally(() => {
          arrivals.stop();
          return live.end();
        });
        const baselineLadder = await startLocalLadder(plan, ladderOptions, WIDTH, HEIGHT, FPS);
        let baselineSamples: ClockedSegment[];
        let baselineDropped = 0;
        try {
          while (!(await baselineLadder.read(`${lowest}/index.m3u8`))) await sleep(100);
          baselineSamples = await probeFor(baselineLadder.read, lowest, seconds);
          baselineDropped = baselineLadder.dropped();
        } finally {
          await baselineLadder.stop();
        }
        const ours = latencyFigures(oursSamples, arrivals.firstSeen);
        const baseline = latencyFigures(baselineSamples);
        const entry: LatencyRound = { ours, baseline, offerToLiveMs: live.offerToLiveMs, ratio: ours.lastP50 / baseline.lastP50 };
        result.rounds.push(entry);
        const perSegment = (samples: readonly ClockedSegment[]) =>
          samples.map((sample) => (sample.lastPaintedMs === undefined ? '?' : fmt((sample.availableAt - sample.lastPaintedMs) / 1000, 2))).join(' ');
        log(`    per segment (s, last frame -> available): ours ${perSegment(oursSamples)}; baseline ${perSegment(baselineSamples)}`);
        log(
          `  round ${round}: ours last frame -> available p50 ${fmtInt(ours.lastP50)} / p95 ${fmtInt(ours.lastP95)} ms, first frame p50 ${fmtInt(ours.firstP50)} ms ` +
            `(${ours.segments} segments, ${ours.unreadable} unreadable; written by ffmpeg p50 ${fmtInt(ours.writtenP50 ?? Number.NaN)} ms; offer -> live ${fmtInt(live.offerToLiveMs)} ms); ` +
            `baseline p50 ${fmtInt(baseline.lastP50)} / p95 ${fmtInt(baseline.lastP95)} ms, first ${fmtInt(baseline.firstP50)} ms (${baseline.segments} segments, ${baselineDropped} frames dropped); ` +
            `ratio ${fmt(entry.ratio, 2)}`,
        );
        await sleep(1000);
      }
      result.latencyRatio = median(result.rounds.map((round) => round.ratio));
    }

    if (!skip.has('publishers')) {
      const window = options.publisherSeconds ?? 16;
      const channels: string[] = [];
      log(`publishers: levels ${(options.publishers ?? [1, 2, 3]).join(', ')} of concurrent ${WIDTH}x${HEIGHT}@${FPS} publishers, ${window} s each`);
      for (const n of options.publishers ?? [1, 2, 3]) {
        while (channels.length < n) channels.push(await server.createChannel(`publisher-${channels.length + 1}`));
        const shedsBefore = await ladderSheds(server);
        const lives = await Promise.allSettled(channels.slice(0, n).map((channel) => goLive(server, channel, lowest)));
        const live = lives.flatMap((settled) => (settled.status === 'fulfilled' ? [settled.value] : []));
        const failure = lives.find((settled) => settled.status === 'rejected');
        const cpuBefore = childCpu();
        const ownBefore = process.cpuUsage();
        const startedAt = Date.now();
        const samples = await Promise.all(live.map((publisher) => probeFor(publisher.read, lowest, window)));
        const elapsedS = (Date.now() - startedAt) / 1000;
        const own = process.cpuUsage(ownBefore);
        const cpuAfter = childCpu();
        await Promise.all(live.map((publisher) => publisher.end()));
        const ffmpegCores = cpuBetween(cpuBefore, cpuAfter, isLadderFfmpeg) / elapsedS;
        const expected = Math.floor(window / plan.segmentS) - 1;
        const drifts = samples.map((one) => {
          const latencies = one.filter((sample) => sample.lastPaintedMs !== undefined).map((sample) => sample.availableAt - sample.lastPaintedMs!);
          return latencies.length >= 4 ? median(latencies.slice(-2)) - median(latencies.slice(0, 2)) : Number.POSITIVE_INFINITY;
        });
        const figures = latencyFigures(samples.flat());
        const short = samples.filter((one) => one.length < expected).length;
        const why =
          failure?.status === 'rejected'
            ? `a publisher did not go live: ${failure.reason instanceof Error ? failure.reason.message : String(failure.reason)}`
            : short > 0
              ? `${short} publisher(s) produced fewer than ${expected} segments in ${window} s`
              : figures.lastP95 > PUBLISHER_LATENCY_LIMIT_MS
                ? `latency p95 ${fmtInt(figures.lastP95)} ms > ${PUBLISHER_LATENCY_LIMIT_MS} ms`
                : Math.max(...drifts) > PUBLISHER_DRIFT_LIMIT_MS
                  ? `latency rose by ${fmtInt(Math.max(...drifts))} ms over the window (falling behind)`
                  : undefined;
        const originCpuS = (own.user + own.system) / 1e6 + ffmpegCores * elapsedS;
        const level: PublisherLevel = {
          originCpuPerMediaS: originCpuS / (figures.segments * plan.segmentS),
          publishers: n,
          live: live.length,
          segments: figures.segments,
          expectedSegments: expected * n,
          lastP50: figures.lastP50,
          lastP95: figures.lastP95,
          driftMs: Math.max(...drifts),
          originCores: (own.user + own.system) / 1e6 / elapsedS + ffmpegCores,
          ffmpegCores,
          publisherCores: cpuBetween(cpuBefore, cpuAfter, isPublisher) / elapsedS,
          ladderSheds: (await ladderSheds(server)) - shedsBefore,
          held: why === undefined,
          why,
        };
        result.publisherLevels.push(level);
        log(
          `  ${n} publisher(s): ${live.length} live, ${level.segments}/${level.expectedSegments} segments, last frame -> available p50 ${fmtInt(level.lastP50)} / p95 ${fmtInt(level.lastP95)} ms, ` +
            `drift ${fmtInt(level.driftMs)} ms; origin ${fmt(level.originCores, 2)} cores (ffmpeg ${fmt(ffmpegCores, 2)}), ${fmt(level.originCpuPerMediaS, 2)} CPU s per media s; publishers ${fmt(level.publisherCores, 2)} cores; ladders shed ${level.ladderSheds}: ` +
            (level.held ? 'held' : `NOT held (${why})`),
        );
        await sleep(2000);
        if (!level.held) break;
        result.heldPublishers = n;
      }
      result.heldPublishers ??= 0;
      const first = result.publisherLevels[0];
      if (first && Number.isFinite(first.originCpuPerMediaS)) result.projectedPublishers = Math.floor(MACHINE_CORES / first.originCpuPerMediaS);
    }

    if (!skip.has('viewers')) {
      const viewerSeconds = options.viewerSeconds ?? 8;
      const threshold = options.viewerP95Ms ?? 1000;
      const channel = await server.createChannel('viewers');
      const live = await goLive(server, channel, top);
      const rungPath = `/origin/${channel}/${live.publication.location!.split('/').at(-1)!}/${top}/`;
      const bare = await startStaticBaseline(server.mediaDir);
      const viewers = spawnBenchChild<ViewersResult>(new URL('./origin-viewers.ts', import.meta.url));
      const watch = async (base: string, n: number) => {
        viewers.send({ type: 'run', rungUrl: `${base}${rungPath}`, viewers: n, seconds: viewerSeconds, segmentS: plan.segmentS });
        return viewers.next((message): message is ViewersResult => message.type === 'result', (viewerSeconds + 60) * 1000);
      };
      log(`viewers: levels ${(options.viewers ?? [25, 50, 100, 200, 400]).join(', ')} of players on the ${top} rung, ${viewerSeconds} s each, hold while segment p95 < ${threshold} ms`);
      try {
        for (const n of options.viewers ?? [25, 50, 100, 200, 400]) {
          const cpuBefore = childCpu();
          const ownBefore = process.cpuUsage();
          const startedAt = Date.now();
          const run = await watch(server.url, n);
          const elapsedS = (Date.now() - startedAt) / 1000;
          const own = process.cpuUsage(ownBefore);
          const originCores = (own.user + own.system) / 1e6 / elapsedS + cpuBetween(cpuBefore, childCpu(), isLadderFfmpeg) / elapsedS;
          const segmentP95 = quantile(run.segmentMs, 0.95);
          const baselineSegmentP95 = quantile((await watch(bare.url, n)).segmentMs, 0.95);
          const level: ViewerLevel = {
            baselineSegmentP95,
            ratio: segmentP95 / baselineSegmentP95,
            viewers: n,
            playlistP95: quantile(run.playlistMs, 0.95),
            segmentP50: median(run.segmentMs),
            segmentP95,
            segments: run.segmentMs.length,
            errors: run.errors,
            firstError: run.firstError,
            mbitPerS: (run.bytes * 8) / 1e6 / elapsedS,
            originCores,
            held: run.errors === 0 && run.segmentMs.length > 0 && segmentP95 < threshold,
          };
          result.viewerLevels.push(level);
          log(
            `  ${n} viewers: playlist p95 ${fmtInt(level.playlistP95)} ms, segment p50 ${fmtInt(level.segmentP50)} / p95 ${fmtInt(segmentP95)} ms (${level.segments} segments), ` +
              `${fmt(level.mbitPerS, 0)} Mbit/s, ${run.errors} errors${run.firstError ? ` (${run.firstError})` : ''}, origin ${fmt(originCores, 2)} cores; ` +
              `bare file server segment p95 ${fmtInt(baselineSegmentP95)} ms, ratio ${fmt(level.ratio, 2)}: ${level.held ? 'held' : 'NOT held'}`,
          );
          if (!level.held) break;
          result.heldViewers = n;
        }
        result.heldViewers ??= 0;
      } finally {
        await viewers.stop();
        await bare.close();
        await live.end();
      }
    }
  } finally {
    await sleep(1000);
    await server.close();
  }
  return result;
}

export function formatOrigin(result: OriginBenchResult): string {
  const lines = [`settings: ${result.settings}`];
  if (result.rounds.length > 0) {
    lines.push(
      table([
        ['round', 'ours last->avail p50', 'p95', 'first p50', 'written p50', 'baseline last->avail p50', 'p95', 'ratio'],
        ...result.rounds.map((round, index) => [
          String(index + 1),
          `${fmtInt(round.ours.lastP50)} ms`,
          `${fmtInt(round.ours.lastP95)} ms`,
          `${fmtInt(round.ours.firstP50)} ms`,
          `${fmtInt(round.ours.writtenP50 ?? Number.NaN)} ms`,
          `${fmtInt(round.baseline.lastP50)} ms`,
          `${fmtInt(round.baseline.lastP95)} ms`,
          fmt(round.ratio, 2),
        ]),
      ]),
    );
  }
  if (result.publisherLevels.length > 0) {
    lines.push(
      table([
        ['publishers', 'segments', 'last->avail p50', 'p95', 'drift', 'origin cores', 'ffmpeg cores', 'CPU s/media s', 'publisher cores', 'held'],
        ...result.publisherLevels.map((level) => [
          String(level.publishers),
          `${level.segments}/${level.expectedSegments}`,
          `${fmtInt(level.lastP50)} ms`,
          `${fmtInt(level.lastP95)} ms`,
          `${fmtInt(level.driftMs)} ms`,
          fmt(level.originCores, 2),
          fmt(level.ffmpegCores, 2),
          fmt(level.originCpuPerMediaS, 2),
          fmt(level.publisherCores, 2),
          level.held ? 'yes' : `no: ${level.why}`,
        ]),
      ]),
    );
  }
  if (result.viewerLevels.length > 0) {
    lines.push(
      table([
        ['viewers', 'playlist p95', 'segment p50', 'segment p95', 'Mbit/s', 'errors', 'origin cores', 'bare p95', 'ratio', 'held'],
        ...result.viewerLevels.map((level) => [
          String(level.viewers),
          `${fmtInt(level.playlistP95)} ms`,
          `${fmtInt(level.segmentP50)} ms`,
          `${fmtInt(level.segmentP95)} ms`,
          fmt(level.mbitPerS, 0),
          String(level.errors),
          fmt(level.originCores, 2),
          `${fmtInt(level.baselineSegmentP95)} ms`,
          fmt(level.ratio, 2),
          level.held ? 'yes' : 'no',
        ]),
      ]),
    );
  }
  lines.push(originSummary(result));
  return lines.join('\n');
}

/** One line for `npm run bench`'s summary. */
export function originSummary(result: OriginBenchResult | undefined): string {
  if (!result) return 'origin  not measured';
  const latency = result.rounds.map((round) => round.ours.lastP50);
  const parts: string[] = [];
  if (latency.length > 0) {
    const last = median(latency);
    const segmentS = 2;
    parts.push(
      `frame -> segment available p50 ${fmtInt(last)} ms (baseline ${fmtInt(median(result.rounds.map((round) => round.baseline.lastP50)))} ms, ratio ${fmt(result.latencyRatio, 2)}), ` +
        `player ${PLAYER_SEGMENTS_BEHIND} segments behind the edge ~${fmt((last + PLAYER_SEGMENTS_BEHIND * segmentS * 1000) / 1000)} s glass-to-glass`,
    );
  }
  if (result.heldPublishers !== undefined) {
    parts.push(
      `held ${result.heldPublishers} concurrent 720p30 publisher(s)` +
        (result.projectedPublishers !== undefined
          ? ` (projected ${result.projectedPublishers} on ${MACHINE_CORES} quiet cores the publishers do not share, from the origin's CPU per media second)`
          : ''),
    );
  }
  if (result.heldViewers !== undefined) parts.push(`held ${result.heldViewers} HLS viewers`);
  return `origin  ${parts.join('; ')}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => process.argv.find((value) => value.startsWith(`--${name}=`))?.slice(name.length + 3);
  const numbers = (name: string) => arg(name)?.split(',').map(Number);
  const number = (name: string) => (arg(name) === undefined ? undefined : Number(arg(name)));
  const result = await runOriginBench({
    rounds: number('rounds'),
    seconds: number('seconds'),
    publishers: numbers('publishers'),
    publisherSeconds: number('publisher-seconds'),
    viewers: numbers('viewers'),
    viewerSeconds: number('viewer-seconds'),
    viewerP95Ms: number('viewer-p95-ms'),
    rungs: numbers('rungs'),
    preset: arg('preset'),
    skip: arg('skip')?.split(',') as OriginBenchOptions['skip'],
  });
  console.log(formatOrigin(result));
}
