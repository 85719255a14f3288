import { matchesBlocklist, probeMedia } from '../media/index.js';
import { sampleUploadFrameHashes } from '../media/perceptual-hash.js';
import type { HashBlocklist } from './hash-blocklist.js';
import { timedCheck, type CheckVerdict, type ModerationCheck } from './moderation-check.js';

/**
 * Frames sampled over the video (keyframes, so only they are decoded: `sampleUploadFrameHashes`), dHashed, and compared by Hamming distance with the blocklist:
 * a blocklisted clip re-encoded, resized or recompressed still matches. An empty blocklist
 * passes without decoding anything.
 */
export function perceptualHashCheck(blocklist: HashBlocklist, options: { timeoutMs?: number } = {}): ModerationCheck {
  const name = 'perceptual-hash';
  return {
    name,
    run: ({ path, facts }) =>
      timedCheck(name, async (): Promise<CheckVerdict> => {
        const entries = await blocklist.list();
        if (entries.length === 0) return { result: 'pass', details: { blocklist_entries: 0 } };
        const durationS = (facts.probe ?? (await probeMedia(path))).durationS;
        if (durationS === undefined || !(durationS > 0)) return { result: 'error', reason: 'the duration is unknown, so no frames could be sampled' };
        const { hashes: frames, sampling } = await sampleUploadFrameHashes(path, { durationS, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
        const entryOf = new Map(entries.flatMap((entry) => entry.hashes.map((hash) => [hash, entry] as const)));
        const match = matchesBlocklist(frames, [...entryOf.keys()]);
        const details = { blocklist_entries: entries.length, sampled_frames: match.sampledFrames, sampling, matching_frames: match.matchingFrames };
        if (!match.matched) return { result: 'pass', details };
        const matched = [...new Set(match.hits.map((hit) => entryOf.get(hit.blocked)?.id))].filter((id) => id !== undefined);
        return {
          result: 'fail',
          reason: `${match.matchingFrames} of ${match.sampledFrames} sampled frames match a blocklisted clip`,
          details: { ...details, entries: matched, closest_distance: Math.min(...match.hits.map((hit) => hit.distance)) },
        };
      }),
  };
}
