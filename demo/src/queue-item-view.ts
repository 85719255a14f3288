import { CheckEvidenceView, type EvidenceLoader } from './check-evidence-view.js';
import { createElement } from './create-element.js';
import { formatBytes, formatClockTime, formatDateTime, formatDuration, formatRelativeTime, parseTime } from './human-format.js';
import type { ModeratorDecision, QueuedUpload } from './moderation-api.js';
import { PreviewUnplayableError } from './problem-message.js';

/** Every word the moderation page shows about a queued upload, in one place. */
export const QUEUE_ITEM_LABELS = {
  untitled: 'Untitled upload',
  channel: 'Channel',
  uploaded: 'Uploaded',
  file: 'File',
  provenance: 'From the broadcast',
  sources: { clip: 'Clip of the live stream', recording: 'Recording (camera or screen)', file: 'Video file' } as Readonly<Record<string, string>>,
  otherSource: 'Upload',
  picture: (width: number, height: number) => `${width} × ${height}`,
  checks: 'Checks',
  noChecks: 'No checks were recorded.',
  checkNames: {
    'magic-bytes': 'File type',
    'media-probe': 'Video format and limits',
    text: 'Words in the title and file name',
    'perceptual-hash': 'Known blocked images',
    classifier: 'Content classifier',
    nudity: 'Nudity',
    faces: 'Faces (privacy)',
    'audio-fingerprint': 'Copyrighted audio',
  } as Readonly<Record<string, string>>,
  checkResults: { pass: 'Passed', fail: 'Failed', review: 'Needs a look', error: 'Could not check', pending: 'Not run yet' } as Readonly<Record<string, string>>,
  technical: 'Technical details',
  uploadId: 'Upload id',
  channelHandle: 'Channel handle',
  mediaType: 'Media type',
  bytes: 'Size in bytes',
  broadcastId: 'Broadcast id',
  clipRange: 'Clip range in the broadcast',
  clipRangeValue: (fromS: number, toS: number) => `${fromS} s to ${toS} s`,
  checkFacts: (name: string) => `Check ${name}`,
  policy: 'Moderation rules',
  policyValue: (version: number, scope: string) => `version ${version} (${scope === 'default' ? 'the default rules' : `${scope}’s own rules`})`,
  loadPreview: 'Load preview',
  reloadPreview: 'Reload preview',
  previewOf: (title: string) => `Preview of ${title}`,
  decision: 'Decision',
  reason: 'Reason (required to reject)',
  approve: 'Approve',
  approveBlurred: 'Approve with faces blurred',
  reject: 'Reject',
} as const;

export interface QueueItemHandlers {
  /** The moderator asked for the preview. */
  readonly onPreview: (view: QueueItemView) => void;
  /** The moderator pressed Approve or Reject; `reason` is trimmed, undefined when empty. */
  readonly onDecide: (view: QueueItemView, decision: ModeratorDecision, reason: string | undefined) => void;
  /** Fetches a flagged frame with the token (the view shows it from a `blob:` URL). */
  readonly loadEvidence: EvidenceLoader;
}

/** "3 minutes ago · Dec 6, 2026, 7:26 PM" in a `<time>`; the relative part is refreshed by `refreshTimes()`. */
function uploadedTime(iso: string): HTMLTimeElement {
  const date = parseTime(iso);
  const time = createElement('time', { attributes: { datetime: iso }, text: date ? '' : iso });
  if (date) time.title = formatDateTime(date);
  return time;
}

function refreshUploadedTime(time: HTMLTimeElement): void {
  const date = parseTime(time.dateTime);
  if (date) time.textContent = `${formatRelativeTime(date)} · ${formatDateTime(date)}`;
}

/** The program time a clip spans, each end a `<time>`: "7:26:07 PM – 7:26:17 PM" (with the date when not today). */
function programTimes(fromIso: string, toIso: string): Array<Node | string> {
  const today = new Date().toDateString();
  const time = (iso: string) => {
    const date = parseTime(iso);
    const shown = !date ? iso : date.toDateString() === today ? formatClockTime(date) : formatDateTime(date, true);
    return createElement('time', { attributes: { datetime: iso }, text: shown });
  };
  return [time(fromIso), ' – ', time(toIso)];
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
  private readonly uploadedTime: HTMLTimeElement;
  private readonly evidenceViews: CheckEvidenceView[] = [];

  /** `channelName`: the channel's name from the discovery index, if it lists it. */
  constructor(
    readonly upload: QueuedUpload,
    private readonly handlers: QueueItemHandlers,
    private readonly channelName: string | undefined,
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
    // The page's shortcuts (A, B, R) decide on the item with focus, else the first: `aria-keyshortcuts` says so to assistive technology.
    const approve = createElement('button', { attributes: { type: 'button', 'aria-describedby': titleId, 'aria-keyshortcuts': 'A' }, text: QUEUE_ITEM_LABELS.approve });
    const approveBlurred = createElement('button', { attributes: { type: 'button', 'aria-describedby': titleId, 'aria-keyshortcuts': 'B' }, text: QUEUE_ITEM_LABELS.approveBlurred });
    const reject = createElement('button', { className: 'danger', attributes: { type: 'button', 'aria-describedby': titleId, 'aria-keyshortcuts': 'R' }, text: QUEUE_ITEM_LABELS.reject });
    approve.addEventListener('click', () => this.decide('approve'));
    approveBlurred.addEventListener('click', () => this.decide('approve_blurred'));
    reject.addEventListener('click', () => this.decide('reject'));
    this.buttons = [this.previewButton, approve, approveBlurred, reject];

    const checksId = `checks-${id}`;
    this.uploadedTime = uploadedTime(upload.uploadedAt);
    this.refreshTimes();
    const article = createElement(
      'article',
      { attributes: { 'aria-labelledby': titleId } },
      this.heading,
      createElement('p', { className: 'item-summary', text: this.summary() }),
      this.facts(),
      createElement('h4', { attributes: { id: checksId }, text: QUEUE_ITEM_LABELS.checks }),
      this.checks(checksId),
      this.technicalDetails(),
      createElement('div', { className: 'preview' }, this.previewButton, this.video),
      createElement(
        'fieldset',
        { className: 'decision' },
        createElement('legend', { text: QUEUE_ITEM_LABELS.decision }),
        createElement('label', { attributes: { for: reasonId }, text: QUEUE_ITEM_LABELS.reason }),
        this.reasonInput,
        this.reasonError,
        createElement('div', { className: 'decision-buttons' }, approve, approveBlurred, reject),
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

  /** Decides as the buttons do (the page's keyboard shortcuts call this too). */
  decide(decision: ModeratorDecision): void {
    this.handlers.onDecide(this, decision, this.reason);
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
        reject(new PreviewUnplayableError());
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

  /** Brings "3 minutes ago" up to date. */
  refreshTimes(): void {
    refreshUploadedTime(this.uploadedTime);
  }

  /** Stops the player and revokes its `blob:` URL; call when the item leaves the page. */
  dispose(): void {
    this.revokePreview();
    for (const view of this.evidenceViews.splice(0)) view.dispose();
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

  /** "Clip of the live stream · 10.0 s · 1280 × 720 · 1.2 MB": what it is, at a glance. */
  private summary(): string {
    const { upload } = this;
    const { durationS, width, height } = upload.media;
    return [
      QUEUE_ITEM_LABELS.sources[upload.source] ?? QUEUE_ITEM_LABELS.otherSource,
      ...(durationS === null ? [] : [formatDuration(durationS)]),
      ...(width === null || height === null ? [] : [QUEUE_ITEM_LABELS.picture(width, height)]),
      formatBytes(upload.size),
    ].join(' · ');
  }

  private facts(): HTMLDListElement {
    const { upload } = this;
    const channel = createElement('a', { attributes: { href: `/c/${upload.channel}` }, text: this.channelName ?? upload.channel });
    const rows: Array<[string, ...Array<string | Node>]> = [
      [QUEUE_ITEM_LABELS.channel, channel],
      [QUEUE_ITEM_LABELS.uploaded, this.uploadedTime],
      [QUEUE_ITEM_LABELS.file, upload.filename],
    ];
    // Last, so its two <time>s are the list's last.
    if (upload.provenance) rows.push([QUEUE_ITEM_LABELS.provenance, ...programTimes(upload.provenance.from, upload.provenance.to)]);
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
          createElement('span', { className: 'check-result', text: QUEUE_ITEM_LABELS.checkResults[check.result] ?? check.result }),
          ' ',
          createElement('span', { className: 'check-name', text: QUEUE_ITEM_LABELS.checkNames[check.name] ?? check.name }),
          ...(check.detail ? [createElement('span', { className: 'check-detail', text: `: ${check.detail}` })] : []),
          ...this.evidenceOf(check),
        ),
      ),
    );
  }

  /** The check's scores, matched reference and flagged frames, when it has any. */
  private evidenceOf(check: QueuedUpload['checks'][number]): HTMLElement[] {
    const view = new CheckEvidenceView(check.evidence, this.handlers.loadEvidence);
    if (!view.element) return [];
    this.evidenceViews.push(view);
    return [view.element];
  }

  /** Ids, raw type and size, and each check's facts: for whoever needs to look deeper, folded away. */
  private technicalDetails(): HTMLDetailsElement {
    const { upload } = this;
    const rows: Array<[string, string]> = [
      [QUEUE_ITEM_LABELS.uploadId, upload.uploadId],
      [QUEUE_ITEM_LABELS.channelHandle, upload.channel],
      [QUEUE_ITEM_LABELS.mediaType, upload.type],
      [QUEUE_ITEM_LABELS.bytes, new Intl.NumberFormat().format(upload.size)],
    ];
    const broadcast = upload.provenance?.canonicalId ?? upload.clip?.canonicalId;
    if (broadcast) rows.push([QUEUE_ITEM_LABELS.broadcastId, broadcast]);
    if (upload.clip) rows.push([QUEUE_ITEM_LABELS.clipRange, QUEUE_ITEM_LABELS.clipRangeValue(upload.clip.fromS, upload.clip.toS)]);
    if (upload.policy) rows.push([QUEUE_ITEM_LABELS.policy, QUEUE_ITEM_LABELS.policyValue(upload.policy.version, upload.policy.scope)]);
    for (const check of upload.checks) {
      if (check.details) rows.push([QUEUE_ITEM_LABELS.checkFacts(check.name), JSON.stringify(check.details)]);
    }
    return createElement(
      'details',
      { className: 'technical' },
      createElement('summary', { text: QUEUE_ITEM_LABELS.technical }),
      createElement('dl', { className: 'technical-facts' }, ...rows.flatMap(([term, value]) => [createElement('dt', { text: term }), createElement('dd', { text: value })])),
    );
  }
}
