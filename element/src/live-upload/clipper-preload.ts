/**
 * Loading FFmpeg.wasm ahead of the first Clip press (issue 26). A cold press used to wait for the
 * whole core (~30 MB fetched, compiled, and on the multi-thread core a pool of pthread workers
 * started): 1.7 s on `core`, 3.4 s on `core-mt`. The viewer who clips is watching the live player
 * first, so the core loads while they watch: once the player plays (its first frames are on
 * screen, the first segments are in), at the next idle moment, and never when clipping is off or
 * the viewer asked the browser to save data.
 */

import { concatSegments, type ClipBuffer } from './clip-buffer.js';
import type { CutRange } from './ffmpeg-args.js';

/** `navigator.connection` where the browser has it (Chromium); not in TypeScript's DOM types. */
interface NetworkInformationLike {
  readonly saveData?: boolean;
}

/** Whether the viewer asked the browser to save data (`navigator.connection.saveData`, the `Save-Data` hint): then nothing is fetched ahead. */
export function savesData(nav: Navigator = navigator): boolean {
  return (nav as Navigator & { readonly connection?: NetworkInformationLike }).connection?.saveData === true;
}

/** Longest wait for an idle moment before the preload starts anyway (ms). */
export const PRELOAD_IDLE_TIMEOUT_MS = 5_000;

/**
 * Runs `work` at the page's next idle moment (`requestIdleCallback`, at most `timeoutMs` later;
 * a plain timeout where the browser has none). Returns what cancels it.
 */
export function whenIdle(work: () => void, timeoutMs: number = PRELOAD_IDLE_TIMEOUT_MS): () => void {
  if (typeof requestIdleCallback === 'function') {
    const handle = requestIdleCallback(() => work(), { timeout: timeoutMs });
    return () => cancelIdleCallback(handle);
  }
  const handle = setTimeout(work, Math.min(timeoutMs, 1_000));
  return () => clearTimeout(handle);
}

/** A short real input for the warm-up remux. */
export interface WarmUpSample {
  readonly bytes: Uint8Array;
  readonly cut: CutRange;
}

/** What the preload keeps warm: `MediaTranscoder.keepWarm`, which answers with its release. */
export interface WarmableClipper {
  keepWarm(warmUp?: () => WarmUpSample | undefined): () => void;
}

/** The newest segment the player has, as a clip would cut it (with the init segment of an fMP4 stream): the warm-up remux runs the clip's own code path. */
export function newestSegmentSample(buffer: ClipBuffer): WarmUpSample | undefined {
  const newest = buffer.segments.at(-1);
  if (!newest) return undefined;
  const selection = buffer.select(newest.programDateMs + newest.durationMs, newest.durationMs);
  if (!selection) return undefined;
  return { bytes: concatSegments(selection), cut: { startMs: selection.offsetMs, durationMs: selection.durationMs } };
}

/**
 * The element's preload of the clipper: `update(wanted)` on every render says whether the core
 * should be loaded now (the live player plays, clipping is on, no save-data); the first time it
 * is, the load is scheduled for an idle moment and the worker is then kept while it stays wanted.
 * When it no longer is (the stream ended, `no-clip` set), the hold is released: the worker then
 * ends after the transcoder's idle time, as after any job.
 */
export class ClipperPreload {
  #cancelScheduled: (() => void) | undefined;
  #release: (() => void) | undefined;

  constructor(
    /** The transcoder to warm, asked for only when the preload starts. */
    private readonly clipper: () => WarmableClipper,
    /** The warm-up input (`newestSegmentSample` of the player's buffer), asked for once the core is loaded. */
    private readonly warmUp?: () => WarmUpSample | undefined,
    private readonly options: { readonly idleTimeoutMs?: number; readonly savesData?: () => boolean } = {},
  ) {}

  /** Whether a preload is scheduled, or the core loaded ahead is held. */
  get active(): boolean {
    return this.#cancelScheduled !== undefined || this.#release !== undefined;
  }

  update(wanted: boolean): void {
    if (!wanted) {
      this.stop();
      return;
    }
    if (this.#cancelScheduled || this.#release) return;
    if ((this.options.savesData ?? savesData)()) return;
    this.#cancelScheduled = whenIdle(() => {
      this.#cancelScheduled = undefined;
      this.#release = this.clipper().keepWarm(this.warmUp);
    }, this.options.idleTimeoutMs);
  }

  /** Cancels a scheduled preload and releases the held worker. */
  stop(): void {
    this.#cancelScheduled?.();
    this.#cancelScheduled = undefined;
    this.#release?.();
    this.#release = undefined;
  }
}
