import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { documentLiveStatusRegistry } from '../live-status-connection.js';
import type { ReplayProgress } from '../status-record.js';
import { readPlaybackInfo, type PlaybackInfo } from './playback-record.js';

const NO_PLAYBACK: PlaybackInfo = { hls: undefined, canonicalId: undefined, startedAtMs: undefined };

/**
 * Follows a channel's live status (the page's shared SSE connection) while the host is
 * connected: its status and the playback it links (HLS, canonical id, start). Re-follows when
 * the channel or endpoint change; the host re-renders on every record.
 */
export class ChannelFollowController implements ReactiveController {
  status: string | undefined;
  playback: PlaybackInfo = NO_PLAYBACK;
  #followed = '';
  #unfollow: (() => void) | undefined;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly target: () => { endpoint: string; channel: string },
    /** Called with the new key (`''`: nothing followed) whenever what is followed changes. */
    private readonly onFollow: (key: string) => void = () => {},
    /** The followed channel's replay progress (a replay published: the offline element can offer it at once). */
    private readonly onReplayProgress: (progress: ReplayProgress) => void = () => {},
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.#follow();
  }

  hostUpdate(): void {
    this.#follow();
  }

  hostDisconnected(): void {
    this.#follow();
  }

  #follow(): void {
    const { endpoint, channel } = this.target();
    const key = this.host.isConnected && channel ? `${endpoint} ${channel}` : '';
    if (key === this.#followed) return;
    this.#unfollow?.();
    this.#followed = key;
    this.#unfollow = undefined;
    this.playback = NO_PLAYBACK;
    this.status = undefined;
    this.onFollow(key);
    if (!key) return;
    const base = new URL(endpoint || '/', location.href).href;
    this.#unfollow = documentLiveStatusRegistry(this.host.ownerDocument).subscribe(
      endpoint,
      channel,
      (record) => {
        this.status = record.status;
        this.playback = readPlaybackInfo(record, base);
        this.host.requestUpdate();
      },
      (progress) => this.onReplayProgress(progress),
    );
  }

  /** Whether `key` (from `onFollow`) is still what is followed. */
  following(key: string): boolean {
    return this.#followed === key;
  }
}
