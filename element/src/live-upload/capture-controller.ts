import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { createLiveEvent, type LiveClipProvenance, type LiveTrimChangeDetail } from '../events.js';
import { formatLabel } from '../labels.js';
import { concatSegments } from './clip-buffer.js';
import { isUploadReady, type CutRange } from './ffmpeg-args.js';
import type { Candidate, LiveUploadView, TrimRange } from './live-upload-view.js';
import { ClipperPreload, newestSegmentSample } from './clipper-preload.js';
import { FFmpegWorkerError, MediaTranscoder, TranscodeCancelledError } from './media-transcoder.js';
import type { MediaRecording, RecordingSource } from './media-recording.js';
import type { PlaybackInfo } from './playback-record.js';
import type { PlayerController } from './player-controller.js';
import { formatSeconds, formatWholeSeconds } from './upload-labels.js';

/** Ask before clipping when at least this much less than asked is buffered. */
const SHORT_CLIP_SLACK_MS = 1000;

/** What capture reads from the element. */
export interface CaptureSettings {
  readonly clipSeconds: number;
  readonly maxClipSeconds: number;
  readonly maxRecordSeconds: number;
  readonly exactCuts: boolean;
  readonly targetSize: number;
  /** Where FFmpeg.wasm is served (absolute, ending in `/`). */
  readonly assetBase: string;
  /** Whether the live player's Clip is offered (`no-clip` not set): only then is FFmpeg.wasm loaded ahead. */
  readonly clipEnabled: boolean;
}

/** The replay a clip is taken from: its master playlist, its broadcast, and when that broadcast started (ms since the epoch). */
export interface ReplayClipTarget {
  readonly masterUrl: string;
  readonly canonicalId: string;
  readonly startedAtMs: number;
}

/**
 * Clip and record for `<live-upload>`, and the review they lead to: the clip from the player's
 * buffer (asking first when less is buffered than the button says), camera or screen
 * recordings with their timer, a file the page hands in, the candidate with its trim, and its
 * preparation for upload through one FFmpeg.wasm transcoder (ended with the element).
 */
export class CaptureController implements ReactiveController {
  candidate: Candidate | undefined;
  trim: TrimRange = { startMs: 0, endMs: 0 };
  /** Clip asked for more than is buffered: how much there is, until the viewer answers. */
  shortClipMs: number | undefined;
  /** Preparation progress 0..1, or undefined when not preparing. */
  progress: number | undefined;
  elapsedMs = 0;
  #transcoder: MediaTranscoder | undefined;
  #recording: MediaRecording | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The segment downloads of a replay clip being made (Cancel aborts them). */
  #replayFetch: AbortController | undefined;
  /** FFmpeg.wasm loaded while the live player plays, so the first Clip press does not wait for it. */
  readonly #preload = new ClipperPreload(
    () => this.#transcoderFor(),
    () => newestSegmentSample(this.player.buffer),
  );

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement & { readonly renderRoot: HTMLElement | DocumentFragment },
    private readonly view: LiveUploadView,
    private readonly player: PlayerController,
    private readonly playback: () => PlaybackInfo,
    private readonly settings: () => CaptureSettings,
  ) {
    host.addController(this);
  }

  hostUpdated(): void {
    // From the player's first frames (not while its first segments load) until the stream ends.
    const { state } = this.player;
    const live = state === 'playing' || ((state === 'waiting' || state === 'loading') && this.#preload.active);
    this.#preload.update(live && this.settings().clipEnabled);
  }

  hostDisconnected(): void {
    this.#preload.stop();
    this.#recording?.stop();
    this.cancelPreparation();
    clearInterval(this.#timer);
  }

  #transcoderFor(): MediaTranscoder {
    return (this.#transcoder ??= new MediaTranscoder(this.settings().assetBase));
  }

  #set(change: () => void): void {
    change();
    this.host.requestUpdate();
  }

  /**
   * Clip: the last `clip-seconds` of what was watched, from the segments the player already has.
   * When less is buffered, the viewer is asked first ("Only 5 s buffered: clip 5 s?"): a clip is
   * never silently shorter than the button said. `acceptShorter` is that answer.
   */
  async clip(acceptShorter: boolean): Promise<void> {
    const stage = this.view.stage();
    if (stage !== 'idle' && stage !== 'review') return;
    const { clipSeconds, maxClipSeconds, exactCuts, targetSize } = this.settings();
    const labels = this.view.labels();
    const seconds = Math.max(1, Math.min(clipSeconds, maxClipSeconds));
    const { buffer } = this.player;
    const newest = buffer.segments.at(-1);
    const end = this.player.playheadDate() ?? (newest ? newest.programDateMs + newest.durationMs : Number.NaN);
    const selection = buffer.select(end, seconds * 1000);
    this.#set(() => (this.shortClipMs = undefined));
    if (!selection || selection.durationMs < 1000) {
      this.view.say(labels.nothingToClip);
      return;
    }
    if (!acceptShorter && selection.durationMs < seconds * 1000 - SHORT_CLIP_SLACK_MS) {
      this.#set(() => (this.shortClipMs = selection.durationMs));
      this.view.say(formatLabel(labels.clipShort, { seconds: formatWholeSeconds(selection.durationMs, this.view.lang()) }));
      this.view.focusAfterRender('[data-action="clip-available"]');
      return;
    }
    this.#discardCandidate();
    this.view.clearError('*');
    this.view.setStage('preparing');
    this.#set(() => (this.progress = 0));
    this.view.say(labels.makingClip);
    const { canonicalId, startedAtMs } = this.playback();
    try {
      const input = concatSegments(selection);
      const cut: CutRange = { startMs: selection.offsetMs, durationMs: selection.durationMs };
      const transcoder = this.#transcoderFor();
      const onProgress = (fraction: number) => this.#set(() => (this.progress = fraction));
      const mp4 =
        exactCuts || targetSize > 0
          ? await transcoder.encode(input, { cut, durationMs: cut.durationMs, ...(targetSize > 0 ? { targetBytes: targetSize } : {}) }, onProgress)
          : await transcoder.remux(input, cut, onProgress);
      this.#offer({
        source: 'clip',
        blob: new Blob([mp4 as Uint8Array<ArrayBuffer>], { type: 'video/mp4' }),
        durationMs: selection.durationMs,
        fromMs: selection.fromMs,
        canonicalId,
        startedAtMs,
      });
    } catch (error) {
      this.preparationFailed(error, error instanceof FFmpegWorkerError ? 'clipper_unavailable' : 'clip_failed', () => void this.clip(true));
    }
  }

  /**
   * Clip on a replay: `[fromMs, toMs)` of the replay's timeline, cut (stream copy) from only the
   * segments of one rung (and of the audio rendition) that overlap the range, then offered for
   * review like a live clip. Its provenance is the broadcast (`canonicalId`) and, on its clock
   * (`startedAtMs`, the broadcast's start), the range: the upload's `clip` names those seconds.
   */
  async clipReplay(replay: ReplayClipTarget, fromMs: number, toMs: number): Promise<void> {
    const stage = this.view.stage();
    if (stage !== 'idle' && stage !== 'review') return;
    this.#discardCandidate();
    this.view.clearError('*');
    this.view.setStage('preparing');
    this.#set(() => (this.progress = 0));
    this.view.say(this.view.labels().makingClip);
    const abort = new AbortController();
    this.#replayFetch = abort;
    try {
      const { fetchReplayClipSource } = await import('./replay-clip.js');
      const source = await fetchReplayClipSource(replay.masterUrl, fromMs, toMs, abort.signal);
      const onProgress = (fraction: number) => this.#set(() => (this.progress = fraction));
      const mp4 = await this.#transcoderFor().remuxReplay(source.video, source.audio, onProgress);
      this.#offer({
        source: 'clip',
        blob: new Blob([mp4 as Uint8Array<ArrayBuffer>], { type: 'video/mp4' }),
        durationMs: source.video.cut.durationMs,
        fromMs: replay.startedAtMs + fromMs,
        canonicalId: replay.canonicalId,
        startedAtMs: replay.startedAtMs,
      });
    } catch (error) {
      const cancelled = abort.signal.aborted ? new TranscodeCancelledError() : error;
      this.preparationFailed(cancelled, error instanceof FFmpegWorkerError ? 'clipper_unavailable' : 'clip_failed', () => void this.clipReplay(replay, fromMs, toMs));
    } finally {
      if (this.#replayFetch === abort) this.#replayFetch = undefined;
    }
  }

  /** The viewer answered "no" to the shorter clip. */
  cancelShortClip(): void {
    this.#set(() => (this.shortClipMs = undefined));
    this.view.say('');
    this.view.focusAfterRender('[data-action="clip"]');
  }

  /** Record: the camera (and microphone) or a shared screen, up to `max-record-seconds`. */
  async record(source: RecordingSource): Promise<void> {
    const stage = this.view.stage();
    if (stage !== 'idle' && stage !== 'review') return;
    const labels = this.view.labels();
    const { openRecordingStream, MediaRecording } = await import('./media-recording.js');
    let stream: MediaStream;
    try {
      stream = await openRecordingStream(source);
    } catch (error) {
      this.view.say('');
      this.view.reportError('recording_unavailable', messageOf(error));
      return;
    }
    this.#discardCandidate();
    this.view.clearError('*');
    const recording = new MediaRecording(stream, this.settings().maxRecordSeconds * 1000);
    this.#recording = recording;
    this.view.setStage('recording');
    this.#set(() => (this.elapsedMs = 0));
    this.view.say(labels.recordingStarted);
    this.view.focusAfterRender('[data-action="stop"]');
    this.#timer = setInterval(() => this.#set(() => (this.elapsedMs = recording.elapsedMs)), 250);
    try {
      const { blob, durationMs } = await recording.done;
      this.#offer({ source: 'recording', blob, durationMs, fromMs: undefined, canonicalId: undefined, startedAtMs: undefined });
    } catch (error) {
      this.preparationFailed(error, 'recording_failed');
    } finally {
      clearInterval(this.#timer);
      this.#recording = undefined;
    }
  }

  stopRecording(): void {
    this.#recording?.stop();
  }

  /** A file the page or viewer already has, offered like a recording. */
  async useFile(file: Blob): Promise<void> {
    const stage = this.view.stage();
    if (stage !== 'idle' && stage !== 'review') return;
    const durationMs = await mediaDurationMs(file);
    this.#discardCandidate();
    this.#offer({ source: 'recording', blob: file, durationMs, fromMs: undefined, canonicalId: undefined, startedAtMs: undefined });
  }

  #offer(candidate: Omit<Candidate, 'url'>): void {
    const url = URL.createObjectURL(candidate.blob);
    this.#set(() => {
      this.candidate = { ...candidate, url };
      this.trim = { startMs: 0, endMs: candidate.durationMs };
      this.progress = undefined;
    });
    this.view.setStage('review');
    this.#sayReady(candidate.durationMs);
    this.view.focusAfterRender('[data-action="upload"], [data-action="discard"]');
    this.host.dispatchEvent(
      createLiveEvent('live-clip-ready', { source: candidate.source, blob: candidate.blob, durationMs: candidate.durationMs, provenance: this.provenance(this.candidate) }),
    );
  }

  #sayReady(durationMs: number): void {
    const labels = this.view.labels();
    const seconds = formatSeconds(durationMs, this.view.lang());
    this.view.say(formatLabel(this.candidate?.source === 'clip' ? labels.clipReady : labels.recordingReady, { seconds }));
  }

  /** The trimmed candidate's place in the broadcast (clips of a broadcast with a canonical id). */
  provenance(candidate: Candidate | undefined): LiveClipProvenance | undefined {
    if (!candidate?.canonicalId || candidate.fromMs === undefined) return undefined;
    return {
      canonical_id: candidate.canonicalId,
      from: new Date(candidate.fromMs + this.trim.startMs).toISOString(),
      to: new Date(candidate.fromMs + this.trim.endMs).toISOString(),
    };
  }

  /** The trim range moved: the preview shows the moved end, and the ready line says the new length. */
  trimmed({ startMs, endMs }: LiveTrimChangeDetail): void {
    const moved = startMs !== this.trim.startMs ? startMs : endMs;
    this.#set(() => (this.trim = { startMs, endMs }));
    const preview = this.host.renderRoot.querySelector<HTMLVideoElement>('video[part="preview"]');
    if (preview) preview.currentTime = moved / 1000;
    if (this.candidate) this.#sayReady(endMs - startMs);
  }

  preparationFailed(error: unknown, code: string, retry?: () => void): void {
    this.#set(() => (this.progress = undefined));
    this.view.setStage(this.candidate ? 'review' : 'idle');
    if (error instanceof TranscodeCancelledError) {
      this.view.say(this.view.labels().cancelled);
      return;
    }
    this.view.say('');
    this.view.reportError(code, messageOf(error), retry);
  }

  #discardCandidate(): void {
    if (this.candidate) URL.revokeObjectURL(this.candidate.url);
    this.#set(() => (this.candidate = undefined));
  }

  /** Back to ready without the candidate (Discard, or every byte of it uploaded). */
  discard(): void {
    this.#discardCandidate();
  }

  /** The candidate trimmed and, when needed, normalised (H.264/AAC MP4, at most 720p) for upload. */
  async prepare(candidate: Candidate): Promise<Blob> {
    const { exactCuts, targetSize } = this.settings();
    const { startMs, endMs } = this.trim;
    const trimmed = startMs > 0 || endMs < candidate.durationMs - 50;
    const cut: CutRange | undefined = trimmed ? { startMs, durationMs: endMs - startMs } : undefined;
    const transcoder = this.#transcoderFor();
    this.#set(() => (this.progress = 0));
    const input = new Uint8Array(await candidate.blob.arrayBuffer());
    const info = await transcoder.probe(input);
    const tooLarge = targetSize > 0 && (cut ? (input.byteLength * cut.durationMs) / candidate.durationMs : input.byteLength) > targetSize;
    const onProgress = (fraction: number) => this.#set(() => (this.progress = fraction));
    let output: Uint8Array = input;
    if (!isUploadReady(info) || tooLarge || (cut && exactCuts)) {
      const durationMs = info.durationS !== undefined ? info.durationS * 1000 : candidate.durationMs;
      output = await transcoder.encode(input, { durationMs, ...(cut ? { cut } : {}), ...(tooLarge ? { targetBytes: targetSize } : {}) }, onProgress);
    } else if (cut) {
      output = await transcoder.remux(input, cut, onProgress);
    }
    this.#set(() => (this.progress = undefined));
    return new Blob([output as Uint8Array<ArrayBuffer>], { type: 'video/mp4' });
  }

  /** Cancel during a clip or a preparation: ends the worker (the job rejects as cancelled). */
  cancelPreparation(): void {
    this.#replayFetch?.abort();
    this.#preload.stop(); // held the ended worker; the next update preloads a fresh one while the player plays
    this.#transcoder?.cancel();
    this.#transcoder = undefined;
  }
}

/** A media file's duration from the browser's own demuxer (0 when it cannot tell). */
function mediaDurationMs(file: Blob): Promise<number> {
  const video = document.createElement('video');
  const url = URL.createObjectURL(file);
  return new Promise<number>((resolve) => {
    video.preload = 'metadata';
    video.onloadedmetadata = () => resolve(Number.isFinite(video.duration) ? video.duration * 1000 : 0);
    video.onerror = () => resolve(0);
    video.src = url;
  }).finally(() => URL.revokeObjectURL(url));
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 300);
}
