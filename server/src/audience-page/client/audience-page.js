/* global document, window, location, fetch, sessionStorage, setTimeout, clearTimeout */
/**
 * The publisher's audience page (issue 27): the publisher enters the admin token or a publisher
 * grant with the `audience` capability (kept in this tab's sessionStorage only, never in a link),
 * the page fetches the broadcast's audience report and draws it with uPlot, a table beside every
 * chart. While the broadcast is live it refetches every `LIVE_REFRESH_MS`, not while the page is
 * hidden, and stops once the broadcast has ended.
 */
import { renderChart } from './audience-chart.js';
import { formatClock } from './audience-format.js';
import { audienceReportView } from './audience-report-view.js';
import { renderTable } from './audience-table.js';

const TOKEN_STORAGE_KEY = 'live-upload.audience-token';
/** How often a live broadcast's report is refetched: the report counts whole minutes. */
const LIVE_REFRESH_MS = 20_000;
const TOKEN_PATTERN = /^[\x21-\x7e]{1,4096}$/;

const $ = (selector) => {
  const element = document.querySelector(selector);
  if (!element) throw new Error(`the page has no ${selector}`);
  return element;
};
const ui = {
  broadcastName: $('#broadcast-name'),
  liveState: $('#live-state'),
  updatedAt: $('#updated-at'),
  tokenEntry: $('#token-entry'),
  tokenForm: $('#token-form'),
  tokenInput: $('#token-input'),
  tokenHeld: $('#token-held'),
  forgetToken: $('#forget-token'),
  error: $('#page-error'),
  report: $('#report'),
  totals: $('#totals'),
  charts: $('#charts'),
};

/** The channel and broadcast this page is about, from `/c/:publisher/:slug/broadcasts/:canonical_id/audience`. */
function pageTarget() {
  const match = /^\/c\/([^/]+)\/([^/]+)\/broadcasts\/([^/]+)\/audience\/?$/.exec(location.pathname);
  if (!match) return undefined;
  const [, publisher, slug, canonicalId] = match.map((part) => decodeURIComponent(part));
  return { publisher, slug, canonicalId };
}

/** sessionStorage can be unavailable (storage disabled); the token then lives in memory only. */
const tokenStore = {
  memory: undefined,
  get() {
    try {
      return sessionStorage.getItem(TOKEN_STORAGE_KEY) ?? this.memory;
    } catch {
      return this.memory;
    }
  },
  set(token) {
    this.memory = token;
    try {
      sessionStorage.setItem(TOKEN_STORAGE_KEY, token);
    } catch {
      // Memory only.
    }
  },
  clear() {
    this.memory = undefined;
    try {
      sessionStorage.removeItem(TOKEN_STORAGE_KEY);
    } catch {
      // Nothing stored.
    }
  },
};

/** Why a request failed, in words, from our `{ error: { code, message } }` bodies. */
async function problemOf(response) {
  let message = '';
  try {
    message = (await response.json())?.error?.message ?? '';
  } catch {
    // Not our JSON error.
  }
  const why = {
    400: 'The address does not name a broadcast',
    401: 'A token is needed, or the grant has expired: enter a fresh one',
    403: 'This token does not open this channel’s audience: use the admin token or a grant of this channel with the audience capability',
    404: 'There is no such broadcast on this channel',
    429: 'Too many requests; the page tries again later',
  }[response.status];
  return `${why ?? `The server answered ${response.status}`}${message ? ` (${message})` : ''}.`;
}

let uPlotModule;
/** uPlot, imported from our own origin at the versioned path the page names. */
async function loadUPlot() {
  uPlotModule ??= import(document.documentElement.dataset.uplotModule).then((module) => module.default);
  return uPlotModule;
}

let drawn = [];
function showError(message) {
  ui.error.textContent = message;
}

/** Replaces what is shown with a new report. */
async function showReport(report) {
  const uPlot = await loadUPlot();
  const view = audienceReportView(report);
  for (const chart of drawn) chart.destroy();
  drawn = [];
  ui.totals.replaceChildren(
    ...view.totals.map((entry) => {
      const group = document.createElement('div');
      const term = document.createElement('dt');
      term.textContent = entry.term;
      const value = document.createElement('dd');
      value.textContent = entry.value;
      group.append(term, value);
      return group;
    }),
  );
  const sections = view.charts.map((chartView) => renderChart(uPlot, chartView));
  const tables = view.tables.map((table) => {
    const section = document.createElement('section');
    section.className = 'card';
    const box = document.createElement('div');
    box.className = 'table-scroll';
    box.tabIndex = 0;
    box.setAttribute('role', 'region');
    box.setAttribute('aria-label', `Table: ${table.caption}`);
    box.append(renderTable(table));
    section.append(box);
    return section;
  });
  // A keyboard user reading a table keeps their place across a live refresh: same table, same scroll.
  const focusedRegion = document.activeElement?.closest?.('.table-scroll');
  const keep = focusedRegion ? { label: focusedRegion.getAttribute('aria-label'), top: focusedRegion.scrollTop, left: focusedRegion.scrollLeft } : undefined;
  ui.charts.replaceChildren(...sections.map((chart) => chart.section), ...tables);
  if (keep) {
    const again = [...ui.charts.querySelectorAll('.table-scroll')].find((region) => region.getAttribute('aria-label') === keep.label);
    if (again) {
      again.focus({ preventScroll: true });
      again.scrollTop = keep.top;
      again.scrollLeft = keep.left;
    }
  }
  ui.report.hidden = false;
  for (const chart of sections) chart.draw();
  drawn = sections;
}

let refreshTimer;
let live = false;

/** Fetches the report (and whether the broadcast is still live), shows it, and plans the next refresh while live. */
async function refresh(target) {
  clearTimeout(refreshTimer);
  refreshTimer = undefined;
  const token = tokenStore.get();
  if (!token) return;
  const channelPath = `/api/v1/channels/${encodeURIComponent(target.publisher)}/${encodeURIComponent(target.slug)}`;
  let response;
  let status;
  try {
    [response, status] = await Promise.all([
      fetch(`${channelPath}/broadcasts/${encodeURIComponent(target.canonicalId)}/audience`, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' }),
      fetch(channelPath, { cache: 'no-store' }).then((answer) => (answer.ok ? answer.json() : undefined)).catch(() => undefined),
    ]);
  } catch {
    showError('The server could not be reached. Check the connection; the page tries again while the broadcast is live.');
    if (live) planRefresh(target);
    return;
  }
  if (!response.ok) {
    ui.report.hidden = true;
    showError(`Could not load the audience: ${await problemOf(response)}`);
    if (response.status === 401 || response.status === 403) showTokenEntry();
    if (live && response.status === 429) planRefresh(target);
    return;
  }
  showError('');
  await showReport(await response.json());
  live = status?.status === 'live' && status?.canonical_id === target.canonicalId;
  // Announced (role=status) only when it changes; the time of each refresh is not.
  const state = live ? `Live: the numbers refresh every ${LIVE_REFRESH_MS / 1000} seconds while this page is open.` : 'The broadcast is not live; these are its final numbers.';
  if (ui.liveState.textContent !== state) ui.liveState.textContent = state;
  ui.updatedAt.textContent = `Updated ${formatClock(Date.now())}.`;
  if (live) planRefresh(target);
}

function planRefresh(target) {
  clearTimeout(refreshTimer);
  // A hidden page waits: `visibilitychange` refreshes when it is seen again.
  if (document.hidden) return;
  refreshTimer = setTimeout(() => void refresh(target), LIVE_REFRESH_MS);
}

function showTokenEntry() {
  ui.tokenEntry.hidden = false;
  ui.tokenHeld.hidden = true;
}

function showTokenHeld() {
  ui.tokenEntry.hidden = true;
  ui.tokenHeld.hidden = false;
}

function start() {
  const target = pageTarget();
  if (!target) {
    showError('This address does not name a broadcast: it should be /c/{publisher}/{slug}/broadcasts/{canonical id}/audience.');
    return;
  }
  document.title = `Audience of ${target.publisher}/${target.slug} · live-upload`;
  ui.broadcastName.textContent = `Channel ${target.publisher}/${target.slug}, broadcast ${target.canonicalId}`;

  ui.tokenForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = ui.tokenInput.value.trim();
    if (!TOKEN_PATTERN.test(token)) {
      showError('Enter the token exactly as you were given it, without spaces.');
      ui.tokenInput.focus();
      return;
    }
    tokenStore.set(token);
    ui.tokenInput.value = '';
    showTokenHeld();
    void refresh(target);
  });
  ui.forgetToken.addEventListener('click', () => {
    tokenStore.clear();
    clearTimeout(refreshTimer);
    live = false;
    ui.report.hidden = true;
    ui.liveState.textContent = 'The token was forgotten for this tab.';
    ui.updatedAt.textContent = '';
    showTokenEntry();
    ui.tokenInput.focus();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) clearTimeout(refreshTimer);
    else if (live) void refresh(target);
  });
  window.addEventListener('pagehide', () => clearTimeout(refreshTimer));

  if (tokenStore.get()) {
    showTokenHeld();
    void refresh(target);
  }
}

start();
