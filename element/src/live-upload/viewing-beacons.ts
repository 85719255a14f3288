import { referralSourceOf } from '@live-upload/schema';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { LIVE_EVENTS, type LiveClipReadyDetail } from '../events.js';
import { ViewingBeaconSession, type BeaconSender, type ViewingBeaconSettings } from './viewing-beacons-session.js';

export type { BeaconSender, ViewingBeaconSettings };

const isLivePlayer = (target: EventTarget | null) => target instanceof HTMLVideoElement && target.getAttribute('part') === 'player';

/**
 * `<live-upload>`'s audience beacons (issue 27): its live player's `playing`, `pause`, `ended`
 * and `emptied`, and its own clip and upload events, drive one `ViewingBeaconSession` (what is
 * sent, and when, is there).
 */
export class ViewingBeacons implements ReactiveController {
  readonly #session: ViewingBeaconSession;
  /** Only the live player (`video[part="player"]`) counts: not a replay, not a publisher's preview. */
  readonly #onPlaying = (event: Event) => {
    if (isLivePlayer(event.target)) this.playing();
  };
  readonly #onPaused = (event: Event) => {
    if (isLivePlayer(event.target)) this.paused();
  };
  readonly #onClip = (event: Event) => {
    if ((event as CustomEvent<LiveClipReadyDetail>).detail?.source === 'clip') this.clipMade();
  };
  readonly #onUpload = () => this.uploadDone();

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement & { readonly renderRoot: HTMLElement | DocumentFragment },
    settings: () => ViewingBeaconSettings,
    send?: BeaconSender,
  ) {
    this.#session = new ViewingBeaconSession(settings, referralSourceOf, 'embed', send);
    host.addController(this);
  }

  /** Media events do not bubble: caught on the way down in the shadow root; the element's own events on itself. */
  hostConnected(): void {
    for (const type of ['playing']) this.host.renderRoot.addEventListener(type, this.#onPlaying, true);
    for (const type of ['pause', 'ended', 'emptied']) this.host.renderRoot.addEventListener(type, this.#onPaused, true);
    this.host.addEventListener(LIVE_EVENTS.clipReady, this.#onClip);
    this.host.addEventListener(LIVE_EVENTS.uploadComplete, this.#onUpload);
  }

  hostDisconnected(): void {
    this.paused();
    this.host.renderRoot.removeEventListener('playing', this.#onPlaying, true);
    for (const type of ['pause', 'ended', 'emptied']) this.host.renderRoot.removeEventListener(type, this.#onPaused, true);
    this.host.removeEventListener(LIVE_EVENTS.clipReady, this.#onClip);
    this.host.removeEventListener(LIVE_EVENTS.uploadComplete, this.#onUpload);
  }

  /** The player started or resumed playing: `start` once per broadcast, then heartbeats. */
  playing(): void {
    this.#session.watching();
  }

  /** Paused, ended or gone: no heartbeats until it plays again. */
  paused(): void {
    this.#session.stopped();
  }

  clipMade(): void {
    this.#session.clipMade();
  }

  uploadDone(): void {
    this.#session.uploadDone();
  }
}
