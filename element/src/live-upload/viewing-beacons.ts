import { BEACON_HEARTBEAT_S, originOf, referralSourceOf, type BeaconEvent, type BeaconSurface } from '@live-upload/schema';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { LIVE_EVENTS, type LiveClipReadyDetail } from '../events.js';

/** What the beacons need to know, read at each send. */
export interface ViewingBeaconSettings {
  /** The live-upload server (empty: this page's origin). */
  readonly endpoint: string;
  readonly channel: string;
  /** The broadcast being watched; no beacon is sent without one. */
  readonly canonicalId: string | undefined;
  readonly surface: BeaconSurface;
  /** `no-beacons`: the page opted out; nothing is sent. */
  readonly disabled: boolean;
}

/** Sends one beacon body to a URL; `navigator.sendBeacon` in a browser. */
export type BeaconSender = (url: string, body: string) => boolean;

const sendBeacon: BeaconSender = (url, body) => (typeof navigator !== 'undefined' && typeof navigator.sendBeacon === 'function' ? navigator.sendBeacon(url, body) : false);

/** A viewing session id: 16 random bytes, base64url; one per page view (per element), never stored. */
function newViewingSession(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const isLivePlayer = (target: EventTarget | null) => target instanceof HTMLVideoElement && target.getAttribute('part') === 'player';

/**
 * The audience beacons of one viewing session (issue 27): `start` when a broadcast starts
 * playing, a `heartbeat` every 30 s while it plays, `clip` for each clip made, `upload` for each
 * upload done, each a `navigator.sendBeacon` of a small text/plain JSON body to
 * `{endpoint}/api/v1/beacons`. No cookie, no storage, no user id: the session id is random per
 * page view and the referrer is reduced to a provider or an origin before it leaves the page.
 * Nothing is sent without a canonical id, or with `no-beacons`.
 */
export class ViewingBeacons implements ReactiveController {
  readonly #session = newViewingSession();
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
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #started: string | undefined;
  #clips = 0;
  #uploads = 0;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement & { readonly renderRoot: HTMLElement | DocumentFragment },
    private readonly settings: () => ViewingBeaconSettings,
    private readonly send: BeaconSender = sendBeacon,
  ) {
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
    const { canonicalId } = this.settings();
    if (canonicalId !== undefined && this.#started !== canonicalId && this.#beacon('start')) this.#started = canonicalId;
    if (this.#heartbeat === undefined) this.#heartbeat = setInterval(() => this.#beacon('heartbeat'), BEACON_HEARTBEAT_S * 1000);
  }

  /** Paused, ended or gone: no heartbeats until it plays again. */
  paused(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  clipMade(): void {
    this.#beacon('clip', ++this.#clips);
  }

  uploadDone(): void {
    this.#beacon('upload', ++this.#uploads);
  }

  #beacon(event: BeaconEvent, n?: number): boolean {
    const settings = this.settings();
    if (settings.disabled || !settings.canonicalId || !settings.channel) return false;
    const referrer = typeof document === 'undefined' ? '' : document.referrer;
    const pageOrigin = typeof location === 'undefined' ? undefined : location.origin;
    // In the oEmbed iframe the page that embeds us is the referrer; elsewhere it is this page.
    const hostOrigin = settings.surface === 'oembed' ? originOf(referrer) : pageOrigin;
    const body = {
      canonical_id: settings.canonicalId,
      channel: settings.channel,
      event,
      surface: settings.surface,
      ...(settings.surface !== 'landing' && hostOrigin ? { host_origin: hostOrigin } : {}),
      referrer: referralSourceOf(referrer, settings.surface === 'oembed' ? undefined : pageOrigin),
      session: this.#session,
      ...(n === undefined ? {} : { n }),
    };
    const base = new URL(`${settings.endpoint.replace(/\/$/, '')}/`, location.href);
    return this.send(new URL('api/v1/beacons', base).href, JSON.stringify(body));
  }
}
