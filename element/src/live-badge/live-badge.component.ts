import { isCanonicalId, type BeaconSurface, type LiveStatus, type LiveStatusSummary } from '@live-upload/schema';
import { ReactiveElement, type PropertyDeclarations, type PropertyValues } from '@lit/reactive-element';
import { createLiveEvent } from '../events.js';
import { LangController } from '../lang-controller.js';
import { formatLabel, labelLocale, resolveLabels, type LiveLabels } from '../labels.js';
import { documentLiveStatusRegistry } from '../live-status-connection.js';
import { referrerOrigin, ViewingBeaconSession } from '../live-upload/viewing-beacons-session.js';
import { liveBadgeStyles } from './live-badge.styles.js';

/**
 * @summary Shows whether a channel is live, kept current by the server's live-status stream.
 *
 * Every badge on a page shares one connection per endpoint. Text from the network is rendered
 * as text only. Labels follow the closest `lang` attribute (en, de, fr; English otherwise), also
 * when a page changes it after load.
 *
 * A badge on its own (not the one inside `<live-upload>`, whose player counts the viewer) sends
 * the audience beacons of surface `badge` (issue 27; `beacon-surface` names another): `start` when it shows a live broadcast,
 * then a heartbeat every 30 s while it does and the page is visible. No cookie, no storage;
 * `no-beacons` turns them off.
 *
 * @event live-status-change - The channel's status became known or changed.
 *   `detail: { channel, status, record }`. Title and viewer updates re-render without it.
 *
 * @csspart base - The visible badge. (Assistive technology reads a visually hidden
 *   `role="status"` live region instead, kept in step with it.)
 * @csspart label - The coloured pill with the short status text (LIVE, OFFLINE, SOON).
 * @csspart dot - The dot in the pill; it pulses while live, unless motion is reduced.
 * @csspart title - The stream title (live and scheduled).
 * @csspart viewers - The viewer count (live, when known).
 *
 * @cssproperty --live-live-color - Pill colour while live. Default #e5133a.
 * @cssproperty --live-offline-color - Pill colour while offline. Default #5f6368.
 * @cssproperty --live-scheduled-color - Pill colour while scheduled. Default #5b4ae6.
 * @cssproperty --live-label-color - Pill text colour. Default #fff.
 * @cssproperty --live-text-color - Title and viewer count colour. Default: inherited.
 * @cssproperty --live-font - `font` shorthand. Default `600 0.8125rem/1.25 system-ui, sans-serif`.
 * @cssproperty --live-radius - Pill corner radius. Default 0.25em.
 * @cssproperty --live-pulse-duration - One pulse of the dot. Default 1.6s.
 *
 * Built on Lit's `ReactiveElement` (properties, controllers, styles) without lit-html: its shadow
 * DOM is five fixed spans whose text changes, written by hand in `update`. lit-html was 7.8 of
 * the bundle's 24 KB (about 2.8 KB gzipped) for that.
 */
export class LiveBadge extends ReactiveElement {
  static override styles = liveBadgeStyles;

  // Declared here rather than with @property(): Lit's decorator module (both decorator
  // flavours) plus esbuild's decorator helper cost ~340 B gzipped, the badge's size budget.
  static override properties: PropertyDeclarations = {
    channel: {},
    endpoint: {},
    noTitle: { type: Boolean, attribute: 'no-title' },
    noBeacons: { type: Boolean, attribute: 'no-beacons' },
    beaconSurface: { attribute: 'beacon-surface' },
    labels: { attribute: false },
    record: { attribute: false },
    status: { reflect: true },
  };

  /** The channel to follow, `{publisher}/{slug}`. */
  channel = '';

  /** The live-upload server (origin, optionally with a base path). Empty: this page's origin. */
  endpoint = '';

  /** Hides the title. */
  noTitle = false;

  /** Sends no audience beacons. */
  noBeacons = false;

  /**
   * Where the beacons say the badge was seen: `badge` (a page's own badge), or `landing` /
   * `oembed` when it stands for the player on our landing page. Anything else counts as `badge`.
   */
  beaconSurface: BeaconSurface = 'badge';

  /** Overrides for the labels chosen from `lang`. */
  labels: Partial<LiveLabels> = {};

  /** The record shown. Set by the live-status stream; a page may set it for a static badge. */
  record: LiveStatusSummary | undefined;

  /** The status shown, reflected so CSS can style it. Follows `record`. */
  status: LiveStatus | undefined;

  #followed = '';
  #unfollow: (() => void) | undefined;
  #lang = new LangController(this);
  readonly #beacons = new ViewingBeaconSession(() => ({ endpoint: this.endpoint, channel: this.channel, canonicalId: this.#liveBroadcast(), surface: this.beaconSurface, disabled: this.#quiet() }), referrerOrigin, 'badge');
  readonly #onVisibility = () => this.#beaconWhileSeen();
  /** The shadow DOM's spans, made at the first update. */
  #parts: BadgeParts | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.#follow();
    this.ownerDocument.addEventListener('visibilitychange', this.#onVisibility);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#follow();
    this.ownerDocument.removeEventListener('visibilitychange', this.#onVisibility);
    this.#beacons.stopped();
  }

  /**
   * The broadcast shown live: the live-status stream carries the whole canonical record, so its
   * `canonical_id` is there beside the summary's fields (checked: a page-set record has none).
   */
  #liveBroadcast(): string | undefined {
    const id = (this.record as { canonical_id?: unknown } | undefined)?.canonical_id;
    return this.record?.status === 'live' && typeof id === 'string' && isCanonicalId(id) ? id : undefined;
  }

  /** `no-beacons`, or the badge of a `<live-upload>` (its player's beacons count that viewer). */
  #quiet(): boolean {
    return this.noBeacons || (this.getRootNode() as Partial<ShadowRoot>).host?.localName === 'live-upload';
  }

  /** Beacons while a live broadcast is shown on a visible page; none otherwise. */
  #beaconWhileSeen(): void {
    if (this.isConnected && !this.#quiet() && this.#liveBroadcast() && this.ownerDocument.visibilityState === 'visible') this.#beacons.watching();
    else this.#beacons.stopped();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('channel') || changed.has('endpoint')) this.#follow();
    if (changed.has('record')) this.status = this.record?.status;
  }

  protected override updated(changed: PropertyValues<this>): void {
    const { record, status } = this;
    if (changed.has('status') && status && record?.status === status) {
      this.dispatchEvent(createLiveEvent('live-status-change', { channel: record.channel, status, record }));
    }
    if (changed.has('record') || changed.has('noBeacons')) this.#beaconWhileSeen();
  }

  /**
   * Subscribes to the channel while connected; resubscribes when channel or endpoint change.
   * A new subscription starts empty and gets the channel's last known record at once, if any.
   */
  #follow(): void {
    const key = this.isConnected && this.channel ? `${this.endpoint} ${this.channel}` : '';
    if (key === this.#followed) return;
    this.#unfollow?.();
    this.#followed = key;
    this.#unfollow = undefined;
    if (!key) return;
    this.record = undefined;
    this.#unfollow = documentLiveStatusRegistry(this.ownerDocument).subscribe(this.endpoint, this.channel, (record) => {
      this.record = record;
    });
  }

  protected override update(changed: PropertyValues<this>): void {
    super.update(changed);
    const { status, record } = this;
    const lang = this.#lang.lang;
    const labels = resolveLabels(lang, this.labels);
    const statusText = status ? labels[status] : '';
    const title = status !== 'offline' && !this.noTitle ? record?.title : undefined;
    const count = status === 'live' ? record?.viewer_count : undefined;
    const viewers = count == null ? '' : formatLabel(labels.viewers, { count: count.toLocaleString(labelLocale(lang)) });
    const sentence = title ? formatLabel(labels.withTitle, { status: statusText, title }) : statusText;
    // Screen readers get one sentence ("Live: {title}, 12 watching") from the live region; the
    // visible badge says the same in parts and is hidden from them. Text only, never markup; a
    // text is written only when it changed, so the live region announces changes alone.
    const parts = (this.#parts ??= badgeParts(this.renderRoot));
    setText(parts.region, viewers ? `${sentence}, ${viewers}` : sentence);
    setText(parts.label, statusText);
    setText(parts.title, title || '');
    setText(parts.viewers, viewers);
    if (!status) parts.base.remove();
    else if (!parts.base.isConnected) this.renderRoot.appendChild(parts.base);
  }
}

interface BadgeParts {
  readonly region: HTMLElement;
  /** The pill, in the shadow root only while there is a status to show. */
  readonly base: HTMLElement;
  /** The pill's text, after its dot. */
  readonly label: Text;
  readonly title: HTMLElement;
  readonly viewers: HTMLElement;
}

/** The badge's spans, made once per badge: the live region in `root`, the pill beside it (added when shown). */
function badgeParts(root: HTMLElement | DocumentFragment): BadgeParts {
  const template = document.createElement('template');
  template.innerHTML =
    '<span class="visually-hidden" role="status" aria-live="polite" aria-atomic="true"></span>' +
    '<span part="base" aria-hidden="true"><span part="label"><span part="dot"></span></span><span part="title"></span><span part="viewers"></span></span>';
  const [region, base] = template.content.children as unknown as [HTMLElement, HTMLElement];
  const [label, title, viewers] = base.children as unknown as [HTMLElement, HTMLElement, HTMLElement];
  const text = label.appendChild(document.createTextNode(''));
  root.appendChild(region);
  return { region, base, label: text, title, viewers };
}

function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}
