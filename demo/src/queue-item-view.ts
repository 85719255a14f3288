import { createElement } from './create-element.js';
import type { ModeratorDecision, QueuedUpload } from './moderation-api.js';

/** Every word the moderation page shows about a queued upload, in one place. */
export const QUEUE_ITEM_LABELS = {
  untitled: 'Untitled upload',
  channel: 'Channel',
  source: 'Source',
  filename: 'File name',
  size: 'Size',
  uploaded: 'Uploaded',
  clip: 'Clip',
  provenance: 'From the broadcast',
  provenanceSpan: (stream: string, from: Node, to: Node) => [stream, ', ', from, ' to ', to] as const,
  checks: 'Checks',
  noChecks: 'No checks were recorded.',
  loadPreview: 'Load preview',
  reloadPreview: 'Reload preview',
  previewOf: (title: string) => `Preview of ${title}`,
  decision: 'Decision',
  reason: 'Reason (required to reject)',
  approve: 'Approve',
  reject: 'Reject',
} as const;

export interface QueueItemHandlers {
  /** The moderator asked for the preview. */
  readonly onPreview: (view: QueueItemView) => void;
  /** The moderator pressed Approve or Reject; `reason` is trimmed, undefined when empty. */
  readonly onDecide: (view: QueueItemView, decision: ModeratorDecision, reason: string | undefined) => void;
}

const sizeFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const byteFormat = new Intl.NumberFormat(undefined);

function formatSize(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${byteFormat.format(bytes)} bytes` : `${sizeFormat.format(value)} ${units[unit]} (${byteFormat.format(bytes)} bytes)`;
}

function formatTime(iso: string): HTMLTimeElement {
  const date = new Date(iso);
  const shown = Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
  return createElement('time', { attributes: { datetime: iso }, text: shown });
}

/** A program time with seconds and milliseconds: a clip is seconds long, the date alone says little. */
function formatProgramTime(iso: string): HTMLTimeElement {
  const date = new Date(iso);
  const shown = Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) + `.${String(date.getMilliseconds()).padStart(3, '0')}`;
  return createElement('time', { attributes: { datetime: iso }, text: shown });
}

/**
 * One upload waiting for review, as a list item: its facts, its checks, a preview player that
 * plays the quarantined file from a `blob:` URL, and the decision controls. Rendered with DOM
 * APIs only; the view owns its `blob:` URL and revokes it in `dispose()`.
 */
export class QueueItemView {
  readonly element: HTMLLIElement;
  private readonly heading: HTMLHeadingElement;
  private readonly previewButton: HTMLButtonElement;
  private readonly video: HTMLVideoElement;
  private readonly reasonInput: HTMLInputElement;
  private readonly reasonError: HTMLParagraphElement;
  private readonly buttons: HTMLButtonElement[];
  private previewUrl: string | undefined;

  constructor(
    readonly upload: QueuedUpload,
    handlers: QueueItemHandlers,
  ) {
    const id = upload.uploadId;
    const titleId = `title-${id}`;
    this.heading = createElement('h3', { attributes: { id: titleId, tabindex: '-1' }, text: this.title });

    this.previewButton = createElement('button', { attributes: { type: 'button', 'aria-describedby': titleId }, text: QUEUE_ITEM_LABELS.loadPreview });
    this.previewButton.addEventListener('click', () => handlers.onPreview(this));
    this.video = createElement('video', { attributes: { controls: '', preload: 'metadata', playsinline: '', 'aria-label': QUEUE_ITEM_LABELS.previewOf(this.title) } });
    this.video.hidden = true;

    const reasonId = `reason-${id}`;
    const reasonErrorId = `reason-error-${id}`;
    this.reasonInput = createElement('input', { attributes: { id: reasonId, type: 'text', maxlength: '500', autocomplete: 'off', 'aria-describedby': reasonErrorId } });
    this.reasonInput.addEventListener('input', () => this.clearReasonError());
    this.reasonError = createElement('p', { className: 'error-text', attributes: { id: reasonErrorId } });
    const approve = createElement('button', { attributes: { type: 'button', 'aria-describedby': titleId }, text: QUEUE_ITEM_LABELS.approve });
    const reject = createElement('button', { className: 'danger', attributes: { type: 'button', 'aria-describedby': titleId }, text: QUEUE_ITEM_LABELS.reject });
    approve.addEventListener('click', () => handlers.onDecide(this, 'approve', this.reason));
    reject.addEventListener('click', () => handlers.onDecide(this, 'reject', this.reason));
    this.buttons = [this.previewButton, approve, reject];

    const checksId = `checks-${id}`;
    const article = createElement(
      'article',
      { attributes: { 'aria-labelledby': titleId } },
      this.heading,
      this.facts(),
      createElement('h4', { attributes: { id: checksId }, text: QUEUE_ITEM_LABELS.checks }),
      this.checks(checksId),
      createElement('div', { className: 'preview' }, this.previewButton, this.video),
      createElement(
        'fieldset',
        { className: 'decision' },
        createElement('legend', { text: QUEUE_ITEM_LABELS.decision }),
        createElement('label', { attributes: { for: reasonId }, text: QUEUE_ITEM_LABELS.reason }),
        this.reasonInput,
        this.reasonError,
        createElement('div', { className: 'decision-buttons' }, approve, reject),
      ),
    );
    this.element = createElement('li', { className: 'queue-item' }, article);
  }

  /** The title as uploaded, or a placeholder: for headings and announcements, always as text. */
  get title(): string {
    return this.upload.title ?? QUEUE_ITEM_LABELS.untitled;
  }

  get reason(): string | undefined {
    return this.reasonInput.value.trim() || undefined;
  }

  /** aria-disabled, not disabled: disabling the focused button would drop keyboard focus to the page. */
  setBusy(busy: boolean): void {
    for (const button of this.buttons) {
      if (busy) button.setAttribute('aria-disabled', 'true');
      else button.removeAttribute('aria-disabled');
    }
  }

  get busy(): boolean {
    return this.previewButton.getAttribute('aria-disabled') === 'true';
  }

  /** Plays `blob` in the player, replacing (and revoking) any earlier preview. */
  showPreview(blob: Blob): void {
    this.revokePreview();
    this.previewUrl = URL.createObjectURL(blob);
    this.video.src = this.previewUrl;
    this.video.hidden = false;
    this.previewButton.textContent = QUEUE_ITEM_LABELS.reloadPreview;
  }

  /** Resolves once the player knows the preview's duration; rejects if it cannot play it. */
  previewReady(): Promise<void> {
    if (this.video.readyState >= HTMLMediaElement.HAVE_METADATA) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const controller = new AbortController();
      const once = { once: true, signal: controller.signal } as const;
      this.video.addEventListener('loadedmetadata', () => {
        controller.abort();
        resolve();
      }, once);
      this.video.addEventListener('error', () => {
        controller.abort();
        reject(new Error('the browser cannot play this file'));
      }, once);
    });
  }

  showReasonError(message: string): void {
    this.reasonError.textContent = message;
    this.reasonInput.setAttribute('aria-invalid', 'true');
    this.reasonInput.focus();
  }

  focusHeading(): void {
    this.heading.focus();
  }

  /** Stops the player and revokes its `blob:` URL; call when the item leaves the page. */
  dispose(): void {
    this.revokePreview();
    this.element.remove();
  }

  private revokePreview(): void {
    if (this.previewUrl === undefined) return;
    this.video.pause();
    this.video.removeAttribute('src');
    this.video.load();
    URL.revokeObjectURL(this.previewUrl);
    this.previewUrl = undefined;
  }

  private clearReasonError(): void {
    this.reasonError.textContent = '';
    this.reasonInput.removeAttribute('aria-invalid');
  }

  private facts(): HTMLDListElement {
    const { upload } = this;
    const rows: Array<[string, ...Array<string | Node>]> = [
      [QUEUE_ITEM_LABELS.channel, upload.channel],
      [QUEUE_ITEM_LABELS.source, upload.source],
      [QUEUE_ITEM_LABELS.filename, upload.filename],
      [QUEUE_ITEM_LABELS.size, `${formatSize(upload.size)}, ${upload.type}`],
      [QUEUE_ITEM_LABELS.uploaded, formatTime(upload.uploadedAt)],
    ];
    if (upload.clip) rows.push([QUEUE_ITEM_LABELS.clip, `${upload.clip.canonicalId}, ${upload.clip.fromS} s to ${upload.clip.toS} s`]);
    if (upload.provenance) {
      const { canonicalId, from, to } = upload.provenance;
      rows.push([QUEUE_ITEM_LABELS.provenance, ...QUEUE_ITEM_LABELS.provenanceSpan(canonicalId, formatProgramTime(from), formatProgramTime(to))]);
    }
    return createElement(
      'dl',
      { className: 'facts' },
      ...rows.flatMap(([term, ...value]) => [createElement('dt', { text: term }), createElement('dd', {}, ...value)]),
    );
  }

  private checks(labelledBy: string): HTMLElement {
    if (this.upload.checks.length === 0) return createElement('p', { className: 'hint', text: QUEUE_ITEM_LABELS.noChecks });
    return createElement(
      'ul',
      { className: 'checks', attributes: { 'aria-labelledby': labelledBy } },
      ...this.upload.checks.map((check) =>
        createElement(
          'li',
          { className: 'check', attributes: { 'data-result': check.result } },
          createElement('span', { className: 'check-name', text: check.name }),
          ' ',
          createElement('span', { className: 'check-result', text: check.result }),
          ...(check.detail ? [createElement('span', { className: 'check-detail', text: `: ${check.detail}` })] : []),
        ),
      ),
    );
  }
}
