/**
 * Candidate alignments of a clip against many reference fingerprints without comparing every
 * clip sub-fingerprint with every reference one (O(n*m) per reference).
 *
 * Each reference sub-fingerprint is posted under two 16-bit keys, its high and its low half.
 * A clip sub-fingerprint looks up both of its halves; every posting found is a vote for the
 * alignment "clip frame i is reference frame j", kept as the offset j - i. Where a clip reuses
 * a reference, most sub-fingerprints keep one half or the other exactly even under noise (a
 * half survives when none of its 8 classifiers flipped), and all those votes fall on one
 * offset; unrelated audio spreads its few chance hits over many offsets. Halves, not the whole
 * 32 bits: a noisy copy keeps all 32 bits of a sub-fingerprint too rarely to be found.
 *
 * A reference's frames equal to the frame before (a held tone, silence: chromaprint repeats
 * itself) are posted once, at the first of the run, so silence does not vote for every offset.
 */
export interface AlignmentCandidate {
  /** Index of the reference in the list the index was built from. */
  readonly reference: number;
  /** Reference frame aligned to clip frame 0 (negative: the reference starts after the clip does). */
  readonly offset: number;
  /** Clip sub-fingerprints whose high or low half equals the reference's at this offset. */
  readonly votes: number;
}

export interface CandidateOptions {
  /** Offsets with fewer votes are not candidates. Default 3. */
  readonly minVotes?: number;
  /** The best offsets per reference. Default 3. */
  readonly perReference?: number;
  /** The best offsets over all references. Default 64. */
  readonly total?: number;
}

const HALF_BITS = 16;
const KEYS_PER_HALF = 1 << HALF_BITS;
/** Offsets are packed with the reference number in one map key: |offset| < 2^22 frames (144 h). */
const OFFSET_BIAS = 1 << 22;
const OFFSET_SPAN = 2 * OFFSET_BIAS;

export class SubFingerprintIndex {
  private constructor(
    /** Per key (high halves first, then low halves): where its postings start in `postedReference` / `postedFrame`; one extra at the end. */
    private readonly starts: Uint32Array,
    private readonly postedReference: Uint32Array,
    private readonly postedFrame: Uint32Array,
    readonly references: readonly Uint32Array[],
  ) {}

  /** Indexes `references` (their order is the `reference` number candidates carry). Linear in their total length. */
  static build(references: readonly Uint32Array[]): SubFingerprintIndex {
    for (const frames of references) if (frames.length >= OFFSET_BIAS) throw new RangeError(`a reference of ${frames.length} sub-fingerprints is too long to index`);
    const counts = new Uint32Array(2 * KEYS_PER_HALF + 1);
    forEachPosted(references, (key) => {
      counts[key + 1]! += 1;
    });
    for (let key = 1; key < counts.length; key += 1) counts[key]! += counts[key - 1]!;
    const starts = counts.slice();
    const total = counts[counts.length - 1]!;
    const postedReference = new Uint32Array(total);
    const postedFrame = new Uint32Array(total);
    const next = counts.subarray(0, 2 * KEYS_PER_HALF);
    forEachPosted(references, (key, reference, frame) => {
      const slot = next[key]!;
      next[key] = slot + 1;
      postedReference[slot] = reference;
      postedFrame[slot] = frame;
    });
    return new SubFingerprintIndex(starts, postedReference, postedFrame, references);
  }

  /** Sub-fingerprints posted (two per indexed frame). */
  get postings(): number {
    return this.postedFrame.length;
  }

  /** The offsets with the most votes, best first (ties: lower reference number, then lower offset). */
  candidates(clip: Uint32Array, options: CandidateOptions = {}): AlignmentCandidate[] {
    const minVotes = options.minVotes ?? 3;
    const perReference = options.perReference ?? 3;
    const total = options.total ?? 64;
    if (clip.length >= OFFSET_BIAS) throw new RangeError(`a clip of ${clip.length} sub-fingerprints is too long to match`);
    const votes = new Map<number, number>();
    for (let frame = 0; frame < clip.length; frame += 1) {
      const value = clip[frame]!;
      // A clip frame equal to the one before votes once, like the references' (silence, a held tone).
      if (frame > 0 && value === clip[frame - 1]) continue;
      const high = value >>> HALF_BITS;
      this.vote(votes, high, frame);
      // A reference frame whose high half matched too has voted already: one vote per aligned frame.
      this.vote(votes, KEYS_PER_HALF + (value & 0xffff), frame, high);
    }
    const byReference = new Map<number, AlignmentCandidate[]>();
    for (const [packed, count] of votes) {
      if (count < minVotes) continue;
      const reference = Math.floor(packed / OFFSET_SPAN);
      const candidate = { reference, offset: (packed % OFFSET_SPAN) - OFFSET_BIAS, votes: count };
      const kept = byReference.get(reference) ?? [];
      kept.push(candidate);
      byReference.set(reference, kept);
    }
    return [...byReference.values()]
      .flatMap((kept) => kept.sort(byVotes).slice(0, perReference))
      .sort(byVotes)
      .slice(0, total);
  }

  /** One vote per posting under `key` for the offset it implies; postings whose high half is `skipHigh` are left out. */
  private vote(votes: Map<number, number>, key: number, frame: number, skipHigh?: number): void {
    const end = this.starts[key + 1]!;
    for (let slot = this.starts[key]!; slot < end; slot += 1) {
      const reference = this.postedReference[slot]!;
      const referenceFrame = this.postedFrame[slot]!;
      if (skipHigh !== undefined && this.references[reference]![referenceFrame]! >>> HALF_BITS === skipHigh) continue;
      const packed = reference * OFFSET_SPAN + (referenceFrame - frame + OFFSET_BIAS);
      votes.set(packed, (votes.get(packed) ?? 0) + 1);
    }
  }
}

function byVotes(a: AlignmentCandidate, b: AlignmentCandidate): number {
  return b.votes - a.votes || a.reference - b.reference || a.offset - b.offset;
}

/** Calls `post` for both keys of every reference frame that differs from the frame before it. */
function forEachPosted(references: readonly Uint32Array[], post: (key: number, reference: number, frame: number) => void): void {
  references.forEach((frames, reference) => {
    for (let frame = 0; frame < frames.length; frame += 1) {
      const value = frames[frame]!;
      if (frame > 0 && value === frames[frame - 1]) continue;
      post(value >>> HALF_BITS, reference, frame);
      post(KEYS_PER_HALF + (value & 0xffff), reference, frame);
    }
  });
}
