import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ClipBuffer } from './clip-buffer.js';
import type { LivePlayer, LivePlayerState } from './live-player.js';
import type { LiveUploadView } from './live-upload-view.js';

/** Program time kept beyond the longest clip. */
const BUFFER_SLACK_MS = 10_000;

/**
 * The live player of `<live-upload>`: attaches hls.js (or native HLS) to the host's
 * `video[part="player"]` whenever the stream to play changes, feeds the clip buffer, and turns
 * the player's states into calm words: the stream paused (and back), the stream has ended
 * (never an error once the channel is offline). A player that cannot play says so, with Try again.
 */
export class PlayerController implements ReactiveController {
  /** What the player downloaded, for clips. */
  buffer: ClipBuffer;
  /** The player's state; `ended` once a stream that played is no longer live. */
  state: LivePlayerState | 'ended' | undefined;
  engine: LivePlayer['engine'] | undefined;
  #player: LivePlayer | undefined;
  #url = '';
  #keepMs: number;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement & { readonly renderRoot: HTMLElement | DocumentFragment },
    private readonly view: LiveUploadView,
    /** The stream to play now (`''`: none). */
    private readonly url: () => string,
    /** The longest clip, ms: the buffer keeps that much. */
    private readonly longestClipMs: () => number,
  ) {
    this.#keepMs = longestClipMs();
    this.buffer = new ClipBuffer(this.#keepMs + BUFFER_SLACK_MS);
    host.addController(this);
  }

  hostUpdate(): void {
    const keepMs = this.longestClipMs();
    if (keepMs !== this.#keepMs) {
      this.#keepMs = keepMs;
      this.buffer = new ClipBuffer(keepMs + BUFFER_SLACK_MS);
    }
    // The stream is over (the channel went offline): said in this render, not in another one
    // that setting it after the render would cost.
    if (this.#url && !this.url()) this.#ended();
  }

  hostUpdated(): void {
    const url = this.url();
    if (url !== this.#url) void this.#attach(url);
  }

  hostDisconnected(): void {
    this.#detach();
  }

  /** Program time of the frame on screen, when the stream carries one. */
  playheadDate(): number | undefined {
    return this.#player?.playheadDate();
  }

  async #attach(url: string): Promise<void> {
    this.#detach();
    this.#url = url;
    if (!url) return;
    const video = this.host.renderRoot.querySelector<HTMLVideoElement>('video[part="player"]');
    if (!video) return;
    try {
      const { attachLivePlayer } = await import('./live-player.js');
      const player = await attachLivePlayer(video, url, this.buffer, {
        onState: (state) => this.#stateChanged(state),
        onFatal: (detail) => this.view.reportError('playback_failed', detail, () => this.#retry()),
      });
      if (this.#url !== url) return player.destroy();
      this.#player = player;
      this.engine = player.engine;
      this.host.requestUpdate();
      void video.play().catch(() => undefined); // muted autoplay; the controls are there otherwise
    } catch (error) {
      this.view.reportError('playback_failed', error instanceof Error ? error.message : String(error), () => this.#retry());
    }
  }

  /** A stream that played is over: a calm word, never an error about it. */
  #ended(): void {
    const wasShown = this.state !== undefined && this.state !== 'ended';
    this.#detach();
    if (!wasShown) return;
    this.state = 'ended';
    this.view.clearError('playback_failed');
    if (this.view.stage() === 'idle') this.view.say(this.view.labels().streamEnded);
  }

  #stateChanged(state: LivePlayerState): void {
    const previous = this.state;
    this.state = state;
    const labels = this.view.labels();
    if (state === 'waiting' && previous !== 'waiting') {
      this.view.clearError('playback_failed');
      if (this.view.stage() === 'idle') this.view.say(labels.streamPaused);
    }
    if (state === 'playing' && previous === 'waiting' && this.view.message() === labels.streamPaused) this.view.say('');
    this.host.requestUpdate();
  }

  #retry(): void {
    this.#detach();
    this.host.requestUpdate(); // the next update attaches again
  }

  #detach(): void {
    this.#player?.destroy();
    this.#player = undefined;
    this.#url = '';
    this.engine = undefined;
    this.state = undefined;
  }
}
