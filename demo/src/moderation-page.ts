/**
 * The demo's moderation page: a moderator (or the admin) enters a token, kept in this tab's
 * sessionStorage only, then reviews the queue: previews each quarantined clip through the
 * authenticated preview endpoint (never /media), looks at each check's evidence (scores, the
 * matched audio reference, flagged frames blurred until revealed) and approves, approves with
 * faces blurred, or rejects it, with the buttons or the keyboard (A, B, R). Network data is
 * rendered with DOM APIs only, and every result is announced.
 */
import { ModerationApi, ModerationApiError, parseBearerToken, type ModeratorDecision, type QueuedUpload } from './moderation-api.js';
import { problemMessage } from './problem-message.js';
import { QueueItemView } from './queue-item-view.js';

const TOKEN_STORAGE_KEY = 'live-upload.moderator-token';

const PAGE_LABELS = {
  badToken: 'Enter the token exactly as printed: up to 512 printable characters, without spaces.',
  refused: 'That token was not accepted. Check that you copied all of it, then try again.',
  checkingToken: 'Checking the token…',
  tokenForgotten: 'The token was forgotten for this tab.',
  loading: 'Loading the review queue…',
  waiting: (count: number) => (count === 1 ? '1 upload is waiting for review.' : `${count} uploads are waiting for review.`),
  loadingPreview: (title: string) => `Loading the preview of “${title}”…`,
  previewReady: (title: string) => `The preview of “${title}” is ready in the player after the button.`,
  previewFailed: (title: string, why: string) => `The preview of “${title}” could not be loaded. ${why}`,
  reasonRequired: 'Give a reason to reject this upload.',
  deciding: (decision: ModeratorDecision, title: string) => `${decision === 'reject' ? 'Rejecting' : 'Approving'} “${title}”…`,
  approved: (title: string) => `Approved “${title}”. It is published once it has been transcoded.`,
  approvedBlurred: (title: string) => `Approved “${title}” with faces blurred. It is published, blurred, once it has been transcoded.`,
  rejected: (title: string, reason: string) => `Rejected “${title}”: ${reason}.`,
  decisionFailed: (title: string, why: string) => `The decision on “${title}” was not saved. ${why}`,
  alreadyDecided: (title: string) => `“${title}” was already decided elsewhere; the queue was refreshed.`,
  queueFailed: (why: string) => `The review queue could not be loaded. ${why}`,
} as const;

function required<T extends Element>(selector: string): T {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`the moderation page has no ${selector}`);
  return element;
}

const page = {
  tokenEntry: required<HTMLDivElement>('#token-entry'),
  tokenForm: required<HTMLFormElement>('#token-form'),
  tokenInput: required<HTMLInputElement>('#token-input'),
  tokenSubmit: required<HTMLButtonElement>('#token-form button[type="submit"]'),
  tokenError: required<HTMLParagraphElement>('#token-error'),
  tokenHeld: required<HTMLDivElement>('#token-held'),
  forgetToken: required<HTMLButtonElement>('#forget-token'),
  queueSection: required<HTMLElement>('#queue-section'),
  queueHeading: required<HTMLHeadingElement>('#queue-heading'),
  refresh: required<HTMLButtonElement>('#refresh-queue'),
  announcer: required<HTMLParagraphElement>('#announcer'),
  queueError: required<HTMLParagraphElement>('#queue-error'),
  queueEmpty: required<HTMLParagraphElement>('#queue-empty'),
  queueList: required<HTMLOListElement>('#queue-list'),
};

/** sessionStorage can be unavailable (storage disabled); the page then keeps the token in memory only. */
const tokenStore = {
  memory: undefined as string | undefined,
  get(): string | undefined {
    try {
      return sessionStorage.getItem(TOKEN_STORAGE_KEY) ?? undefined;
    } catch {
      return this.memory;
    }
  },
  set(token: string): void {
    this.memory = token;
    try {
      sessionStorage.setItem(TOKEN_STORAGE_KEY, token);
    } catch {
      // memory only
    }
  },
  clear(): void {
    this.memory = undefined;
    try {
      sessionStorage.removeItem(TOKEN_STORAGE_KEY);
    } catch {
      // nothing stored
    }
  },
};

const views = new Map<string, QueueItemView>();
/** Channel names by handle, from the discovery index; refreshed with the queue. */
let channelNames = new Map<string, string>();
let api: ModerationApi | undefined;
let queueLoad: AbortController | undefined;

function announce(text: string): void {
  page.announcer.textContent = text;
}

function showError(text: string): void {
  page.queueError.textContent = text;
}


/** Shows the token form (and nothing of the queue); with `problem`, says what went wrong and puts focus in the field. */
function askForToken(problem?: string): void {
  api = undefined;
  queueLoad?.abort();
  clearQueue();
  page.queueSection.hidden = true;
  page.tokenHeld.hidden = true;
  page.tokenEntry.hidden = false;
  page.tokenError.textContent = problem ?? '';
  if (problem) {
    page.tokenInput.setAttribute('aria-invalid', 'true');
    page.tokenInput.focus();
  } else {
    page.tokenInput.removeAttribute('aria-invalid');
  }
}

function showQueueFor(token: string): void {
  api = new ModerationApi(token);
  page.tokenInput.value = '';
  page.tokenInput.removeAttribute('aria-invalid');
  page.tokenError.textContent = '';
  page.tokenEntry.hidden = true;
  page.tokenHeld.hidden = false;
  page.queueSection.hidden = false;
}

/** Any failure that means "this token is no good": forget it, say so (and nothing else), and ask again. */
function handleUnauthorized(error: unknown): boolean {
  if (!(error instanceof ModerationApiError) || !error.unauthorized) return false;
  tokenStore.clear();
  announce('');
  askForToken(PAGE_LABELS.refused);
  return true;
}

function clearQueue(): void {
  for (const view of views.values()) view.dispose();
  views.clear();
  page.queueEmpty.hidden = true;
}

/** Brings the list in line with `uploads`, keeping the items (and any playing preview) still queued. */
function renderQueue(uploads: readonly QueuedUpload[]): void {
  const wanted = new Set(uploads.map((upload) => upload.uploadId));
  for (const [uploadId, view] of views) {
    if (wanted.has(uploadId)) continue;
    view.dispose();
    views.delete(uploadId);
  }
  for (const upload of uploads) {
    const view =
      views.get(upload.uploadId) ??
      new QueueItemView(
        upload,
        {
          onPreview: (item) => void preview(item),
          onDecide: (item, decision, reason) => void decide(item, decision, reason),
          loadEvidence: (frame) => (api ? api.evidence(frame) : Promise.reject(new ModerationApiError(401, 'no token'))),
        },
        channelNames.get(upload.channel),
      );
    views.set(upload.uploadId, view);
    page.queueList.append(view.element);
  }
  page.queueEmpty.hidden = views.size > 0;
}

async function loadQueue(): Promise<void> {
  if (!api) return;
  queueLoad?.abort();
  const controller = new AbortController();
  queueLoad = controller;
  page.refresh.setAttribute('aria-disabled', 'true');
  page.queueList.setAttribute('aria-busy', 'true');
  announce(PAGE_LABELS.loading);
  try {
    const [uploads, names] = await Promise.all([api.queue(controller.signal), api.channelNames(controller.signal)]);
    channelNames = names;
    showError('');
    renderQueue(uploads);
    announce(PAGE_LABELS.waiting(uploads.length));
  } catch (error) {
    if (controller.signal.aborted || handleUnauthorized(error)) return;
    announce('');
    showError(PAGE_LABELS.queueFailed(problemMessage(error)));
  } finally {
    if (queueLoad === controller) {
      queueLoad = undefined;
      page.refresh.removeAttribute('aria-disabled');
      page.queueList.removeAttribute('aria-busy');
    }
  }
}

async function preview(view: QueueItemView): Promise<void> {
  if (!api || view.busy) return;
  view.setBusy(true);
  announce(PAGE_LABELS.loadingPreview(view.title));
  try {
    const blob = await api.preview(view.upload.uploadId);
    if (!views.has(view.upload.uploadId)) return;
    view.showPreview(blob);
    await view.previewReady();
    announce(PAGE_LABELS.previewReady(view.title));
  } catch (error) {
    if (handleUnauthorized(error)) return;
    announce('');
    showError(PAGE_LABELS.previewFailed(view.title, problemMessage(error)));
  } finally {
    view.setBusy(false);
  }
}

async function decide(view: QueueItemView, decision: ModeratorDecision, reason: string | undefined): Promise<void> {
  if (!api || view.busy) return;
  if (decision === 'reject' && reason === undefined) {
    view.showReasonError(PAGE_LABELS.reasonRequired);
    return;
  }
  view.setBusy(true);
  showError('');
  announce(PAGE_LABELS.deciding(decision, view.title));
  try {
    await api.decide(view.upload.uploadId, decision, reason);
    announce(
      decision === 'approve' ? PAGE_LABELS.approved(view.title) : decision === 'approve_blurred' ? PAGE_LABELS.approvedBlurred(view.title) : PAGE_LABELS.rejected(view.title, reason ?? ''),
    );
    removeView(view);
  } catch (error) {
    if (handleUnauthorized(error)) return;
    view.setBusy(false);
    if (error instanceof ModerationApiError && (error.status === 409 || error.status === 404)) {
      await loadQueue();
      announce(PAGE_LABELS.alreadyDecided(view.title));
      return;
    }
    announce('');
    showError(PAGE_LABELS.decisionFailed(view.title, problemMessage(error)));
  }
}

/** Takes a decided item off the list; keyboard focus goes to the next item, or to the queue heading. */
function removeView(view: QueueItemView): void {
  const ordered = [...views.values()];
  const next = ordered[ordered.indexOf(view) + 1] ?? ordered[ordered.indexOf(view) - 1];
  const hadFocus = view.element.contains(document.activeElement);
  view.dispose();
  views.delete(view.upload.uploadId);
  page.queueEmpty.hidden = views.size > 0;
  if (!hadFocus) return;
  if (next) next.focusHeading();
  else page.queueHeading.focus();
}

page.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (page.tokenSubmit.getAttribute('aria-disabled') === 'true') return;
  const token = parseBearerToken(page.tokenInput.value);
  if (!token) {
    askForToken(PAGE_LABELS.badToken);
    return;
  }
  page.tokenError.textContent = '';
  page.tokenSubmit.setAttribute('aria-disabled', 'true');
  announce(PAGE_LABELS.checkingToken);
  // Only a token the server accepts is kept.
  const checking = new ModerationApi(token);
  void Promise.all([checking.queue(), checking.channelNames()])
    .then(
      ([uploads, names]) => {
        channelNames = names;
        tokenStore.set(token);
        showQueueFor(token);
        renderQueue(uploads);
        announce(PAGE_LABELS.waiting(uploads.length));
        page.queueHeading.focus();
      },
      (error: unknown) => {
        if (handleUnauthorized(error)) return;
        announce('');
        askForToken(PAGE_LABELS.queueFailed(problemMessage(error)));
      },
    )
    .finally(() => page.tokenSubmit.removeAttribute('aria-disabled'));
});

page.forgetToken.addEventListener('click', () => {
  tokenStore.clear();
  askForToken();
  announce(PAGE_LABELS.tokenForgotten);
  page.tokenInput.focus();
});

/** The decision each shortcut key makes (documented on the page, and on each button's `aria-keyshortcuts`). */
const SHORTCUTS: Readonly<Record<string, ModeratorDecision>> = { a: 'approve', b: 'approve_blurred', r: 'reject' };

/** True while the key goes into something being typed in: a field, an editable element, a select. */
function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

/** The item a shortcut applies to: the one holding focus, else the first in the queue. */
function shortcutTarget(): QueueItemView | undefined {
  const queued = [...views.values()];
  return queued.find((view) => view.element.contains(document.activeElement)) ?? queued[0];
}

document.addEventListener('keydown', (event) => {
  if (event.defaultPrevented || event.repeat || event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) return;
  const decision = SHORTCUTS[event.key.toLowerCase()];
  if (!decision || !api || page.queueSection.hidden) return;
  const view = shortcutTarget();
  if (!view) return;
  event.preventDefault();
  view.decide(decision);
});

page.refresh.addEventListener('click', () => {
  if (page.refresh.getAttribute('aria-disabled') !== 'true') void loadQueue();
});

// Leaving the page: stop players and revoke every blob: URL. Back from the cache: load the queue again.
window.addEventListener('pagehide', () => clearQueue());
window.addEventListener('pageshow', (event) => {
  if (event.persisted) void loadQueue();
});

// "3 minutes ago" stays true while the page is open.
setInterval(() => {
  for (const view of views.values()) view.refreshTimes();
}, 30_000);

const stored = tokenStore.get();
if (stored) {
  showQueueFor(stored);
  void loadQueue();
} else {
  askForToken();
}
