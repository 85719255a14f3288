import { alignAt, type AlignOptions, type AlignedSpan } from './align-fingerprints.js';
import { SUB_FINGERPRINT_STEP_S, fingerprintDurationS, subFingerprintCentreS } from './audio-fingerprint.js';
import type { CandidateOptions, SubFingerprintIndex } from './sub-fingerprint-index.js';

/** A clip matched against one reference: how well, and which seconds of each. */
export interface AudioReferenceMatch {
  /** Index of the reference in the list the index was built from. */
  readonly reference: number;
  /** Share of matching fingerprint bits over the matched span (0..1; unrelated audio would be about 0.5, but never forms a span). */
  readonly score: number;
  /** The matched seconds of the clip and of the reference (see `toMatch`). */
  readonly clipFromS: number;
  readonly clipToS: number;
  readonly referenceFromS: number;
  readonly referenceToS: number;
  /** Votes the alignment had in the index (for the record: how clear the alignment was). */
  readonly votes: number;
}

export interface MatchAudioOptions extends AlignOptions, CandidateOptions {
  /** Spans shorter than this (seconds of clip) are ignored. Default 0: any span `alignAt` accepts. */
  readonly minMatchS?: number;
}

/**
 * The clip's best match with each reference that it matches, best score first (ties: the
 * longer span). Pure: the index holds the references, the clip is a fingerprint. Only the
 * alignments the index proposes are compared in full (see `SubFingerprintIndex`), so a clip
 * costs time in proportion to its length and to the postings its halves hit, not to the
 * length of every reference.
 */
export function matchAudioReferences(clip: Uint32Array, index: SubFingerprintIndex, options: MatchAudioOptions = {}): AudioReferenceMatch[] {
  const minMatchS = options.minMatchS ?? 0;
  const best = new Map<number, AudioReferenceMatch>();
  for (const candidate of index.candidates(clip, options)) {
    const reference = index.references[candidate.reference]!;
    const span = alignAt(clip, reference, candidate.offset, options);
    if (!span) continue;
    const match = toMatch(candidate.reference, span, candidate.votes, clip.length, reference.length);
    if (match.clipToS - match.clipFromS < minMatchS) continue;
    const kept = best.get(candidate.reference);
    if (!kept || compareMatches(match, kept) < 0) best.set(candidate.reference, match);
  }
  return [...best.values()].sort(compareMatches);
}

/** Better first: higher score, then the longer span, then the lower reference number. */
function compareMatches(a: AudioReferenceMatch, b: AudioReferenceMatch): number {
  return b.score - a.score || b.clipToS - b.clipFromS - (a.clipToS - a.clipFromS) || a.reference - b.reference;
}

/**
 * Seconds of a span: from half a hop before the first matched sub-fingerprint's centre to half a
 * hop after the last one's, except that a span reaching the first or last sub-fingerprint of its
 * audio reaches that audio's start or end (the centre of the first one is 1.36 s in).
 */
function toMatch(reference: number, span: AlignedSpan, votes: number, clipFrames: number, referenceFrames: number): AudioReferenceMatch {
  const from = (frame: number): number => (frame === 0 ? 0 : subFingerprintCentreS(frame) - SUB_FINGERPRINT_STEP_S / 2);
  const to = (frame: number, frames: number): number => (frame === frames - 1 ? fingerprintDurationS(frames) : subFingerprintCentreS(frame) + SUB_FINGERPRINT_STEP_S / 2);
  return {
    reference,
    score: span.score,
    clipFromS: from(span.clipFrom),
    clipToS: to(span.clipTo, clipFrames),
    referenceFromS: from(span.clipFrom + span.offset),
    referenceToS: to(span.clipTo + span.offset, referenceFrames),
    votes,
  };
}
