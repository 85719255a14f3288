/**
 * The publisher's audience page (issue 27) against a real `main.ts` (demo mode, in-memory bus):
 * beacons posted to `/api/v1/beacons` as the element sends them, folded by the audience worker,
 * then the page opened in Chromium with a publisher grant typed from the keyboard: uPlot draws
 * every chart on a canvas, the tables beside them show the report's numbers, axe is clean, the
 * live view refetches while the broadcast is live and stops once it ended, and hostile or
 * refused requests (no grant of this capability, a bad token, a malformed or foreign broadcast,
 * markup in the address) end in a clear message on the page, never in script running.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createCanonicalId } from '@live-upload/schema';
import type { AudienceReport } from '../../server/src/audience/index.js';
import { launchChromium } from '../support/browser.js';
import { eventually } from '../support/eventually.js';
import { startMain, type MainProcess } from '../support/main-process.js';
import { axeViolations, describeViolations, readAxeSource } from './helpers/axe.js';
import { collectPageErrors } from './helpers/badge.js';
import { tabTo } from './helpers/keyboard.js';

const CHANNEL = 'acme/morning-show';
const TOKEN_LABEL = 'input:Admin token or publisher grant';
/** The page refetches a live report every 20 s; one refresh and a bit. */
const LIVE_REFRESH_WAIT_MS = 45_000;

interface Server {
  readonly main: MainProcess;
  readonly adminToken: string;
}

async function startServer(t: TestContext): Promise<Server> {
  const main = await startMain({ STATUS_RATE_LIMIT_PER_MINUTE: '10000', BEACON_RATE_LIMIT_PER_MINUTE: '10000', OFFLINE_GRACE_MS: '1000' });
  t.after(() => main.kill());
  const adminToken = /admin token for this process: (\S+)/.exec(main.output())?.[1];
  assert.ok(adminToken, `main.ts printed an admin token; output:\n${main.output()}`);
  return { main, adminToken };
}

async function grant(server: Server, capabilities: string[]): Promise<string> {
  const response = await fetch(`${server.main.url}/api/v1/channels/${CHANNEL}/publisher-grants`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ capabilities }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { token: string }).token;
}

/** One beacon as the element sends it (`navigator.sendBeacon` posts text/plain). */
async function beacon(server: Server, body: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${server.main.url}/api/v1/beacons`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ channel: CHANNEL, surface: 'landing', ...body }) });
  assert.equal(response.status, 202, await response.text());
}

/**
 * Three viewing sessions of `canonicalId`: two from Twitch, one direct; one clip and one upload.
 * Resolves with the report once the worker has folded them all.
 */
async function seedAudience(server: Server, canonicalId: string): Promise<AudienceReport> {
  const sessions = [0, 1, 2].map(() => randomBytes(18).toString('base64url'));
  const [fromTwitch, alsoFromTwitch, direct] = sessions as [string, string, string];
  await beacon(server, { canonical_id: canonicalId, event: 'start', session: fromTwitch, referrer: 'https://www.twitch.tv/acme' });
  await beacon(server, { canonical_id: canonicalId, event: 'start', session: alsoFromTwitch, referrer: 'https://www.twitch.tv/acme' });
  await beacon(server, { canonical_id: canonicalId, event: 'start', session: direct });
  await beacon(server, { canonical_id: canonicalId, event: 'clip', session: fromTwitch, referrer: 'https://www.twitch.tv/acme', n: 1 });
  await beacon(server, { canonical_id: canonicalId, event: 'upload', session: direct, n: 1 });
  return eventually(
    async () => {
      const response = await fetch(audienceApi(server, canonicalId), { headers: { Authorization: `Bearer ${server.adminToken}` } });
      assert.equal(response.status, 200);
      const report = (await response.json()) as AudienceReport;
      const twitch = report.by_source['twitch']?.viewer_minutes ?? 0;
      const direct = report.by_source['direct']?.viewer_minutes ?? 0;
      return report.clips === 1 && report.uploads === 1 && twitch >= 2 && direct >= 1 ? report : undefined;
    },
    'the audience worker to fold the beacons',
    20_000,
    { intervalMs: 200 },
  );
}

const audienceApi = (server: Server, canonicalId: string) => `${server.main.url}/api/v1/channels/${CHANNEL}/broadcasts/${encodeURIComponent(canonicalId)}/audience`;
const audiencePage = (server: Server, canonicalId: string) => `${server.main.url}/c/${CHANNEL}/broadcasts/${encodeURIComponent(canonicalId)}/audience`;

/** The rows of the table with `caption`: each row's header and cells, as the page shows them. */
function tableRows(page: Page, caption: string): Promise<Array<{ header: string; cells: string[] }>> {
  return page.evaluate((wanted) => {
    const table = [...document.querySelectorAll('table')].find((candidate) => candidate.caption?.textContent === wanted);
    if (!table) return [];
    return [...table.tBodies[0]!.rows].map((row) => ({ header: row.cells[0]!.textContent ?? '', cells: [...row.cells].slice(1).map((cell) => cell.textContent ?? '') }));
  }, caption);
}

describe('the audience page served by main.ts', () => {
  let browser: Browser | undefined;
  let axeSource: string;

  before(
    async () => {
      axeSource = await readAxeSource();
      browser = await launchChromium();
    },
    { timeout: 60_000 },
  );
  after(() => browser?.close(), { timeout: 15_000 });

  async function openPage(t: TestContext, url: string): Promise<{ page: Page; errors: string[] }> {
    const context = await browser!.newContext({ viewport: { width: 1200, height: 900 }, locale: 'en-US' });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(url, { waitUntil: 'load', timeout: 10_000 });
    return { page, errors };
  }

  /** Tab to the token field, type the token and press Enter, as a keyboard user does. */
  async function enterToken(page: Page, token: string): Promise<void> {
    await tabTo(page, TOKEN_LABEL);
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');
  }

  test('draws the report with a table beside every chart, the same numbers, axe clean; live refetches and stops when the broadcast ends', { timeout: 180_000 }, async (t) => {
    const server = await startServer(t);
    // Live: the simulated streamer goes live, and the beacons are for that broadcast.
    const online = await fetch(`${server.main.url}/demo/api/simulate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'online' }) });
    assert.equal(online.status, 202, await online.text());
    const canonicalId = await eventually(async () => {
      const status = (await (await fetch(`${server.main.url}/api/v1/channels/${CHANNEL}`)).json()) as { status: string; canonical_id: string | null };
      return status.status === 'live' ? status.canonical_id : undefined;
    }, 'the demo channel to go live');
    assert.ok(canonicalId);
    const report = await seedAudience(server, canonicalId);
    const publisherGrant = await grant(server, ['audience']);

    const response = await fetch(audiencePage(server, canonicalId));
    assert.equal(response.status, 200);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/, 'no inline script is allowed');
    const html = await response.text();
    const uPlotPath = /data-uplot-module="([^"]+)"/.exec(html)?.[1];
    assert.ok(uPlotPath?.startsWith('/audience-page/uplot@'), `uPlot from our origin, versioned: ${uPlotPath}`);
    const uPlotModule = await fetch(`${server.main.url}${uPlotPath}`);
    assert.equal(uPlotModule.status, 200);
    assert.match(uPlotModule.headers.get('cache-control') ?? '', /max-age=31536000/);
    await uPlotModule.arrayBuffer();

    const { page, errors } = await openPage(t, audiencePage(server, canonicalId));
    await enterToken(page, publisherGrant);
    await page.locator('#report:not([hidden])').waitFor({ timeout: 10_000 });

    // Every chart drew a canvas, and has a table beside it.
    const charts = page.locator('[data-chart]');
    assert.equal(await charts.count(), 3);
    for (let index = 0; index < 3; index += 1) {
      const chart = charts.nth(index);
      await chart.locator('canvas').first().waitFor({ timeout: 5_000 });
      assert.equal(await chart.locator('table caption').count(), 1, 'a captioned table beside the chart');
      assert.ok((await chart.locator('th[scope="col"]').count()) >= 2);
    }

    // The totals and tables say the report's numbers.
    const totals = await page.locator('#totals dd').allTextContents();
    assert.deepEqual(totals, [String(report.peak_concurrent.ours.viewers), `${report.watch_time_s / 60} min`, '1', '1']);
    const bySource = await tableRows(page, 'Audience by referral source');
    const rowOf = (rows: Array<{ header: string; cells: string[] }>, header: string) => rows.find((row) => row.header === header)?.cells;
    assert.equal(rowOf(bySource, 'Twitch')?.[0], String(report.by_source['twitch']!.viewer_minutes));
    assert.equal(rowOf(bySource, 'Twitch')?.[3], '1', 'the clip came from a Twitch viewer');
    assert.equal(rowOf(bySource, 'Direct')?.[0], String(report.by_source['direct']!.viewer_minutes));
    assert.equal(rowOf(bySource, 'Direct')?.[4], '1', 'the upload came from the direct viewer');
    const perMinute = await tableRows(page, 'Viewers by referral source, per minute');
    assert.equal(perMinute.length, report.minutes.length);
    assert.deepEqual(
      perMinute.map((row) => Number(row.cells[0])),
      report.minutes.map((minute) => minute.viewers),
    );
    const made = await tableRows(page, 'Clips and uploads made, per minute');
    assert.equal(made.reduce((sum, row) => sum + Number(row.cells[0]), 0), 1);
    assert.equal(made.reduce((sum, row) => sum + Number(row.cells[1]), 0), 1);
    const peaks = await tableRows(page, 'Peak concurrent viewers, ours and the providers’');
    assert.equal(rowOf(peaks, 'Ours (beacons)')?.[0], String(report.peak_concurrent.ours.viewers));

    const results = await axeViolations(page, axeSource);
    assert.equal(results.violations.length, 0, describeViolations(results));

    // Live: it says so, and refetches on its own.
    assert.match((await page.locator('#live-state').textContent()) ?? '', /^Live: the numbers refresh every 20 seconds/);
    // A keyboard user reading a table keeps their place across the refresh.
    await page.locator('[aria-label="Table: Audience by referral source"]').focus();
    const firstUpdate = await page.locator('#updated-at').textContent();
    assert.match(firstUpdate ?? '', /^Updated /);
    await eventually(async () => (await page.locator('#updated-at').textContent()) !== firstUpdate, 'a live refresh', LIVE_REFRESH_WAIT_MS, { intervalMs: 500 });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Table: Audience by referral source');

    // The broadcast ends: the next refresh says so, and no refresh follows.
    const offline = await fetch(`${server.main.url}/demo/api/simulate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'offline' }) });
    assert.equal(offline.status, 202, await offline.text());
    await eventually(async () => /not live/.test((await page.locator('#live-state').textContent()) ?? ''), 'the page to see the end', LIVE_REFRESH_WAIT_MS, { intervalMs: 500 });
    assert.deepEqual(errors, []);
  });

  test('refusals and hostile addresses end in a clear message on the page, and run nothing', { timeout: 90_000 }, async (t) => {
    const server = await startServer(t);
    const ended = createCanonicalId({ publisher: 'acme', slug: 'morning-show' }, Date.now() - 60_000);
    const goLiveOnly = await grant(server, ['go-live']);
    const audience = await grant(server, ['audience']);

    const cases: Array<{ what: string; canonicalId: string; token: string; message: RegExp }> = [
      { what: 'a grant without the audience capability', canonicalId: ended, token: goLiveOnly, message: /does not open this channel’s audience.*audience capability/ },
      { what: 'a token that is not one', canonicalId: ended, token: 'not-a-real-token', message: /does not open this channel’s audience.*not a publisher grant this server issued/ },
      { what: 'a malformed broadcast id', canonicalId: 'stream:acme:morning-show:nope', token: audience, message: /does not name a broadcast/ },
      { what: 'another channel’s broadcast', canonicalId: createCanonicalId({ publisher: 'other', slug: 'show' }, Date.now() - 60_000), token: audience, message: /no such broadcast/ },
      { what: 'markup in the address', canonicalId: '<img src=x onerror="window.__xss=1">', token: audience, message: /does not name a broadcast/ },
    ];
    for (const { what, canonicalId, token, message } of cases) {
      const { page, errors } = await openPage(t, audiencePage(server, canonicalId));
      await enterToken(page, token);
      await eventually(async () => message.test((await page.locator('#page-error').textContent()) ?? ''), `${what}: the message ${message}`, 10_000, { intervalMs: 100 });
      assert.equal(await page.locator('#report').isHidden(), true, `${what}: no report shown`);
      assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined, `${what}: nothing ran`);
      assert.equal(await page.locator('img').count(), 0, `${what}: the address is shown as text`);
      const results = await axeViolations(page, axeSource);
      assert.equal(results.violations.length, 0, `${what}: ${describeViolations(results)}`);
      assert.deepEqual(errors, [], what);
    }

    // A broadcast with no viewers yet is not an error: empty tables say so.
    const { page } = await openPage(t, audiencePage(server, ended));
    await enterToken(page, audience);
    await page.locator('#report:not([hidden])').waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#page-error').textContent(), '');
    assert.match((await page.locator('[data-chart] td').first().textContent()) ?? '', /No data yet/);
  });
});
