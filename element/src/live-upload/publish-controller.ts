import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { formatLabel } from '../labels.js';
import type { LiveUploadView } from './live-upload-view.js';
import { declareSendSize, limitVideoSender, preferCodecs, scaleDownBy, videoBitrateCap } from './publish-encoding.js';
import type { PublishErrorCode } from './publish-labels.js';
import { PublishLevelMeter } from './publish-level-meter.js';
import { bitrateBetween, sampleOutgoing, type OutgoingSample } from './publish-stats.js';
import { deleteWhipSession, postWhipOffer, whipEndpointUrl, WhipError } from './whip-client.js';

/**
 * Where the publisher is:
 * - `idle`: nothing captured.
 * - `previewing`: camera (or screen) and microphone on, shown to the publisher only.
 * - `connecting`: an offer is on its way (or ICE and DTLS are being set up).
 * - `live`: the media flows to the server.
 * - `reconnecting`: the connection was lost; a new session is tried after a backoff.
 * - `ending`: End was pressed; the session is being deleted.
 */
export type PublishState = 'idle' | 'previewing' | 'connecting' | 'live' | 'reconnecting' | 'ending';

/**
 * Gives a fresh publisher grant (the token of `POST /api/v1/channels/:p/:s/publisher-grants`
 * with `go-live`) each time it is called: grants are single-use, and every reconnect opens a new
 * WHIP session. The host page asks its own backend, which holds the admin token.
 */
export type PublishGrantSource = () => string | Promise<string>;

/** What publishing reads from the element each time it needs it. */
export interface PublishSettings {
  readonly endpoint: string;
  readonly channel: string;
  readonly grant: PublishGrantSource | undefined;
  /** The element's own video bitrate cap (kbps); the server's `b=AS` can only lower it. */
  readonly maxKbps: number;
  /** The short side of the video sent, at most (px). */
  readonly maxShortSidePx: number;
}

/** A camera or microphone as the picker lists it (`label` is empty before the publisher allowed access). */
export interface PublishDevice {
  readonly deviceId: string;
  readonly label: string;
}

/** The video source picker's value for "share a screen" (device ids are opaque strings; this is not one). */
export const SCREEN_SOURCE = 'screen';
/** The microphone picker's value for "no microphone". */
export const NO_MICROPHONE = 'none';

/** ICE candidates are all put in the offer (the server takes no trickle): wait this long for them at most. */
const ICE_GATHERING_TIMEOUT_MS = 4000;
/** From the answer to a connected peer, at most. */
const CONNECT_TIMEOUT_MS = 15_000;
/** A `disconnected` connection gets this long to come back by itself before a new session is made. */
const DISCONNECTED_GRACE_MS = 3000;
const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
/** A first Go live that never connected gives up after this many attempts; one that was live keeps trying until End. */
const FIRST_CONNECT_ATTEMPTS = 3;
/** End waits this long for the server to confirm, at most (it ends an unconfirmed session itself when media stops). */
const END_TIMEOUT_MS = 15_000;

/** The host page gave no grant (no `publishGrant`, or it failed or gave nothing). */
class PublishGrantError extends Error {
  override name = 'PublishGrantError';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Resolves once every ICE candidate is gathered, or after `timeoutMs` with what there is. */
function iceGathered(connection: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (connection.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      connection.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (connection.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    connection.addEventListener('icegatheringstatechange', check);
  });
}

/**
 * Going live from `<live-upload publish>`: the capture (camera or screen, and a microphone, each
 * from a picker), its preview and level meter, and the WHIP session to our origin, as a state
 * machine `idle -> previewing -> connecting -> live -> ending -> previewing` with
 * `reconnecting` when the connection is lost. The server takes no ICE restart (its `PATCH` is
 * 405), so a lost connection becomes a new session: the old one is deleted, a new grant asked
 * for, and a new offer posted after a backoff (1 s doubling to 30 s, or the server's
 * `Retry-After`); going back online, or a network change that left the connection broken, tries
 * at once. Every state change is announced in the element's polite status line.
 */
export class PublishController implements ReactiveController {
  state: PublishState = 'idle';
  /** What the preview shows and what is sent: one video track and, unless "no microphone", one audio track. */
  stream: MediaStream | undefined;
  /** The video source picker's value: a camera's device id (`''`: the default camera) or `SCREEN_SOURCE`. */
  videoChoice = '';
  /** The microphone picker's value: a device id (`''`: the default) or `NO_MICROPHONE`. */
  audioChoice = '';
  cameras: readonly PublishDevice[] = [];
  microphones: readonly PublishDevice[] = [];
  /** Microphone level 0..100 (see `PublishLevelMeter`). */
  level = 0;
  /** The peer connection's state while there is one. */
  connectionState: RTCPeerConnectionState | undefined;
  /** Bits per second sent (video and audio), sampled every second while connected. */
  bitrate: number | undefined;
  /** The WHIP session's resource (RFC 9725 `Location`), while one is open. */
  sessionUrl: string | undefined;
  /** The reconnect attempt under way or scheduled (0 when none). */
  attempt = 0;

  #connection: RTCPeerConnection | undefined;
  #videoTransceiver: RTCRtpTransceiver | undefined;
  #audioTransceiver: RTCRtpTransceiver | undefined;
  #meter: PublishLevelMeter | undefined;
  #levelTimer: ReturnType<typeof setInterval> | undefined;
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  #lastSample: OutgoingSample | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #disconnectedTimer: ReturnType<typeof setTimeout> | undefined;
  #abort: AbortController | undefined;
  /** Bumped whenever a connection is abandoned, so its late callbacks do nothing. */
  #generation = 0;
  /** This Go live reached `live` at least once (then it reconnects until End). */
  #wasLive = false;
  /** This Go live opened a session at the server (a 409 may then be that session, not yet gone). */
  #hadSession = false;
  /** The DELETE of an abandoned session: the next offer waits for it, so it does not meet its own session. */
  #deleting: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly view: LiveUploadView,
    private readonly settings: () => PublishSettings,
    /** Told of every state change (the element reflects it as `publish-state`). */
    private readonly stateChanged: (state: PublishState) => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    window.addEventListener('online', this.#networkChanged);
    (navigator as Navigator & { connection?: EventTarget }).connection?.addEventListener('change', this.#networkChanged);
    navigator.mediaDevices?.addEventListener('devicechange', this.#devicesChanged);
  }

  hostDisconnected(): void {
    window.removeEventListener('online', this.#networkChanged);
    (navigator as Navigator & { connection?: EventTarget }).connection?.removeEventListener('change', this.#networkChanged);
    navigator.mediaDevices?.removeEventListener('devicechange', this.#devicesChanged);
    void this.stopPreview();
  }

  /** Whether End applies (a session is open, being opened, or being re-opened). */
  get broadcasting(): boolean {
    return this.state === 'connecting' || this.state === 'live' || this.state === 'reconnecting';
  }

  /** Turns on the chosen camera (or screen) and microphone and shows the preview. */
  async startPreview(): Promise<void> {
    if (this.state !== 'idle') return;
    this.view.clearError('*');
    try {
      const video = await this.#openVideo();
      const audio = await this.#openAudio().catch((error: unknown) => {
        video.stop();
        throw error;
      });
      this.#useTracks(video, audio);
    } catch (error) {
      this.view.reportError('publish_device', messageOf(error), () => void this.startPreview());
      return;
    }
    this.#setState('previewing', this.view.labels().publishPreviewing);
    this.view.focusAfterRender('[data-action="go-live"]');
    await this.#listDevices();
  }

  /** Turns capture off (ending a broadcast first). */
  async stopPreview(): Promise<void> {
    if (this.broadcasting) {
      const ending = this.end();
      // Leaving the page: capture stops now; the DELETE is already on its way (keepalive).
      if (this.host.isConnected) await ending;
    }
    this.#stopCapture();
    if (this.state === 'idle') return;
    this.#setState('idle', '');
    this.view.focusAfterRender('[data-action="start-camera"]');
  }

  /** Picks the video source: a camera's device id or `SCREEN_SOURCE`; a live broadcast switches without a new session. */
  async chooseVideo(choice: string): Promise<void> {
    const previous = this.videoChoice;
    this.videoChoice = choice;
    this.host.requestUpdate();
    if (!this.stream) return;
    try {
      const track = await this.#openVideo();
      this.#useTracks(track, this.stream.getAudioTracks()[0]);
      await this.#videoTransceiver?.sender.replaceTrack(track);
      await this.#limitVideo();
      this.view.clearError('publish_device');
    } catch (error) {
      this.videoChoice = previous;
      this.host.requestUpdate();
      this.view.reportError('publish_device', messageOf(error));
    }
  }

  /** Picks the microphone (a device id or `NO_MICROPHONE`); a live broadcast switches without a new session. */
  async chooseAudio(choice: string): Promise<void> {
    const previous = this.audioChoice;
    this.audioChoice = choice;
    this.host.requestUpdate();
    if (!this.stream) return;
    try {
      const track = await this.#openAudio();
      this.#useTracks(this.stream.getVideoTracks()[0]!, track);
      await this.#audioTransceiver?.sender.replaceTrack(track ?? null);
      this.view.clearError('publish_device');
    } catch (error) {
      this.audioChoice = previous;
      this.host.requestUpdate();
      this.view.reportError('publish_device', messageOf(error));
    }
  }

  /** Go live: a WHIP session with a fresh grant from the host page. */
  async goLive(): Promise<void> {
    if (this.state !== 'previewing' || !this.stream) return;
    this.#meter?.resume();
    this.view.clearError('*');
    this.attempt = 0;
    this.#wasLive = false;
    this.#hadSession = false;
    this.#setState('connecting', this.view.labels().publishConnecting);
    this.view.focusAfterRender('[data-action="end"]');
    await this.#connect();
  }

  /** End: deletes the session (the server ends the broadcast) and goes back to the preview. */
  async end(): Promise<void> {
    if (!this.broadcasting) return;
    const sessionUrl = this.sessionUrl;
    this.#setState('ending', this.view.labels().publishEnding);
    this.#dropConnection(false);
    if (sessionUrl) {
      // Not ended at the server (offline, say): it ends itself when no media arrives (ORIGIN_MEDIA_TIMEOUT_MS).
      await deleteWhipSession(sessionUrl, AbortSignal.timeout(END_TIMEOUT_MS)).catch((error: unknown) => console.warn(`live-upload: ending the WHIP session: ${messageOf(error)}`));
    }
    this.attempt = 0;
    if (this.state !== 'ending') return; // capture was turned off meanwhile (the element left the page)
    this.#setState('previewing', this.view.labels().publishEnded);
    this.view.focusAfterRender('[data-action="go-live"]');
  }

  #setState(state: PublishState, announcement: string): void {
    this.state = state;
    this.view.say(announcement);
    this.stateChanged(state);
    this.host.requestUpdate();
  }

  async #openVideo(): Promise<MediaStreamTrack> {
    const { maxShortSidePx } = this.settings();
    if (this.videoChoice === SCREEN_SOURCE) {
      const display = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 30 } }, audio: false });
      const track = display.getVideoTracks()[0]!;
      // The browser's own "Stop sharing": back to the default camera rather than sending nothing.
      track.addEventListener('ended', () => {
        if (this.stream?.getVideoTracks()[0] === track) void this.chooseVideo('');
      });
      return track;
    }
    const media = await navigator.mediaDevices.getUserMedia({
      video: {
        ...(this.videoChoice ? { deviceId: { exact: this.videoChoice } } : {}),
        height: { ideal: maxShortSidePx },
        width: { ideal: Math.round((maxShortSidePx * 16) / 9) },
        frameRate: { ideal: 30 },
      },
    });
    return media.getVideoTracks()[0]!;
  }

  async #openAudio(): Promise<MediaStreamTrack | undefined> {
    if (this.audioChoice === NO_MICROPHONE) return undefined;
    const media = await navigator.mediaDevices.getUserMedia({
      audio: { ...(this.audioChoice ? { deviceId: { exact: this.audioChoice } } : {}), echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    return media.getAudioTracks()[0];
  }

  /** Makes `video` and `audio` the captured stream (a new MediaStream, so the preview follows), stopping the tracks they replace. */
  #useTracks(video: MediaStreamTrack, audio: MediaStreamTrack | undefined): void {
    for (const track of this.stream?.getTracks() ?? []) if (track !== video && track !== audio) track.stop();
    const previousAudio = this.stream?.getAudioTracks()[0];
    this.stream = new MediaStream(audio ? [video, audio] : [video]);
    if (audio !== previousAudio || !this.#meter) this.#meterOn(audio);
    this.host.requestUpdate();
  }

  #meterOn(audio: MediaStreamTrack | undefined): void {
    clearInterval(this.#levelTimer);
    this.#meter?.close();
    this.#meter = audio ? new PublishLevelMeter(audio) : undefined;
    this.level = 0;
    if (!this.#meter) return;
    const meter = this.#meter;
    this.#levelTimer = setInterval(() => {
      const level = meter.level();
      if (level === this.level) return;
      this.level = level;
      this.host.requestUpdate();
    }, 100);
  }

  #stopCapture(): void {
    clearInterval(this.#levelTimer);
    this.#meter?.close();
    this.#meter = undefined;
    this.level = 0;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = undefined;
  }

  async #listDevices(): Promise<void> {
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
    const listed = (kind: MediaDeviceKind) => devices.filter((device) => device.kind === kind && device.deviceId).map(({ deviceId, label }) => ({ deviceId, label }));
    this.cameras = listed('videoinput');
    this.microphones = listed('audioinput');
    // The pickers show what is in use: the default devices by their ids.
    const video = this.stream?.getVideoTracks()[0]?.getSettings().deviceId;
    const audio = this.stream?.getAudioTracks()[0]?.getSettings().deviceId;
    if (!this.videoChoice && video) this.videoChoice = video;
    if (!this.audioChoice && audio) this.audioChoice = audio;
    this.host.requestUpdate();
  }

  readonly #devicesChanged = (): void => {
    if (this.state !== 'idle') void this.#listDevices();
  };

  /** Back online, or the network changed: a pending reconnect goes now, and a live connection that broke is replaced now. */
  readonly #networkChanged = (): void => {
    if (this.state === 'reconnecting') {
      clearTimeout(this.#reconnectTimer);
      void this.#reconnectNow();
    } else if (this.state === 'live' && (this.#connection?.connectionState === 'disconnected' || this.#connection?.connectionState === 'failed')) {
      this.#lost();
    }
  };

  async #grant(): Promise<string> {
    const source = this.settings().grant;
    if (!source) throw new PublishGrantError('no publisher grant: set the element’s publishGrant property to a function that returns one');
    let token: unknown;
    try {
      token = await source();
    } catch (error) {
      throw new PublishGrantError(`publishGrant failed: ${messageOf(error)}`);
    }
    if (typeof token !== 'string' || token.length === 0) throw new PublishGrantError('publishGrant gave no token');
    return token;
  }

  /** One attempt: a grant, a peer connection with every candidate in its offer, the WHIP POST, the answer, the caps. */
  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    const abort = (this.#abort = new AbortController());
    const stream = this.stream!;
    const { endpoint, channel, maxKbps } = this.settings();
    try {
      await this.#deleting;
      const grant = await this.#grant();
      if (generation !== this.#generation) return;
      const connection = (this.#connection = new RTCPeerConnection({ bundlePolicy: 'max-bundle' }));
      connection.addEventListener('connectionstatechange', () => this.#connectionChanged(connection, generation));
      this.#videoTransceiver = connection.addTransceiver(stream.getVideoTracks()[0]!, { direction: 'sendonly', streams: [stream] });
      preferCodecs(this.#videoTransceiver, 'video');
      // Always an audio section, so a microphone picked later needs no new session.
      this.#audioTransceiver = connection.addTransceiver(stream.getAudioTracks()[0] ?? 'audio', { direction: 'sendonly', streams: [stream] });
      preferCodecs(this.#audioTransceiver, 'audio');
      await connection.setLocalDescription(await connection.createOffer());
      await iceGathered(connection, ICE_GATHERING_TIMEOUT_MS);
      if (generation !== this.#generation) return;
      const { width, height } = stream.getVideoTracks()[0]!.getSettings();
      const offer = declareSendSize(connection.localDescription!.sdp, width, height, scaleDownBy(width, height, this.settings().maxShortSidePx));
      const answer = await postWhipOffer(whipEndpointUrl(endpoint, channel), grant, offer, abort.signal);
      if (generation !== this.#generation) {
        void deleteWhipSession(answer.sessionUrl).catch(() => {});
        return;
      }
      this.sessionUrl = answer.sessionUrl;
      this.#hadSession = true;
      await connection.setRemoteDescription({ type: 'answer', sdp: answer.answerSdp });
      this.#maxBitrate = videoBitrateCap(maxKbps, answer.maxBitrateKbps);
      await this.#limitVideo();
      this.#connectTimer = setTimeout(() => {
        if (generation === this.#generation) this.#lost();
      }, CONNECT_TIMEOUT_MS);
      this.host.requestUpdate();
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#attemptFailed(error);
    }
  }

  /** The video bitrate cap of the current session (bits per second). */
  #maxBitrate = 0;

  async #limitVideo(): Promise<void> {
    const sender = this.#videoTransceiver?.sender;
    const track = this.stream?.getVideoTracks()[0];
    if (!sender || !track || !this.#maxBitrate || this.#connection?.signalingState !== 'stable') return;
    const { width, height } = track.getSettings();
    await limitVideoSender(sender, this.#maxBitrate, scaleDownBy(width, height, this.settings().maxShortSidePx));
  }

  #connectionChanged(connection: RTCPeerConnection, generation: number): void {
    if (generation !== this.#generation) return;
    this.connectionState = connection.connectionState;
    this.host.requestUpdate();
    switch (connection.connectionState) {
      case 'connected':
        clearTimeout(this.#connectTimer);
        clearTimeout(this.#disconnectedTimer);
        if (this.state !== 'live') {
          this.attempt = 0;
          this.#wasLive = true;
          this.#setState('live', this.view.labels().publishLive);
        }
        this.#statsOn(connection);
        break;
      case 'disconnected':
        clearTimeout(this.#disconnectedTimer);
        this.#disconnectedTimer = setTimeout(() => {
          if (generation === this.#generation && connection.connectionState !== 'connected') this.#lost();
        }, DISCONNECTED_GRACE_MS);
        break;
      case 'failed':
        this.#lost();
        break;
      case 'new':
        // Back to new after being connected: every transport closed under us (the server closed DTLS).
        if (this.state === 'live') this.#lost();
        break;
      default:
        break;
    }
  }

  #statsOn(connection: RTCPeerConnection): void {
    clearInterval(this.#statsTimer);
    this.#lastSample = undefined;
    this.#statsTimer = setInterval(() => {
      void sampleOutgoing(connection).then((sample) => {
        if (connection !== this.#connection) return;
        if (this.#lastSample) this.bitrate = bitrateBetween(this.#lastSample, sample);
        this.#lastSample = sample;
        this.host.requestUpdate();
      });
    }, 1000);
  }

  /** The media connection is gone (failed, stayed disconnected, or never connected). */
  #lost(): void {
    if (this.state !== 'live' && this.state !== 'connecting') return;
    if (!this.#wasLive && this.attempt + 1 >= FIRST_CONNECT_ATTEMPTS) {
      this.#giveUp('publish_connection', 'the media connection to the server could not be established');
      return;
    }
    this.#scheduleReconnect(undefined);
  }

  /** An attempt was refused or could not be made: retry what may pass later, report the rest. */
  #attemptFailed(error: unknown): void {
    const reconnecting = this.#wasLive;
    if (error instanceof WhipError) {
      // 409 while re-connecting: our own previous session, not yet timed out at the server.
      const passesLater = error.retryable || (this.#hadSession && error.kind === 'conflict');
      if (passesLater && (reconnecting || this.attempt + 1 < FIRST_CONNECT_ATTEMPTS)) {
        this.#scheduleReconnect(error.retryAfterMs);
        return;
      }
      this.#giveUp(`publish_${error.kind}` as PublishErrorCode, `${error.status} ${error.code}: ${error.message}`);
      return;
    }
    if (error instanceof PublishGrantError) {
      // Offline, the host's backend cannot be asked either: keep trying while a broadcast is to be resumed.
      if (reconnecting) this.#scheduleReconnect(undefined);
      else this.#giveUp('publish_grant', error.message);
      return;
    }
    this.#giveUp('publish_connection', messageOf(error));
  }

  #giveUp(code: PublishErrorCode, detail: string): void {
    this.#dropConnection(true);
    this.attempt = 0;
    this.#setState('previewing', '');
    const retryable = code !== 'publish_codec' && code !== 'publish_too_large';
    this.view.reportError(code, detail, retryable ? () => void this.goLive() : undefined);
    this.view.focusAfterRender(retryable ? '[data-action="retry"]' : '[data-action="go-live"]');
  }

  #scheduleReconnect(retryAfterMs: number | undefined): void {
    this.#dropConnection(true);
    this.attempt += 1;
    const delayMs = Math.min(BACKOFF_MAX_MS, retryAfterMs ?? BACKOFF_BASE_MS * 2 ** (this.attempt - 1));
    this.#setState('reconnecting', formatLabel(this.view.labels().publishReconnecting, { seconds: String(Math.ceil(delayMs / 1000)), attempt: String(this.attempt) }));
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => void this.#reconnectNow(), delayMs);
  }

  async #reconnectNow(): Promise<void> {
    if (this.state !== 'reconnecting') return;
    this.#setState('connecting', this.view.labels().publishConnecting);
    await this.#connect();
  }

  /**
   * Abandons the current connection: its callbacks stop counting, the POST in flight is
   * aborted, the peer connection closed, and (`deleteSession`) its WHIP session deleted in the
   * background (a reconnect must not meet its own session as a 409).
   */
  #dropConnection(deleteSession: boolean): void {
    this.#generation++;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#disconnectedTimer);
    clearInterval(this.#statsTimer);
    this.#abort?.abort();
    this.#abort = undefined;
    this.#connection?.close();
    this.#connection = undefined;
    this.#videoTransceiver = undefined;
    this.#audioTransceiver = undefined;
    this.connectionState = undefined;
    this.bitrate = undefined;
    this.#lastSample = undefined;
    const sessionUrl = this.sessionUrl;
    this.sessionUrl = undefined;
    if (deleteSession && sessionUrl) this.#deleting = deleteWhipSession(sessionUrl, AbortSignal.timeout(5000)).catch(() => {});
  }
}
