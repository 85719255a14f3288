/**
 * `npm run bench`: every benchmark in sequence (element sizes, webhook ingest on memory, one
 * nats-server and a three-node cluster, SSE fan-out (memory; one nats-server and the cluster), uploads:
 * tus throughput, moderation latency, transcode speed incl. bench/media.ts, outbound webhooks,
 * Clip in Chromium with FFmpeg.wasm vs native ffmpeg, the VOD ladder vs one ffmpeg per rung, our
 * WHIP origin's glass-to-glass latency and capacity; with `-- --fleet` also the fan-out across two
 * replicas, bench/fanout-fleet.ts), each
 * measuring our code and its baseline in the same run, then one summary block with all
 * figures. Goals print PASS/MISS; a miss does not fail the command (machines are shared and
 * noisy), only a bench that could not run at all does, like the badge over its byte budget.
 */
import { runFanoutBench, formatFanout, FANOUT_GOAL, type FanoutBenchResult } from './fanout.js';
import { formatFanoutFleet, formatRatioGoal, runFanoutFleetBench, type FanoutFleetResult } from './fanout-fleet.js';
import { formatIngest, runIngestBench, type IngestBenchResult } from './ingest.js';
import { clusterSummary } from './cluster.js';
import { BADGE_GZIP_BUDGET_BYTES, measureBadgeSize, measureUploadSize, formatUploadSize, UPLOAD_GZIP_BUDGET_BYTES, type UploadSize } from './size.js';
import { CLIP_GOALS, formatClip, runClipBench, type ClipBenchResult } from './clip.js';
import { formatVod, runVodBench, vodSummary, type VodBenchResult } from './vod.js';
import { formatOrigin, originSummary, runOriginBench, type OriginBenchResult } from './origin.js';
import { formatUpload, runUploadBench, uploadSummary, type UploadBenchResult } from './upload.js';
import { formatOutbound, runOutboundBench, type OutboundBenchResult } from './outbound.js';
import { fmt, fmtInt, verdict } from './support/stats.js';

const startedAt = performance.now();
const section = (title: string) => console.log(`\n=== ${title} ===`);
let broken = false;

section('element sizes');
let size: { bytes: number; gzipBytes: number } | undefined;
let uploadSize: UploadSize | undefined;
try {
  size = await measureBadgeSize();
  console.log(`live-badge: ${size.bytes} bytes, ${size.gzipBytes} bytes gzipped (budget ${BADGE_GZIP_BUDGET_BYTES})`);
  uploadSize = await measureUploadSize();
  console.log(formatUploadSize(uploadSize));
} catch (error) {
  broken = true;
  console.log(`size bench failed: ${error instanceof Error ? error.message : String(error)}`);
}

section('ingest: signed Twitch webhooks per second');
let ingest: IngestBenchResult | undefined;
try {
  ingest = await runIngestBench();
  console.log(formatIngest(ingest));
} catch (error) {
  broken = true;
  console.log(`ingest bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}

section('fanout: webhook accepted -> last SSE subscriber');
let fanout: FanoutBenchResult | undefined;
try {
  fanout = await runFanoutBench();
  console.log(formatFanout(fanout));
  console.log(formatRatioGoal(fanout));
} catch (error) {
  broken = true;
  console.log(`fanout bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}

section('fanout on NATS: one nats-server, then the three-node cluster (R3)');
let natsFanout: { single: FanoutBenchResult; cluster: FanoutBenchResult } | undefined;
try {
  const single = await runFanoutBench({ bus: 'nats' });
  console.log(formatFanout(single));
  const cluster = await runFanoutBench({ bus: 'nats-cluster' });
  console.log(formatFanout(cluster));
  natsFanout = { single, cluster };
} catch (error) {
  broken = true;
  console.log(`cluster fanout bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}

// `npm run bench -- --fleet`: connecting tens of thousands of subscribers takes minutes, so not by default.
let fleet: FanoutFleetResult | undefined;
if (process.argv.includes('--fleet')) {
  section('fanout fleet: webhook to one replica -> last of 50,000 SSE subscribers over 2 replicas on one NATS');
  try {
    fleet = await runFanoutFleetBench();
    console.log(formatFanoutFleet(fleet));
  } catch (error) {
    broken = true;
    console.log(`fanout fleet bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}

section('upload: tus throughput, moderation latency, transcode speed');
let upload: UploadBenchResult | undefined;
try {
  upload = await runUploadBench();
  console.log(formatUpload(upload));
} catch (error) {
  broken = true;
  console.log(`upload bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}

section('outbound: signed webhooks to 100 receivers');
let outbound: OutboundBenchResult | undefined;
try {
  outbound = await runOutboundBench();
  console.log(formatOutbound(outbound));
} catch (error) {
  broken = true;
  console.log(`outbound bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}

section('clip: Clip press -> uploadable MP4 in Chromium, re-encode vs native ffmpeg');
let clip: ClipBenchResult | undefined;
try {
  clip = await runClipBench();
  console.log(formatClip(clip));
} catch (error) {
  broken = true;
  console.log(`clip bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}

section('vod: the single-decode ladder vs one ffmpeg per rung');
let vod: VodBenchResult | undefined;
try {
  vod = await runVodBench();
  console.log(formatVod(vod));
} catch (error) {
  broken = true;
  console.log(`vod bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}

section('origin: WHIP publisher frame -> HLS viewer latency, concurrent 720p publishers and viewers');
let origin: OriginBenchResult | undefined;
try {
  origin = await runOriginBench();
  console.log(formatOrigin(origin));
} catch (error) {
  broken = true;
  console.log(`origin bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}

section('summary');
const summary: string[] = [];
if (size) {
  summary.push(`size    live-badge ${fmtInt(size.gzipBytes)} B gzipped, budget ${fmtInt(BADGE_GZIP_BUDGET_BYTES)} B: ${verdict(size.gzipBytes <= BADGE_GZIP_BUDGET_BYTES)}`);
} else summary.push('size    not measured');
if (uploadSize) {
  summary.push(
    `size    live-upload first load ${fmtInt(uploadSize.gzipBytes)} B gzipped, budget ${fmtInt(UPLOAD_GZIP_BUDGET_BYTES)} B: ${verdict(uploadSize.gzipBytes <= UPLOAD_GZIP_BUDGET_BYTES)} ` +
      `(lazy chunks ${fmtInt(uploadSize.lazyGzipBytes)} B)`,
  );
}
for (const row of ingest?.rows ?? []) {
  summary.push(
    row.error
      ? `ingest  ${row.bus.padEnd(12)} not measured: ${row.error}`
      : `ingest  ${row.bus.padEnd(12)} ours ${fmtInt(row.ours.requestsPerSecond)} req/s (p50 ${fmt(row.ours.p50Ms)} / p99 ${fmt(row.ours.p99Ms)} ms), ` +
          `baseline ${fmtInt(row.baseline.requestsPerSecond)} req/s (p50 ${fmt(row.baseline.p50Ms)} / p99 ${fmt(row.baseline.p99Ms)} ms), ` +
          `ratio ${fmt(row.ratio, 2)}, median of rounds ${row.roundRatios.map((ratio) => fmt(ratio, 2)).join(' / ')} (goal >= ${row.goal}): ${verdict(row.pass)}`,
  );
}
if (!ingest) summary.push('ingest  not measured');
for (const row of fanout?.rows ?? []) {
  const n = fmtInt(row.subscribers).padStart(6);
  if (!row.ours || !row.baseline) {
    summary.push(`fanout  ${n} not measured${row.limit ? `: ${row.limit}` : ''}`);
    continue;
  }
  const goal = row.subscribers === FANOUT_GOAL.subscribers;
  const complete = row.ours.opened === row.subscribers && row.ours.missing === 0;
  summary.push(
    `fanout  ${n} to last subscriber p50/p99: ours ${fmt(row.ours.lastFrom204.p50)} / ${fmt(row.ours.lastFrom204.p99)} ms from 204 ` +
      `(${fmt(row.ours.lastFromSend.p50)} / ${fmt(row.ours.lastFromSend.p99)} ms from send), ` +
      `baseline ${fmt(row.baseline.lastFromSend.p50)} / ${fmt(row.baseline.lastFromSend.p99)} ms from send; ` +
      `per-subscriber ours p50/p99 ${fmt(row.ours.perSubscriberFrom204.p50)} / ${fmt(row.ours.perSubscriberFrom204.p99)} ms; ` +
      `ratio ours/baseline p50 ${fmt(row.ratioP50 ?? Number.NaN, 2)}x p99 ${fmt(row.ratioP99 ?? Number.NaN, 2)}x` +
      (goal
        ? `; goal p99 < ${FANOUT_GOAL.p99Ms} ms: ${verdict(complete && row.ours.lastFrom204.p99 < FANOUT_GOAL.p99Ms)} from 204, ` +
          `${verdict(complete && row.ours.lastFromSend.p99 < FANOUT_GOAL.p99Ms)} from send`
        : '') +
      (row.limit ? ` (LIMIT: ${row.limit})` : ''),
  );
}
if (!fanout) summary.push('fanout  not measured');
if (fleet) {
  summary.push(
    `fleet   ${fmtInt(fleet.perServer * fleet.replicas)} subscribers over ${fleet.replicas} replicas (${fleet.bus}), to last from send: ratio ours/baseline p50 ${fmt(fleet.ratioP50, 2)}x p99 ${fmt(fleet.ratioP99, 2)}x` +
      (fleet.limit ? ` (LIMIT: ${fleet.limit})` : ''),
  );
}
if (ingest && natsFanout) summary.push(...clusterSummary({ ingest, fanout: natsFanout }));
else summary.push('cluster not measured');
summary.push(...uploadSummary(upload));
summary.push(
  outbound
    ? `outbound ours ${fmtInt(outbound.ours.deliveriesPerSecond)} deliveries/s, baseline ${fmtInt(outbound.baseline.deliveriesPerSecond)}/s, ratio ${fmt(outbound.ratio, 2)}`
    : 'outbound not measured',
);
if (clip) {
  const best = [...clip.cores].sort((a, b) => a.warmMs - b.warmMs)[0];
  summary.push(
    `clip    ${clip.clipSeconds} s 720p press -> MP4 warm ${best ? fmt(best.warmMs, 0) : '?'} ms (goal < ${CLIP_GOALS.pressToMp4Ms}): ${verdict(clip.passPress)}; ` +
      `wasm/native re-encode ${fmt(clip.reencodeRatio, 2)}x (goal <= ${CLIP_GOALS.reencodeRatio}x): ${verdict(clip.passReencode)}`,
  );
} else summary.push('clip    not measured');
summary.push(vodSummary(vod));
summary.push(originSummary(origin));
summary.push(`total   ${fmt((performance.now() - startedAt) / 1000)} s`);
console.log(summary.join('\n'));
const overBudget = (size && size.gzipBytes > BADGE_GZIP_BUDGET_BYTES) || (uploadSize && uploadSize.gzipBytes > UPLOAD_GZIP_BUDGET_BYTES);
if (broken || overBudget) process.exitCode = 1;
