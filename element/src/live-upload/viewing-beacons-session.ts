import { BEACON_HEARTBEAT_S, BEACON_SURFACES, originOf, type BeaconEvent, type BeaconSurface } from '@live-upload/schema';

/** What the beacons need to know, read at each send. */
export interface ViewingBeaconSettings {
  /** The live-upload server (empty: this page's origin). */
  readonly endpoint: string;
  readonly channel: string;
  /** The broadcast being watched; no beacon is sent without one. */
  readonly canonicalId: string | undefined;
  /** The element's `beacon-surface`, as the page set it: a value that is no surface counts as the session's own. */
  readonly surface: string;
  /** `no-beacons`: the page opted out; nothing is sent. */
  readonly disabled: boolean;
}

/**
 * Reduces `document.referrer` before it leaves the page: to a provider or an origin, never a path
 * or query (`referralSourceOf`; the server reduces again with it). `pageOrigin` is undefined in
 * the oEmbed iframe, where the referrer is the embedding page.
 */
export type ReferrerReducer = (referrer: string, pageOrigin: string | undefined) => string;

/**
 * A referrer's origin alone, `direct` for none or this page's own: what `referralSourceOf` keeps
 * of it but for naming known providers, which the server does. For the badge, whose bundle the
 * provider and search host lists would grow by a sixth.
 */
export const referrerOrigin: ReferrerReducer = (referrer, pageOrigin) => {
  const origin = originOf(referrer);
  return origin && origin !== pageOrigin ? origin : 'direct';
};

/** Sends one beacon body to a URL; `navigator.sendBeacon` in a browser. */
export type BeaconSender = (url: string, body: string) => boolean;

const sendBeacon: BeaconSender = (url, body) => navigator.sendBeacon?.(url, body) ?? false;

/** A viewing session id: 16 random bytes, base64url; one per page view, never stored. */
function newViewingSession(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The page view's session and its clip and upload numbers. */
interface PageView {
  readonly session: string;
  clips: number;
  uploads: number;
}

/**
 * One per page view, shared by every element on the page, whichever bundle defined it (the
 * badge's and `<live-upload>`'s are separate files: a global symbol, not a module variable).
 * So a page with a player and badges is one viewer, and clips numbered across the page never
 * share a number. In memory only: a reload is a new page view.
 */
function pageView(): PageView {
  const holder = globalThis as { [key: symbol]: PageView | undefined };
  const key = Symbol.for('live-upload.viewing-session');
  return (holder[key] ??= { session: newViewingSession(), clips: 0, uploads: 0 });
}

/**
 * One viewing session's audience beacons (issue 27), whatever watches: `start` once per
 * broadcast when watching begins, a `heartbeat` every 30 s while it goes on, `clip` and `upload`
 * numbered per session, each a `navigator.sendBeacon` of a small text/plain JSON body to
 * `{endpoint}/api/v1/beacons`. No cookie, no storage, no user id: the session id is random per
 * page view (shared by the page's elements) and the referrer is reduced to a provider or an origin before it leaves the page.
 * Nothing is sent without a canonical id, or when disabled. `<live-upload>`'s player drives it
 * through `ViewingBeacons`; `<live-badge>` alone drives it while it shows a live broadcast.
 */
export class ViewingBeaconSession {
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #started: string | undefined;

  /**
   * @param ownSurface what this element is (`badge`, `embed`): the surface of its beacons when
   *   the page's `beacon-surface` names none (the server refuses an unknown one, beacon and all).
   */
  constructor(
    private readonly settings: () => ViewingBeaconSettings,
    private readonly reduceReferrer: ReferrerReducer,
    private readonly ownSurface: BeaconSurface,
    private readonly send: BeaconSender = sendBeacon,
  ) {}

  /** Watching started or resumed: `start` once per broadcast, then heartbeats. */
  watching(): void {
    const { canonicalId } = this.settings();
    if (canonicalId !== undefined && this.#started !== canonicalId && this.#beacon('start')) this.#started = canonicalId;
    this.#heartbeat ??= setInterval(() => this.#beacon('heartbeat'), BEACON_HEARTBEAT_S * 1000);
  }

  /** Paused, ended, hidden or gone: no heartbeats until watching resumes. */
  stopped(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  clipMade(): void {
    this.#beacon('clip', ++pageView().clips);
  }

  uploadDone(): void {
    this.#beacon('upload', ++pageView().uploads);
  }

  #beacon(event: BeaconEvent, n?: number): boolean {
    const settings = this.settings();
    if (settings.disabled || !settings.canonicalId || !settings.channel) return false;
    const surface = (BEACON_SURFACES as readonly string[]).includes(settings.surface) ? (settings.surface as BeaconSurface) : this.ownSurface;
    const referrer = document.referrer;
    const pageOrigin = location.origin;
    // In the oEmbed iframe the page that embeds us is the referrer; elsewhere it is this page.
    const hostOrigin = surface === 'oembed' ? originOf(referrer) : pageOrigin;
    const body = {
      canonical_id: settings.canonicalId,
      channel: settings.channel,
      event,
      surface,
      ...(surface !== 'landing' && hostOrigin ? { host_origin: hostOrigin } : {}),
      referrer: this.reduceReferrer(referrer, surface === 'oembed' ? undefined : pageOrigin),
      session: pageView().session,
      ...(n === undefined ? {} : { n }),
    };
    const base = new URL(`${settings.endpoint.replace(/\/$/, '')}/`, location.href);
    return this.send(new URL('api/v1/beacons', base).href, JSON.stringify(body));
  }
}
