/**
 * The demo page's own script: drives the simulated streamer, shows its state (Live, the grace
 * window counting down, Offline), logs what the badge hears, and switches the widgets' language.
 */
import { followLanguagePicker } from './language-picker.js';
import { countdownSeconds, STREAMER_LABELS, streamerState, type StreamerState, type StreamerView } from './streamer-state.js';

const log = document.querySelector<HTMLOListElement>('#event-log');

function note(text: string): void {
  if (!log) return;
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString('en')} ${text}`;
  log.prepend(item);
  while (log.children.length > 50) log.lastElementChild?.remove();
}

/** What the panel knows: the channel's real status, and the streamer's last action with the grace deadline (performance time). */
const known = {
  channelStatus: undefined as string | undefined,
  streaming: undefined as boolean | undefined,
  offlineAt: null as number | null,
  announced: 'unknown' as StreamerState,
};
let ticker: ReturnType<typeof setInterval> | undefined;

function learnStreamer(view: StreamerView): void {
  known.streaming = view.streaming;
  known.offlineAt = view.offline_in_ms === null ? null : performance.now() + view.offline_in_ms;
  render();
}

function render(): void {
  const offlineInMs = known.offlineAt === null ? null : known.offlineAt - performance.now();
  const state = streamerState(known.channelStatus, known.streaming, offlineInMs);
  const seconds = offlineInMs === null ? 0 : countdownSeconds(offlineInMs);
  const line = document.querySelector<HTMLElement>('#streamer-state');
  const pill = document.querySelector<HTMLElement>('#streamer-pill');
  const detail = document.querySelector<HTMLElement>('#streamer-detail');
  if (line) line.dataset['state'] = state;
  if (pill) pill.textContent = STREAMER_LABELS.pill[state];
  if (detail) {
    const text = STREAMER_LABELS.detail[state];
    detail.textContent = typeof text === 'function' ? text(seconds) : text;
  }
  // Heard once per change of state, never every second.
  if (state !== known.announced) {
    known.announced = state;
    const announcer = document.querySelector<HTMLElement>('#streamer-announcer');
    const text = STREAMER_LABELS.announce[state];
    if (announcer) announcer.textContent = typeof text === 'function' ? text(seconds) : text;
  }
  const streaming = known.streaming ?? known.channelStatus === 'live';
  document.querySelector('button[data-action="online"]')?.setAttribute('aria-pressed', String(streaming));
  document.querySelector('button[data-action="offline"]')?.setAttribute('aria-pressed', String(!streaming));
  if (state === 'grace' && ticker === undefined) ticker = setInterval(render, 250);
  if (state !== 'grace' && ticker !== undefined) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

let busy = false;

async function simulate(action: string, title?: string): Promise<void> {
  if (busy) return;
  busy = true;
  // aria-disabled, not disabled: disabling the focused button would drop keyboard focus to the page.
  const buttons = document.querySelectorAll<HTMLButtonElement>('#simulator button');
  buttons.forEach((button) => button.setAttribute('aria-disabled', 'true'));
  try {
    const response = await fetch('/demo/api/simulate', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(title === undefined ? { action } : { action, title }),
    });
    const result = (await response.json()) as { webhook_status?: number; streamer?: StreamerView; error?: { message: string } };
    if (result.streamer) learnStreamer(result.streamer);
    note(response.ok ? `sent ${action}: webhook answered ${result.webhook_status}` : `failed: ${result.error?.message ?? response.status}`);
  } catch {
    note(`failed: the server could not be reached`);
  } finally {
    busy = false;
    buttons.forEach((button) => button.removeAttribute('aria-disabled'));
  }
}

/** The Title box, trimmed; undefined when empty (the server keeps the title it has). */
function typedTitle(): string | undefined {
  return document.querySelector<HTMLInputElement>('#title-input')?.value.trim() || undefined;
}

document.querySelector('button[data-action="online"]')?.addEventListener('click', () => void simulate('online', typedTitle()));
document.querySelector('button[data-action="offline"]')?.addEventListener('click', () => void simulate('offline'));

document.querySelector<HTMLFormElement>('#title-form')?.addEventListener('submit', (event) => {
  event.preventDefault();
  void simulate('update', typedTitle());
});

function learnChannelStatus(status: string): void {
  const hint = document.querySelector<HTMLElement>('#stream-hint');
  if (hint) hint.hidden = status === 'live';
  known.channelStatus = status;
  // Offline for real: the countdown is over.
  if (status !== 'live') known.offlineAt = null;
  render();
}

/** The broadcast whose audience the page links to: the current one, else the last one this page saw. */
let audienceBroadcast: string | undefined;

/**
 * Points the Audience card's link at the publisher's audience page of the broadcast the badge
 * shows (its record from the live-status stream carries the canonical id).
 */
function learnBroadcast(channel: string, status: string, canonicalId: unknown): void {
  if (typeof canonicalId === 'string' && canonicalId.startsWith('stream:')) audienceBroadcast = canonicalId;
  const link = document.querySelector<HTMLAnchorElement>('#audience-link');
  const none = document.querySelector<HTMLElement>('#audience-none');
  if (!link || !audienceBroadcast) return;
  link.href = `/c/${channel}/broadcasts/${encodeURIComponent(audienceBroadcast)}/audience`;
  link.textContent = status === 'live' ? 'Open the audience page of this broadcast' : 'Open the audience page of the last broadcast';
  link.hidden = false;
  if (none) none.hidden = true;
}

type BadgeRecord = { channel: string; title: string | null; seq: number; canonical_id?: unknown };
const badge = document.querySelector<HTMLElement & { record?: BadgeRecord }>('#demo-badge');
badge?.addEventListener('live-status-change', (event) => {
  const { status, record } = (event as CustomEvent<{ status: string; record: BadgeRecord }>).detail;
  note(`badge: ${status}${record.title ? ` "${record.title}"` : ''} (seq ${record.seq})`);
  learnChannelStatus(status);
  learnBroadcast(record.channel, status, record.canonical_id);
});
// The badge may have heard its first status before this script ran: it reflects it as `status`.
const statusSoFar = badge?.getAttribute('status');
if (statusSoFar) learnChannelStatus(statusSoFar);
if (statusSoFar && badge?.record) learnBroadcast(badge.record.channel, statusSoFar, badge.record.canonical_id);

const upload = document.querySelector('#demo-upload');
upload?.addEventListener('live-clip-ready', (event) => {
  const { source, durationMs } = (event as CustomEvent<{ source: string; durationMs: number }>).detail;
  note(`player: ${source} of ${(durationMs / 1000).toFixed(1)} s ready to trim and upload`);
});
upload?.addEventListener('live-upload-complete', (event) => {
  const { uploadId, status } = (event as CustomEvent<{ uploadId: string; status: string }>).detail;
  note(`player: upload ${uploadId} is in; the server says ${status}`);
});
upload?.addEventListener('live-error', (event) => {
  note(`player: ${(event as CustomEvent<{ message: string }>).detail.message}`);
});

followLanguagePicker(document.querySelector<HTMLSelectElement>('#language-picker'));

void fetch('/demo/api/streamer', { cache: 'no-store' })
  .then(async (response) => (response.ok ? learnStreamer((await response.json()) as StreamerView) : undefined))
  .catch(() => undefined);
