import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { createLiveEvent, type LiveClipProvenance } from '../events.js';
import { formatLabel } from '../labels.js';
import type { Candidate, LiveUploadView } from './live-upload-view.js';
import { PendingUploadStore, type PendingUpload } from './pending-uploads.js';
import { formatBytes, formatDuration } from './upload-labels.js';
import type { UploadGrantRequest } from './upload-grant-client.js';
import { UploadRate } from './upload-rate.js';
import type { UploadSession, UploadSnapshot } from './upload-session.js';

/** What the upload flow reads from the element and the review it uploads from. */
export interface UploadFlowSource {
  settings(): { readonly endpoint: string; readonly channel: string; readonly chunkSize: number; readonly noUpload: boolean };
  candidate(): Candidate | undefined;
  provenance(candidate: Candidate): LiveClipProvenance | undefined;
  title(): string;
  /** The candidate trimmed and normalised for upload (FFmpeg.wasm); rejects like a preparation. */
  prepare(candidate: Candidate): Promise<Blob>;
  preparationFailed(error: unknown, retry: () => void): void;
  /** Every byte is in: the review is over (the candidate and its title go). */
  reviewDone(): void;
}

export function percentOf(snapshot: UploadSnapshot): number {
  return snapshot.bytesTotal > 0 ? Math.floor((snapshot.bytesUploaded / snapshot.bytesTotal) * 100) : 0;
}

/**
 * The upload flow of `<live-upload>`, a view of `UploadSession`'s data model (Uppy's habit):
 * prepare, grant, tus with pause / resume / cancel, the bytes-speed-time-left line, then, once
 * every byte is in, back to ready at once while a notice follows the server to a link to the
 * published clip; a failure goes back to the review with Try again. Also the uploads stored
 * before a reload, offered for resuming.
 */
export class UploadFlowController implements ReactiveController {
  /** The upload being sent, until every byte is in (or it failed or was cancelled). */
  sending: UploadSnapshot | undefined;
  /** The last upload once it left `sending`: the notice. */
  last: UploadSnapshot | undefined;
  /** Uppy's line under the bar. */
  detail = '';
  /** Uploads stored before a reload, for what the element follows. */
  pending: PendingUpload[] = [];
  #session: UploadSession | undefined;
  #rate: UploadRate | undefined;
  readonly #store = new PendingUploadStore();

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly view: LiveUploadView,
    private readonly source: UploadFlowSource,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.#session?.dispose();
    this.#store.close();
  }

  /** Loads the stored uploads of `channel` at `endpoint` while `current()` says they are still wanted. */
  loadPending(endpoint: string, channel: string, current: () => boolean): void {
    this.pending = [];
    this.host.requestUpdate();
    if (!channel) return;
    void this.#store.list(endpoint, channel).then((pending) => {
      if (!current()) return;
      this.pending = pending;
      this.host.requestUpdate();
    });
  }

  /** Trims, normalises (H.264/AAC MP4, at most 720p) when needed, and uploads the candidate. */
  async upload(): Promise<void> {
    const candidate = this.source.candidate();
    const { channel, noUpload } = this.source.settings();
    if (this.view.stage() !== 'review' || !candidate || noUpload) return;
    this.view.setStage('preparing');
    this.view.clearError('*');
    this.last = undefined;
    this.view.say(this.view.labels().preparing);
    const provenance = this.source.provenance(candidate);
    let file: Blob;
    try {
      file = await this.source.prepare(candidate);
    } catch (error) {
      this.source.preparationFailed(error, () => void this.upload());
      return;
    }
    const title = this.source.title().trim();
    const request: Omit<UploadGrantRequest, 'size' | 'type'> = {
      channel,
      filename: `${candidate.source}-${channel.replace('/', '-')}-${new Date().toISOString().replace(/[:.]/g, '-')}.mp4`,
      source: provenance ? 'clip' : candidate.source === 'recording' ? 'recording' : 'file',
      ...(title ? { title: title.slice(0, 140) } : {}),
      ...(provenance ? { provenance } : {}),
      ...(provenance && candidate.startedAtMs !== undefined && candidate.fromMs !== undefined
        ? {
            clip: {
              canonical_id: provenance.canonical_id,
              from_s: Math.max(0, (Date.parse(provenance.from) - candidate.startedAtMs) / 1000),
              to_s: Math.max(0.001, (Date.parse(provenance.to) - candidate.startedAtMs) / 1000),
            },
          }
        : {}),
    };
    const { UploadSession } = await import('./upload-session.js');
    this.#watch(UploadSession.start(this.#sessionOptions(), file, request));
  }

  #sessionOptions() {
    const { endpoint, chunkSize } = this.source.settings();
    return { endpoint, store: this.#store, chunkSize };
  }

  /** Resumes an upload stored before a reload. */
  async resumeStored(pending: PendingUpload): Promise<void> {
    if (this.view.stage() !== 'idle') return;
    this.pending = this.pending.filter((entry) => entry.key !== pending.key);
    const { UploadSession } = await import('./upload-session.js');
    this.#watch(UploadSession.resume(this.#sessionOptions(), pending));
  }

  async discardStored(pending: PendingUpload): Promise<void> {
    this.pending = this.pending.filter((entry) => entry.key !== pending.key);
    this.host.requestUpdate();
    await this.#store.delete(pending.key);
    for (const key of Object.keys(localStorage)) if (key.startsWith(`tus::live-upload:${pending.key}::`)) localStorage.removeItem(key);
  }

  pause(): void {
    this.#session?.pause();
  }

  resume(): void {
    this.#session?.resume();
  }

  cancel(): void {
    void this.#session?.cancel();
  }

  #watch(session: UploadSession): void {
    this.#session?.dispose();
    this.#session = session;
    this.view.setStage('uploading');
    this.sending = session.snapshot;
    this.last = undefined;
    this.view.clearError('*');
    this.#rate = new UploadRate();
    this.detail = '';
    this.view.focusAfterRender('[data-action="pause"], [data-action="cancel"]');
    let last = session.snapshot;
    session.addEventListener('state', () => {
      if (this.#session !== session) return;
      const now = session.snapshot;
      const previous = last;
      last = now;
      if (this.sending) this.#showProgress(now);
      else this.last = now; // every byte is in: the notice follows the server's word
      if (now.phase !== previous.phase) {
        this.view.say(this.#phaseText(now));
        if (now.phase === 'paused') this.view.focusAfterRender('[data-action="resume"]');
        if (now.phase === 'uploading' && previous.phase === 'paused') this.view.focusAfterRender('[data-action="pause"]');
        if (this.sending && ['checking', 'failed', 'cancelled'].includes(now.phase)) this.#ended(now);
      }
      this.host.requestUpdate();
      // Listeners may act on the upload (pause it, say): events go last, after the view is in step.
      const { uploadId } = now;
      if (uploadId && (now.bytesUploaded !== previous.bytesUploaded || now.phase !== previous.phase)) {
        this.host.dispatchEvent(createLiveEvent('live-upload-progress', { uploadId, bytesUploaded: now.bytesUploaded, bytesTotal: now.bytesTotal, phase: now.phase }));
      }
      if (now.phase !== previous.phase) {
        if (now.phase === 'checking' && uploadId) this.host.dispatchEvent(createLiveEvent('live-upload-complete', { uploadId, status: 'checking' }));
        if (now.phase === 'failed') {
          const retry = this.source.candidate() && !this.source.settings().noUpload ? () => void this.upload() : undefined;
          this.view.reportError(now.error?.code ?? 'upload_failed', now.error?.message ?? '', retry);
        }
      }
    });
    this.view.say(this.#phaseText(session.snapshot));
    this.host.requestUpdate();
  }

  /** Uppy's line under the bar: bytes of bytes, speed, time left. */
  #showProgress(snapshot: UploadSnapshot): void {
    this.sending = snapshot;
    const lang = this.view.lang();
    if (snapshot.phase !== 'uploading' || snapshot.bytesTotal <= 0) {
      this.detail = '';
      return;
    }
    const rate = (this.#rate ??= new UploadRate());
    rate.sample(snapshot.bytesUploaded, performance.now());
    const labels = this.view.labels();
    const speed = rate.bytesPerSecond;
    const msLeft = rate.msLeft(snapshot.bytesTotal - snapshot.bytesUploaded);
    const parts = [formatLabel(labels.uploadDetail, { done: formatBytes(snapshot.bytesUploaded, lang), total: formatBytes(snapshot.bytesTotal, lang), speed: speed ? `${formatBytes(speed, lang)}/s` : '…' })];
    if (msLeft !== undefined && snapshot.bytesUploaded < snapshot.bytesTotal) parts.push(formatLabel(labels.timeLeft, { time: formatDuration(msLeft, lang) }));
    this.detail = parts.join(' · ');
  }

  /**
   * The upload is done with this view: every byte is in (back to ready, Clip and Record enabled,
   * the notice keeps following the server until published or rejected), or it failed or was
   * cancelled (back to the review of the same clip, to try again or discard).
   */
  #ended(snapshot: UploadSnapshot): void {
    this.sending = undefined;
    this.last = snapshot;
    this.detail = '';
    if (snapshot.phase === 'checking') {
      this.source.reviewDone();
      this.view.setStage('idle');
      this.view.focusAfterRender('[data-action="clip"], [data-action="camera"], [data-action="replay-clip"], [part="watch-replay"]');
      return;
    }
    this.#session?.dispose();
    this.#session = undefined;
    const reviewing = Boolean(this.source.candidate());
    this.view.setStage(reviewing ? 'review' : 'idle');
    this.view.focusAfterRender(reviewing ? '[data-action="upload"], [data-action="retry"]' : '[data-action="clip"], [data-action="camera"], [data-action="replay-clip"], [part="watch-replay"]');
  }

  #phaseText(snapshot: UploadSnapshot): string {
    return formatLabel(this.view.labels()[snapshot.phase], { percent: String(percentOf(snapshot)) });
  }

  /** Dismisses the last upload's notice (the server status stops being followed). */
  done(): void {
    if (!this.sending) {
      this.#session?.dispose();
      this.#session = undefined;
    }
    this.last = undefined;
    if (this.view.stage() === 'idle') this.view.say('');
    this.view.focusAfterRender('[data-action="clip"], [data-action="camera"], [data-action="replay-clip"], [part="watch-replay"]');
    this.host.requestUpdate();
  }
}
