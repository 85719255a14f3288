import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { LiveTrimChangeDetail } from '../events.js';
import { formatLabel } from '../labels.js';
import type { ReplayProgress } from '../status-record.js';
import type { CaptureController } from './capture-controller.js';
import { fetchLatestReplay, type LatestReplayInfo } from './latest-replay.js';
import type { LiveUploadView, TrimRange } from './live-upload-view.js';
import { AUTO_QUALITY, type ReplayPlayer, type ReplayRung } from './replay-player.js';

/**
 * While the channel is offline and no replay is being watched, `/status` is asked again this
 * often: the backstop. A replay published while the element follows the channel is looked up at
 * once, from its `vod-progress` event (`replayProgressed`).
 */
export const REPLAY_REFRESH_MS = 30_000;

/** What the replay reads from the element. */
export interface ReplaySettings {
  readonly endpoint: string;
  readonly channel: string;
  /** The channel's status from its SSE record (`live`, `offline`, ...), undefined before the first. */
  readonly status: string | undefined;
  /** The element plays a `src` of its own: no replay then. */
  readonly hasSrc: boolean;
  readonly clipSeconds: number;
  readonly maxClipSeconds: number;
}

/**
 * The replay of `<live-upload>`: while the channel is offline, its latest public replay (from
 * `/status`) behind a Watch the replay button; once pressed, hls.js plays it in
 * `video[part="replay"]` (ABR, or the rung the viewer picks in the quality menu, each change
 * announced); Clip from the replay opens the trim handles over the replay's timeline and Make
 * clip cuts that range from its segments (`CaptureController.clipReplay`). When the channel goes
 * live again the replay stops and the live player takes its place.
 */
export class ReplayController implements ReactiveController {
  /** The latest replay while the channel is offline. */
  replay: LatestReplayInfo | undefined;
  /** The viewer pressed Watch the replay (and the channel is still offline). */
  watching = false;
  /** The ladder's rungs, largest first, once hls.js read the master playlist. */
  rungs: readonly ReplayRung[] = [];
  /** `AUTO_QUALITY` or the level the viewer chose. */
  quality = AUTO_QUALITY;
  /** The level on screen. */
  playingLevel: number | undefined;
  /** The range picked for a clip on the replay's timeline (ms), while picking. */
  range: TrimRange | undefined;
  #player: ReplayPlayer | undefined;
  #attaching = false;
  #lookedUp = '';
  #lookup: AbortController | undefined;
  #refresh: ReturnType<typeof setTimeout> | undefined;
  #videoDurationMs: number | undefined;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement & { readonly renderRoot: HTMLElement | DocumentFragment },
    private readonly view: LiveUploadView,
    private readonly capture: CaptureController,
    private readonly settings: () => ReplaySettings,
  ) {
    host.addController(this);
  }

  /** Whether the replay can be offered: the channel is known to be offline (not live) and the element plays no `src` of its own. */
  #offline(settings: ReplaySettings): boolean {
    return !settings.hasSrc && settings.status !== undefined && settings.status !== 'live' && Boolean(settings.channel) && this.host.isConnected;
  }

  /** Before the render: the replay goes when the channel is live, and is looked up when it is offline. */
  hostUpdate(): void {
    const settings = this.settings();
    if (!this.#offline(settings)) {
      if (this.replay || this.watching) this.#backToLive(settings.status === 'live');
      this.#lookedUp = '';
      return;
    }
    const key = `${settings.endpoint} ${settings.channel}`;
    if (key !== this.#lookedUp) {
      this.#lookedUp = key;
      if (this.watching) this.stop();
      void this.#lookUp(settings);
    }
  }

  /** After the render: the replay's `<video>` exists once Watch was pressed, and gets its player. */
  hostUpdated(): void {
    if (this.watching && !this.#player && !this.#attaching) void this.#attach();
  }

  hostDisconnected(): void {
    this.#lookup?.abort();
    clearTimeout(this.#refresh);
    this.#detach();
    this.watching = false;
    this.#lookedUp = '';
  }

  async #lookUp(settings: ReplaySettings): Promise<void> {
    this.#lookup?.abort();
    clearTimeout(this.#refresh);
    const lookup = new AbortController();
    this.#lookup = lookup;
    const key = this.#lookedUp;
    let replay: LatestReplayInfo | undefined;
    try {
      replay = await fetchLatestReplay(settings.endpoint, settings.channel, lookup.signal);
    } catch {
      replay = this.replay; // a failed look-up keeps what was offered; the next one may do better
    }
    if (lookup.signal.aborted || this.#lookedUp !== key) return;
    if (!this.watching || replay?.canonicalId === this.replay?.canonicalId) {
      this.replay = replay;
      this.#videoDurationMs = undefined;
      this.host.requestUpdate();
    }
    this.#refresh = setTimeout(() => {
      if (!this.watching && this.#lookedUp === key) void this.#lookUp(this.settings());
    }, REPLAY_REFRESH_MS);
  }

  /** The channel's replay progress (SSE): a replay just published is looked up now, not at the next refresh. */
  replayProgressed(progress: ReplayProgress): void {
    if (progress.state !== 'published' || this.watching || progress.canonicalId === this.replay?.canonicalId) return;
    const settings = this.settings();
    if (this.#offline(settings) && progress.channel === settings.channel) void this.#lookUp(settings);
  }

  /** Watch the replay: shows its `<video>` (the next update attaches hls.js to it). */
  watch(): void {
    if (!this.replay || this.watching) return;
    this.watching = true;
    this.view.say(this.view.labels().replayStarted);
    this.view.focusAfterRender('video[part="replay"]');
    this.host.requestUpdate();
  }

  /** Stops the replay (its `<video>` goes, Watch the replay comes back). */
  stop(): void {
    this.#detach();
    this.watching = false;
    this.range = undefined;
    this.host.requestUpdate();
  }

  async #attach(): Promise<void> {
    const replay = this.replay;
    const video = this.host.renderRoot.querySelector<HTMLVideoElement>('video[part="replay"]');
    if (!replay || !video) return;
    this.#attaching = true;
    video.addEventListener('durationchange', () => {
      if (Number.isFinite(video.duration) && video.duration > 0) this.#videoDurationMs = video.duration * 1000;
    });
    try {
      const { attachReplayPlayer } = await import('./replay-player.js');
      const player = await attachReplayPlayer(video, replay.url, {
        onRungs: (rungs) => {
          this.rungs = rungs;
          this.host.requestUpdate();
        },
        onRung: (level) => {
          this.playingLevel = level;
          this.host.requestUpdate();
        },
        onFatal: (detail) => this.view.reportError('playback_failed', detail, () => this.#retry()),
      });
      if (!this.watching || this.replay !== replay) return player.destroy();
      this.#player = player;
      this.quality = AUTO_QUALITY;
      // The viewer pressed Watch, but loading hls.js and the ladder can outlast the browser's
      // transient activation (about 5 s in Chromium): a refused play is retried muted, as the
      // live player autoplays, and the controls unmute it.
      void video.play().catch((error: unknown) => {
        if (!(error instanceof DOMException && error.name === 'NotAllowedError') || !this.watching) return;
        video.muted = true;
        return video.play().catch(() => undefined);
      });
    } catch (error) {
      this.view.reportError('playback_failed', error instanceof Error ? error.message : String(error), () => this.#retry());
    } finally {
      this.#attaching = false;
    }
  }

  #retry(): void {
    this.#detach();
    this.host.requestUpdate();
  }

  #detach(): void {
    this.#player?.destroy();
    this.#player = undefined;
    this.rungs = [];
    this.quality = AUTO_QUALITY;
    this.playingLevel = undefined;
  }

  /** The channel went live (or the element now plays its own `src`): the replay gives way to the live player. */
  #backToLive(live: boolean): void {
    const wasWatching = this.watching;
    this.#lookup?.abort();
    clearTimeout(this.#refresh);
    this.#detach();
    this.watching = false;
    this.range = undefined;
    this.replay = undefined;
    if (wasWatching && live) this.view.say(this.view.labels().backToLive);
    this.host.requestUpdate();
  }

  /** The quality menu: `AUTO_QUALITY` (hls.js' ABR) or one rung; the change is announced. */
  setQuality(level: number): void {
    if (!this.#player) return;
    this.#player.setQuality(level);
    this.quality = this.#player.quality;
    this.view.say(formatLabel(this.view.labels().qualityChanged, { quality: this.qualityName(this.quality) }));
    this.host.requestUpdate();
  }

  /** `Auto`, or `720p`. */
  qualityName(level: number): string {
    const labels = this.view.labels();
    const rung = this.rungs.find((candidate) => candidate.level === level);
    return rung ? formatLabel(labels.qualityRung, { height: String(rung.height) }) : labels.qualityAuto;
  }

  /** The replay's length, ms: the server's figure, else the player's. */
  get durationMs(): number {
    return this.replay?.durationMs ?? this.#videoDurationMs ?? 0;
  }

  #video(): HTMLVideoElement | null {
    return this.host.renderRoot.querySelector<HTMLVideoElement>('video[part="replay"]');
  }

  /** Clip from the replay: the trim handles over its timeline, on the `clip-seconds` before the playhead. */
  startClip(): void {
    const { clipSeconds, maxClipSeconds } = this.settings();
    const durationMs = this.durationMs;
    if (!this.watching || !(durationMs > 0)) return;
    const lengthMs = Math.min(Math.max(1, Math.min(clipSeconds, maxClipSeconds)) * 1000, durationMs);
    const playheadMs = (this.#video()?.currentTime ?? 0) * 1000;
    const endMs = Math.min(durationMs, Math.max(lengthMs, playheadMs));
    this.range = { startMs: Math.max(0, endMs - lengthMs), endMs };
    this.#sayRange();
    this.view.focusAfterRender('[data-action="replay-cut"]');
    this.host.requestUpdate();
  }

  /** The trim handles moved: at most `max-clip-seconds` (the other handle follows), and the replay shows the moved end. */
  rangeChanged({ startMs, endMs }: LiveTrimChangeDetail): void {
    const previous = this.range;
    if (!previous) return;
    const maxMs = this.settings().maxClipSeconds * 1000;
    const movedStart = startMs !== previous.startMs;
    let range = { startMs, endMs };
    if (endMs - startMs > maxMs) range = movedStart ? { startMs, endMs: startMs + maxMs } : { startMs: endMs - maxMs, endMs };
    this.range = range;
    const video = this.#video();
    if (video) video.currentTime = (movedStart ? range.startMs : range.endMs) / 1000;
    this.#sayRange();
    this.host.requestUpdate();
  }

  #sayRange(): void {
    if (!this.range) return;
    const seconds = ((this.range.endMs - this.range.startMs) / 1000).toLocaleString(this.view.lang(), { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    this.view.say(formatLabel(this.view.labels().replayRangeHint, { seconds }));
  }

  /** Make clip: the picked range, cut from the replay's segments, goes to review. */
  async cut(): Promise<void> {
    const replay = this.replay;
    const range = this.range;
    if (!replay || !range) return;
    this.range = undefined;
    this.#video()?.pause();
    this.host.requestUpdate();
    await this.capture.clipReplay({ masterUrl: replay.url, canonicalId: replay.canonicalId, startedAtMs: replay.startedAtMs }, range.startMs, range.endMs);
  }

  /** Cancel while picking a range. */
  cancelRange(): void {
    this.range = undefined;
    this.view.say('');
    this.view.focusAfterRender('[data-action="replay-clip"]');
    this.host.requestUpdate();
  }
}
