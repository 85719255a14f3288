import { html, LitElement, nothing, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import { createLiveEvent, type LiveTrimChangeDetail } from '../events.js';
import '../trim-range/trim-range.js';
import { LangController } from '../lang-controller.js';
import { formatLabel } from '../labels.js';
import { CaptureController } from './capture-controller.js';
import { ChannelFollowController } from './channel-follow-controller.js';
import type { LiveUploadView, Stage } from './live-upload-view.js';
import { liveUploadStyles } from './live-upload.styles.js';
import { FFmpegWorkerError } from './media-transcoder.js';
import type { RecordingSource } from './media-recording.js';
import type { PendingUpload } from './pending-uploads.js';
import { PlayerController } from './player-controller.js';
import type { PublishController, PublishGrantSource, PublishState } from './publish-controller.js';
import { DEFAULT_PUBLISH_MAX_KBPS } from './publish-max-kbps.js';
import { publishErrorLabel } from './publish-labels.js';
import type { publishTemplate } from './publish-templates.js';
import { ReplayController } from './replay-controller.js';
import { replayTemplate } from './replay-templates.js';
import { UploadFlowController } from './upload-flow-controller.js';
import { ViewingBeacons } from './viewing-beacons.js';
import type { BeaconSurface } from '@live-upload/schema';
import { formatClock, formatWholeSeconds, resolveUploadLabels, type LiveUploadLabels } from './upload-labels.js';
import type { UploadSnapshot } from './upload-session.js';
import { lastUploadTemplate, pendingTemplate, progressBar, uploadTemplate } from './upload-templates.js';
import { viewerErrorLabel } from './viewer-errors.js';

/** An error as the viewer sees it: a translated sentence, and what Try again does (when it helps). */
interface ViewerError {
  readonly code: string;
  readonly retry: (() => void) | undefined;
}

/** Trim handles never come closer than this. */
const MIN_TRIM_MS = 500;

/**
 * @summary The LIVE badge, the channel's live video, and Clip / Record / trim / upload into the
 * channel's quarantine, with progress, pause, resume and resume after a reload.
 *
 * Drop it into any page with one script tag. hls.js, FFmpeg.wasm and tus-js-client load only
 * when first needed, from `endpoint` (never a CDN). Text from the network is rendered as text.
 * Labels follow the closest `lang` attribute (en, de, fr; English otherwise). While the channel is
 * offline it offers its latest replay (Watch the replay, a quality menu, Clip on the replay's
 * timeline); when the channel goes live again the live player takes the replay's place.
 *
 * With `publish`, it is the publisher's side instead (its code, a lazy chunk, loads only then,
 * or on the first publisher method called): camera or screen and a microphone (each
 * from a picker), a preview, a level meter, Go live / End, the connection state and the bitrate
 * sent. Going live is WHIP (RFC 9725) to `{endpoint}/api/v1/channels/{channel}/whip`, H.264
 * preferred (VP8 otherwise) with Opus, capped by `publish-max-kbps` and the server's answer;
 * a lost connection becomes a new session after a backoff, until End. The grant is never an
 * attribute (it would sit in the DOM for any script or extension to read, and a grant is
 * single-use while every reconnect needs one): set the `publishGrant` property to a function
 * that asks the host page's backend for a fresh `go-live` publisher grant and returns its token.
 * The badge shows LIVE once the server's pipeline says so, like any other broadcast.
 *
 * @event live-status-change - From the inner `<live-badge>`: the channel's status changed.
 * @event live-clip-ready - A clip or recording is ready to trim and upload. `detail: { source, blob, durationMs, provenance }`.
 * @event live-upload-progress - Bytes acknowledged by the server or a phase change. `detail: { uploadId, bytesUploaded, bytesTotal, phase }`.
 * @event live-upload-complete - Every byte is in the quarantine. `detail: { uploadId, status }`.
 * @event live-error - Something failed (playback, clip, recording, preparation, upload). `detail: { code, message }`: the technical detail; the viewer reads a translated sentence.
 *
 * @csspart base - The layout grid around everything.
 * @csspart badge - The `<live-badge>`; its own parts are exported as `badge-label`, `badge-dot`, `badge-title`, `badge-viewers`.
 * @csspart player - The live `<video>`.
 * @csspart watch-replay - While the channel is offline and has a public replay: the Watch the replay button.
 * @csspart replay - The replay's `<video>` (hls.js, ABR over its ladder).
 * @csspart replay-controls - Under the replay: the quality menu and Clip from the replay.
 * @csspart replay-quality - The quality `<select>`: Auto and each rung by its height.
 * @csspart replay-clip - The range picked on the replay's timeline, with Make clip and Cancel.
 * @csspart replay-range - The `<live-trim-range>` over the replay's timeline; its parts are exported as `replay-range-track`, `replay-range-thumb`, `replay-range-length`.
 * @csspart actions - The Clip and Record buttons.
 * @csspart timer - The recording timer.
 * @csspart preview - The `<video>` previewing the clip or recording.
 * @csspart trim - The `<live-trim-range>`: one range with two thumbs over a filmstrip; its parts are exported as `trim-track`, `trim-filmstrip`, `trim-thumb`, `trim-length`.
 * @csspart title-input - The optional title field.
 * @csspart controls - Upload, Pause, Resume, Cancel, Discard, Done.
 * @csspart progress - A progress bar (preparation and upload); its fill is the inner `span`.
 * @csspart progress-detail - Under the upload bar: bytes sent of the total, speed, time left.
 * @csspart upload-result - After every byte is in: the full bar, a link to the clip once published, Done.
 * @csspart clip-link - The link to the published clip.
 * @csspart status - The polite status line: what is happening now.
 * @csspart pending - Uploads stored before a reload, with Resume buttons.
 * @csspart error - The last error, in words for people, with Try again where it helps.
 * @csspart publish - With `publish`: the publisher's panel (a labelled group).
 * @csspart publish-preview - The muted preview `<video>` of the camera or screen.
 * @csspart publish-devices - The video source and microphone pickers and the level meter.
 * @csspart publish-level - The microphone level `<meter>` (0..100).
 * @csspart publish-actions - Start camera, Go live, End broadcast, Stop camera.
 * @csspart publish-connection - While broadcasting: the connection state and the bitrate sent (updated every second; not a live region).
 *
 * @cssproperty --live-font - `font` shorthand. Default `400 0.9375rem/1.4 system-ui, sans-serif`.
 * @cssproperty --live-text-color - Text colour. Default: inherited.
 * @cssproperty --live-accent-color - Primary buttons, progress fill, sliders. Default #1a56db.
 * @cssproperty --live-accent-text-color - Text on primary buttons. Default #fff.
 * @cssproperty --live-button-background - Other buttons. Default #fff.
 * @cssproperty --live-button-color - Text of other buttons. Default #202124.
 * @cssproperty --live-button-border - Button and field borders. Default #5f6368.
 * @cssproperty --live-focus-color - The focus ring. Default #1a56db.
 * @cssproperty --live-track-color - Progress track. Default #e0e0e0.
 * @cssproperty --live-error-color - Error text. Default #b3261e.
 * @cssproperty --live-radius - Corner radius. Default 0.25em.
 * @cssproperty --live-gap - Space between the rows. Default 0.75rem.
 * @cssproperty --live-max-width - Width cap. Default 40rem.
 */
export class LiveUpload extends LitElement {
  static override styles = liveUploadStyles;

  static override properties: PropertyDeclarations = {
    channel: {},
    endpoint: {},
    src: {},
    assets: {},
    clipSeconds: { type: Number, attribute: 'clip-seconds' },
    maxClipSeconds: { type: Number, attribute: 'max-clip-seconds' },
    maxRecordSeconds: { type: Number, attribute: 'max-record-seconds' },
    exactCuts: { type: Boolean, attribute: 'exact-cuts' },
    targetSize: { type: Number, attribute: 'target-size' },
    chunkSize: { type: Number, attribute: 'chunk-size' },
    noClip: { type: Boolean, attribute: 'no-clip' },
    noRecord: { type: Boolean, attribute: 'no-record' },
    noUpload: { type: Boolean, attribute: 'no-upload' },
    noBeacons: { type: Boolean, attribute: 'no-beacons' },
    beaconSurface: { attribute: 'beacon-surface' },
    labels: { attribute: false },
    publish: { type: Boolean },
    publishGrant: { attribute: false },
    publishMaxKbps: { type: Number, attribute: 'publish-max-kbps' },
    publishState: { reflect: true, attribute: 'publish-state' },
    stage: { reflect: true },
    _message: { state: true },
    _error: { state: true },
    _title: { state: true },

  };

  /** The channel, `{publisher}/{slug}`. */
  channel = '';

  /** The live-upload server (origin, optionally with a base path). Empty: this page's origin. */
  endpoint = '';

  /** An HLS URL to play instead of the channel's `playback.hls`. */
  src = '';

  /** Where hls.js' sibling assets and FFmpeg.wasm are served. Default `{endpoint}/element/`. */
  assets = '';

  /** Length of a clip in seconds, at most `max-clip-seconds`. */
  clipSeconds = 30;

  /** The longest clip; this much of the stream is kept in memory. */
  maxClipSeconds = 120;

  /** A recording stops by itself after this many seconds. */
  maxRecordSeconds = 300;

  /** Cut exactly where asked (re-encode) instead of on keyframes (stream copy). */
  exactCuts = false;

  /** Re-encode to about this many bytes when the media is larger. 0: no target. */
  targetSize = 0;

  /** Bytes per tus PATCH. */
  chunkSize = 2 * 1024 * 1024;

  noClip = false;
  noRecord = false;
  /** Clip and record, but leave uploading to the page (it gets `live-clip-ready`). */
  noUpload = false;

  /**
   * Send no audience beacons (issue 27). Otherwise, while a broadcast with a canonical id plays,
   * the element sends `start`, a heartbeat every 30 s, and one beacon per clip made and upload
   * done: no cookie, no user id, the referrer reduced to a provider or an origin.
   */
  noBeacons = false;

  /** Where the element is watched, for the publisher's audience numbers: `embed` (default), `landing`, `oembed`. */
  beaconSurface: BeaconSurface = 'embed';

  /** Publisher mode: go live from this element (WHIP) instead of watching, clipping and recording. */
  publish = false;

  /**
   * Gives a fresh publisher grant's token (`go-live` capability) each time it is called: on
   * Go live and on every reconnect (grants are single-use). The host page asks its own backend,
   * which calls `POST /api/v1/channels/{channel}/publisher-grants` with the admin token. A
   * property, never an attribute, so the token is not in the DOM.
   */
  publishGrant: PublishGrantSource | undefined = undefined;

  /** The video bitrate sent, at most (kbps); the server's answer (`b=AS`) can lower it. */
  publishMaxKbps = DEFAULT_PUBLISH_MAX_KBPS;

  /** Where the publisher is, reflected for CSS as `publish-state`: idle, previewing, connecting, live, reconnecting, ending. */
  publishState: PublishState = 'idle';

  /** The WHIP session's resource URL while one is open (RFC 9725 `Location`). */
  get publishSessionUrl(): string | undefined {
    return this.#publisher?.controller.sessionUrl;
  }

  /** Overrides for the labels chosen from `lang`. */
  labels: Partial<LiveUploadLabels> = {};

  /** What the element is doing, reflected for CSS: idle, recording, preparing, review, uploading. */
  stage: Stage = 'idle';

  /** The status line (also the polite live region). */
  private _message = '';
  private _error: ViewerError | undefined;
  private _title = '';

  /** The current upload's phase (`requesting`, `uploading`, `paused`, `offline`, `checking`, `in_review`, ...), if any. */
  get uploadPhase(): UploadSnapshot['phase'] | undefined {
    return (this.#upload.sending ?? this.#upload.last)?.phase;
  }

  #lang = new LangController(this);

  /** What the controllers may do to the view (callbacks, so none of it is public API). */
  readonly #view: LiveUploadView = {
    labels: () => this.#labels,
    lang: () => this.#lang.lang,
    stage: () => this.stage,
    setStage: (stage) => (this.stage = stage),
    message: () => this._message,
    say: (message) => this.#say(message),
    reportError: (code, detail, retry) => this.#reportError(code, detail, retry),
    clearError: (code) => {
      if (code === '*' || this._error?.code === code) this._error = undefined;
    },
    focusAfterRender: (selector) => (this.#focusAfterRender = selector),
  };

  #follow = new ChannelFollowController(
    this,
    () => ({ endpoint: this.endpoint, channel: this.channel }),
    (key) => this.#loadPending(key),
    (progress) => this.#replay.replayProgressed(progress),
  );
  #player = new PlayerController(this, this.#view, () => this.#playbackUrl(), () => this.maxClipSeconds * 1000);
  #capture = new CaptureController(this, this.#view, this.#player, () => this.#follow.playback, () => ({
    clipSeconds: this.clipSeconds,
    maxClipSeconds: this.maxClipSeconds,
    maxRecordSeconds: this.maxRecordSeconds,
    exactCuts: this.exactCuts,
    targetSize: this.targetSize,
    assetBase: this.#assetBase,
    clipEnabled: !this.noClip,
  }));
  #upload = new UploadFlowController(this, this.#view, {
    settings: () => ({ endpoint: this.endpoint, channel: this.channel, chunkSize: this.chunkSize, noUpload: this.noUpload }),
    candidate: () => this.#capture.candidate,
    provenance: (candidate) => this.#capture.provenance(candidate),
    title: () => this._title,
    prepare: (candidate) => this.#capture.prepare(candidate),
    preparationFailed: (error, retry) => this.#capture.preparationFailed(error, error instanceof FFmpegWorkerError ? 'clipper_unavailable' : 'preparation_failed', retry),
    reviewDone: () => {
      this.#capture.discard();
      this._title = '';
    },
  });
  /** Audience beacons (issue 27): a controller that listens to the player and to this element's own clip and upload events. */
  readonly beacons = new ViewingBeacons(this, () => ({
    endpoint: this.endpoint,
    channel: this.channel,
    canonicalId: this.#follow.playback.canonicalId,
    surface: this.beaconSurface,
    disabled: this.noBeacons || this.publish,
  }));
  #replay = new ReplayController(this, this.#view, this.#capture, () => ({
    endpoint: this.endpoint,
    channel: this.channel,
    status: this.#follow.status,
    hasSrc: Boolean(this.src),
    clipSeconds: this.clipSeconds,
    maxClipSeconds: this.maxClipSeconds,
  }));
  /** The publisher mode once its lazy chunk is in (`publish-mode.ts`); undefined for a viewer. */
  #publisher: { readonly controller: PublishController; readonly template: typeof publishTemplate } | undefined;
  #publisherLoading: Promise<PublishController> | undefined;
  #focusAfterRender = '';

  /**
   * The publisher mode, loaded on first need (`publish` set, or a publisher method called):
   * viewers never download it. A chunk that fails to load is reported like a network error,
   * and the next attempt fetches it again.
   */
  #loadPublisher(): Promise<PublishController> {
    this.#publisherLoading ??= import('./publish-mode.js').then(
      ({ PublishController, publishTemplate }) => {
        const controller = new PublishController(
          this,
          this.#view,
          () => ({ endpoint: this.endpoint, channel: this.channel, grant: this.publishGrant, maxKbps: this.publishMaxKbps, maxShortSidePx: 720 }),
          (state) => (this.publishState = state),
        );
        this.#publisher = { controller, template: publishTemplate };
        this.requestUpdate();
        return controller;
      },
      (error: unknown) => {
        this.#publisherLoading = undefined;
        this.#reportError('publish_network', error instanceof Error ? error.message : String(error), () => void this.#loadPublisher().catch(() => {}));
        throw error;
      },
    );
    return this.#publisherLoading;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('publish') && this.publish && !this.#publisher) this.#loadPublisher().catch(() => {});
  }

  /** Also waits for the publisher mode's chunk while it loads, so `updateComplete` means its panel is rendered. */
  protected override async getUpdateComplete(): Promise<boolean> {
    const complete = await super.getUpdateComplete();
    if (!this.#publisherLoading || this.#publisher) return complete;
    await this.#publisherLoading.catch(() => {});
    return super.getUpdateComplete();
  }

  protected override updated(): void {
    if (this.#focusAfterRender) {
      this.renderRoot.querySelector<HTMLElement>(this.#focusAfterRender)?.focus();
      this.#focusAfterRender = '';
    }
  }

  get #labels(): LiveUploadLabels {
    return resolveUploadLabels(this.#lang.lang, this.labels);
  }

  get #assetBase(): string {
    return this.assets ? new URL(this.assets, location.href).href : new URL(`${this.endpoint.replace(/\/$/, '')}/element/`, location.href).href;
  }

  /** The live stream to play: `src`, or the channel's `playback.hls` while it is live. */
  #playbackUrl(): string {
    if (!this.isConnected || this.publish) return '';
    if (this.src) return this.src;
    return this.#follow.status === 'live' ? (this.#follow.playback.hls ?? '') : '';
  }

  /** The uploads stored before a reload for what is now followed. */
  #loadPending(key: string): void {
    this.#upload.loadPending(this.endpoint, key ? this.channel : '', () => this.#follow.following(key));
  }

  #say(message: string): void {
    this._message = message;
  }

  /**
   * Shows the viewer a translated sentence for `code` (with Try again when `retry` is given);
   * the technical `message` goes to the console and the `live-error` event, never on screen.
   */
  #reportError(code: string, message: string, retry?: () => void): void {
    this._error = { code, retry };
    console.warn(`live-upload: ${code}: ${message}`);
    this.dispatchEvent(createLiveEvent('live-error', { code, message }));
  }

  #errorText(error: ViewerError, labels: LiveUploadLabels): string {
    if (error.code.startsWith('publish_')) return labels[publishErrorLabel(error.code)];
    const upload = ['upload_failed', 'network_error', 'rate_limited', 'not_found', 'forbidden', 'payload_too_large', 'unsupported_media_type'].includes(error.code);
    return labels[viewerErrorLabel(error.code, upload || this.#upload.sending ? 'errorUpload' : 'error')];
  }

  /**
   * Clip: the last `clip-seconds` of what was watched, from the segments the player already has.
   * When less is buffered, the viewer is asked first ("Only 5 s buffered: clip 5 s?"): a clip is
   * never silently shorter than the button said. `acceptShorter` is that answer.
   */
  clip(acceptShorter = false): Promise<void> {
    return this.#capture.clip(acceptShorter);
  }

  /** Record: the camera (and microphone) or a shared screen, up to `max-record-seconds`. */
  record(source: RecordingSource): Promise<void> {
    return this.#capture.record(source);
  }

  /**
   * Offers a file the page or viewer already has (from a file picker, say) for trim and upload,
   * like a recording; it is normalised on upload when it is not H.264/AAC MP4 at most 720p.
   */
  useFile(file: Blob): Promise<void> {
    return this.#capture.useFile(file);
  }

  /** Stops a recording; it goes to review. */
  stopRecording(): void {
    this.#capture.stopRecording();
  }

  /** Trims, normalises (H.264/AAC MP4, at most 720p) when needed, and uploads the candidate. */
  upload(): Promise<void> {
    return this.#upload.upload();
  }

  /** Resumes an upload stored before a reload. */
  resumeStored(pending: PendingUpload): Promise<void> {
    return this.#upload.resumeStored(pending);
  }

  #discard(): void {
    this.#capture.discard();
    this.stage = 'idle';
    this.#say('');
    this.#focusAfterRender = '[data-action="clip"], [data-action="camera"], [data-action="replay-clip"], [part="watch-replay"]';
  }

  /** Turns on the camera (or screen) and microphone for the publisher's preview (`publish` mode). */
  async startPreview(): Promise<void> {
    return (await this.#loadPublisher()).startPreview();
  }

  /** Go live with a fresh grant from `publishGrant` (`publish` mode, after `startPreview`). */
  async goLive(): Promise<void> {
    return (await this.#loadPublisher()).goLive();
  }

  /** Ends the broadcast: the WHIP session is deleted; the preview stays on. */
  async endLive(): Promise<void> {
    // Nothing to end before the publisher mode was ever loaded.
    return this.#publisher?.controller.end();
  }

  /** Turns the publisher's capture off (ending a broadcast first). */
  async stopPreview(): Promise<void> {
    // Nothing captured before the publisher mode was ever loaded.
    return this.#publisher?.controller.stopPreview();
  }

  protected override render(): TemplateResult {
    const labels = this.#labels;
    if (this.publish) return this.#renderPublisher(labels);
    const playing = Boolean(this.#playbackUrl());
    return html`<div part="base">
      <live-badge part="badge" exportparts="label: badge-label, dot: badge-dot, title: badge-title, viewers: badge-viewers" channel=${this.channel} endpoint=${this.endpoint}></live-badge>
      ${playing
        ? html`<video part="player" muted autoplay playsinline controls aria-label=${formatLabel(labels.player, { channel: this.channel })}></video>`
        : replayTemplate(labels, this.channel, this.#replay, { canClip: !this.noClip, busy: this.stage !== 'idle' && this.stage !== 'review' })}
      ${this.#renderActions(labels, playing)} ${this.stage === 'review' ? this.#renderReview(labels) : nothing}
      ${this.stage === 'preparing' ? this.#renderPreparing(labels) : nothing} ${this.stage === 'uploading' && this.#upload.sending ? uploadTemplate(labels, this.#upload.sending, this.#upload) : nothing}
      ${this.#upload.last && !this.#upload.sending ? lastUploadTemplate(labels, this.#upload.last, this.#upload) : nothing}
      ${this.stage === 'idle' && this.#upload.pending.length && !this.noUpload ? pendingTemplate(labels, this.#upload.pending, (pending) => void this.resumeStored(pending), this.#upload) : nothing}
      <p part="status" role="status" aria-live="polite">${this._message}</p>
      ${this._error
        ? html`<p part="error">
            ${this.#errorText(this._error, labels)}
            ${this._error.retry ? html`<button type="button" data-action="retry" @click=${() => this.#retry()}>${labels.retry}</button>` : nothing}
          </p>`
        : nothing}
    </div>`;
  }

  #renderPublisher(labels: LiveUploadLabels): TemplateResult {
    return html`<div part="base">
      <live-badge part="badge" exportparts="label: badge-label, dot: badge-dot, title: badge-title, viewers: badge-viewers" channel=${this.channel} endpoint=${this.endpoint}></live-badge>
      ${this.#publisher ? this.#publisher.template(labels, this.#publisher.controller, this.#lang.lang) : nothing}
      <p part="status" role="status" aria-live="polite">${this._message}</p>
      ${this._error
        ? html`<p part="error">
            ${this.#errorText(this._error, labels)}
            ${this._error.retry ? html`<button type="button" data-action="retry" @click=${() => this.#retry()}>${labels.retry}</button>` : nothing}
          </p>`
        : nothing}
    </div>`;
  }

  #retry(): void {
    const retry = this._error?.retry;
    this._error = undefined;
    retry?.();
  }

  #renderActions(labels: LiveUploadLabels, playing: boolean): TemplateResult | typeof nothing {
    const canClip = !this.noClip && playing;
    if (this.stage === 'recording') {
      return html`<div part="actions" role="group" aria-label=${labels.actions}>
        <button type="button" class="primary" data-action="stop" @click=${() => this.stopRecording()}>${labels.stopRecording}</button>
        <span part="timer">${formatLabel(labels.recordingTimer, { elapsed: formatClock(this.#capture.elapsedMs), max: formatClock(this.maxRecordSeconds * 1000) })}</span>
      </div>`;
    }
    if (!canClip && this.noRecord) return nothing;
    const busy = this.stage === 'preparing' || this.stage === 'uploading';
    const seconds = String(Math.max(1, Math.min(this.clipSeconds, this.maxClipSeconds)));
    const shortMs = this.#capture.shortClipMs;
    return html`<div part="actions" role="group" aria-label=${labels.actions}>
      ${canClip
        ? html`<button type="button" data-action="clip" ?disabled=${busy} @click=${() => this.clip()}>${formatLabel(labels.clip, { seconds })}</button>`
        : nothing}
      ${canClip && shortMs !== undefined && !busy
        ? html`<button type="button" class="primary" data-action="clip-available" @click=${() => this.clip(true)}>
              ${formatLabel(labels.clipAvailable, { seconds: formatWholeSeconds(shortMs ?? 0, this.#lang.lang) })}</button
            ><button type="button" data-action="clip-cancel" @click=${() => this.#capture.cancelShortClip()}>${labels.cancel}</button>`
        : nothing}
      ${this.noRecord
        ? nothing
        : html`<button type="button" data-action="camera" ?disabled=${busy} @click=${() => this.record('camera')}>${labels.recordCamera}</button>
            ${'getDisplayMedia' in (navigator.mediaDevices ?? {})
              ? html`<button type="button" data-action="screen" ?disabled=${busy} @click=${() => this.record('screen')}>${labels.recordScreen}</button>`
              : nothing}`}
    </div>`;
  }

  #renderReview(labels: LiveUploadLabels): TemplateResult {
    const candidate = this.#capture.candidate!;
    const { startMs, endMs } = this.#capture.trim;
    return html`<video part="preview" controls playsinline src=${candidate.url} aria-label=${labels.preview}></video>
      <live-trim-range part="trim" exportparts="track: trim-track, filmstrip: trim-filmstrip, thumb: trim-thumb, length: trim-length"
        .duration=${candidate.durationMs} .start=${startMs} .end=${endMs} min-length=${MIN_TRIM_MS} src=${candidate.url} .labels=${labels}
        @live-trim-change=${(event: CustomEvent<LiveTrimChangeDetail>) => this.#capture.trimmed(event.detail)}></live-trim-range>
      <div part="controls">
        ${this.noUpload
          ? nothing
          : html`<label for="title">${labels.title}</label>
              <input id="title" part="title-input" type="text" maxlength="140" .value=${this._title} @input=${(event: Event) => (this._title = (event.target as HTMLInputElement).value)} />
              <button type="button" class="primary" data-action="upload" @click=${() => this.upload()}>${labels.upload}</button>`}
        <button type="button" data-action="discard" @click=${() => this.#discard()}>${labels.discard}</button>
      </div>`;
  }

  #renderPreparing(labels: LiveUploadLabels): TemplateResult {
    const percent = Math.round((this.#capture.progress ?? 0) * 100);
    return html`${progressBar(labels.prepareProgress, percent)}
      <div part="controls"><button type="button" data-action="cancel" @click=${() => this.#capture.cancelPreparation()}>${labels.cancel}</button></div>`;
  }
}
