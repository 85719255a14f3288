/** The demo page's own script: drives the simulated streamer and logs what the badge hears. */

const log = document.querySelector<HTMLOListElement>('#event-log');

function note(text: string): void {
  if (!log) return;
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  log.prepend(item);
  while (log.children.length > 50) log.lastElementChild?.remove();
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
    const result = (await response.json()) as { webhook_status?: number; error?: { message: string } };
    note(response.ok ? `sent ${action}: webhook answered ${result.webhook_status}` : `failed: ${result.error?.message ?? response.status}`);
  } catch (error) {
    note(`failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    busy = false;
    buttons.forEach((button) => button.removeAttribute('aria-disabled'));
  }
}

document.querySelectorAll<HTMLButtonElement>('button[data-action="online"], button[data-action="offline"]').forEach((button) => {
  button.addEventListener('click', () => void simulate(button.dataset['action']!));
});

document.querySelector<HTMLFormElement>('#title-form')?.addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.querySelector<HTMLInputElement>('#title-input');
  void simulate('update', input?.value || undefined);
});

document.querySelector('#demo-badge')?.addEventListener('live-status-change', (event) => {
  const { status, record } = (event as CustomEvent<{ status: string; record: { title: string | null; seq: number } }>).detail;
  note(`badge: ${status}${record.title ? ` "${record.title}"` : ''} (seq ${record.seq})`);
  const hint = document.querySelector<HTMLElement>('#stream-hint');
  if (hint) hint.hidden = status === 'live';
});

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
