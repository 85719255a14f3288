/** One media segment the player downloaded, kept so a clip needs no second download. */
export interface BufferedSegment {
  /** The playlist's media sequence number: segments are kept in this order, each once. */
  readonly sn: number;
  /** EXT-X-PROGRAM-DATE-TIME of the segment's first frame, ms since the epoch. */
  readonly programDateMs: number;
  readonly durationMs: number;
  /** The segment's bytes as served (MPEG-TS, or fMP4 after `init`). */
  readonly bytes: Uint8Array;
}

/** What a clip is cut from: the segments covering the window, and where in them the window lies. */
export interface ClipSelection {
  readonly segments: readonly BufferedSegment[];
  /** fMP4 streams: the init segment, written before the first media segment. */
  readonly init: Uint8Array | undefined;
  /** Offset of the window's start from the first segment's start, ms (cut point for ffmpeg `-ss`). */
  readonly offsetMs: number;
  /** The window's length, ms (ffmpeg `-t`). */
  readonly durationMs: number;
  /** The window as program time, ms since the epoch: the clip's provenance. */
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * A rolling window of the segments the player loaded, at least `keepMs` of program time
 * behind the newest. Pure data: the player pushes, `select` picks a clip's segments.
 */
export class ClipBuffer {
  readonly #segments: BufferedSegment[] = [];
  #init: Uint8Array | undefined;

  /** @param keepMs program time kept behind the newest segment's end (the longest clip plus slack) */
  constructor(private readonly keepMs: number) {}

  get segments(): readonly BufferedSegment[] {
    return this.#segments;
  }

  /** The fMP4 init segment of the current rendition; a new one (rendition switch) drops older segments. */
  setInit(bytes: Uint8Array): void {
    if (this.#init && sameBytes(this.#init, bytes)) return;
    this.#init = bytes;
    this.#segments.length = 0;
  }

  /**
   * Keeps a loaded segment. Segments without a program date, with a bad duration, or already
   * held are ignored; a segment older than the newest (a seek back) restarts the window.
   */
  add(segment: BufferedSegment): void {
    if (!Number.isFinite(segment.programDateMs) || !(segment.durationMs > 0) || !Number.isSafeInteger(segment.sn)) return;
    const last = this.#segments.at(-1);
    if (last && segment.sn <= last.sn) {
      if (this.#segments.some(({ sn }) => sn === segment.sn)) return;
      this.#segments.length = 0;
    } else if (last && segment.sn !== last.sn + 1) {
      this.#segments.length = 0; // a gap: segments are concatenated, so they must be contiguous
    }
    this.#segments.push(segment);
    const newestEnd = segment.programDateMs + segment.durationMs;
    while (this.#segments.length > 1 && this.#segments[1]!.programDateMs + this.#segments[1]!.durationMs <= newestEnd - this.keepMs) {
      this.#segments.shift();
    }
  }

  /**
   * The segments covering the `lengthMs` of program time that end at `endMs` (the playhead),
   * clamped to what is held. Undefined when nothing is held up to `endMs`.
   */
  select(endMs: number, lengthMs: number): ClipSelection | undefined {
    const held = this.#segments;
    const first = held[0];
    const last = held.at(-1);
    if (!first || !last || !(lengthMs > 0) || !Number.isFinite(endMs)) return undefined;
    const toMs = Math.min(endMs, last.programDateMs + last.durationMs);
    const fromMs = Math.max(first.programDateMs, toMs - lengthMs);
    if (!(toMs > fromMs)) return undefined;
    const segments = held.filter((s) => s.programDateMs < toMs && s.programDateMs + s.durationMs > fromMs);
    const start = segments[0];
    if (!start) return undefined;
    return { segments, init: this.#init, offsetMs: fromMs - start.programDateMs, durationMs: toMs - fromMs, fromMs, toMs };
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The selection's bytes as one file, init segment first. */
export function concatSegments(selection: ClipSelection): Uint8Array {
  const parts = [...(selection.init ? [selection.init] : []), ...selection.segments.map((s) => s.bytes)];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
