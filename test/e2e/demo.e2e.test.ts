/**
 * The demo as a newcomer meets it: `node --import tsx server/src/main.ts` (what `npm start`
 * runs after building), its printed URL opened in Chromium, the simulated streamer driven by
 * mouse and by keyboard, axe on the LIVE page, a clean SIGTERM with the page connected, and
 * production refusing to serve any of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureBrowserBundles, launchChromium } from '../support/browser.js';
import { axeViolations, describeViolations, readAxeSource } from './helpers/axe.js';
import { badgePillText, collectPageErrors, waitForBadge } from './helpers/badge.js';
import { focused, tabTo } from './helpers/keyboard.js';
import { startMain, type MainProcess } from '../support/main-process.js';

const GRACE_MS = 500;
const BADGE = '#demo-badge';

/** Starts main.ts in demo mode (the default outside production) for one test; stopped when the test ends. */
async function startDemo(t: TestContext, env: Record<string, string> = {}): Promise<MainProcess> {
  const main = await startMain({ OFFLINE_GRACE_MS: String(GRACE_MS), ...env });
  t.after(() => main.kill());
  return main;
}

/** The demo's event log has an entry matching `text` (it logs each simulator answer). */
function waitForLog(page: Page, text: RegExp): Promise<void> {
  return page.locator('#event-log li').filter({ hasText: text }).first().waitFor({ state: 'attached', timeout: 10_000 });
}

describe('the demo served by main.ts', () => {
  let browser: Browser | undefined;
  let axeSource: string;

  before(
    async () => {
      // `npm start` builds first; so does this (only files whose bytes changed are written).
      await ensureBrowserBundles();
      axeSource = await readAxeSource();
      browser = await launchChromium();
    },
    { timeout: 60_000 },
  );

  after(() => browser?.close(), { timeout: 15_000 });

  /**
   * Opens the demo page. `errors` collects uncaught errors and console errors (a CSP refusal,
   * a 404 favicon), so a test can assert the page ran clean under its own headers.
   */
  async function openDemo(t: TestContext, main: MainProcess, path = '/'): Promise<{ page: Page; errors: string[] }> {
    const context = await browser!.newContext({ viewport: { width: 1100, height: 800 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    page.on('console', (message) => {
      // The player's own fetches of a stream that just stopped are the element's business (a 404 playlist).
      if (message.type() === 'error' && !new URL(message.location().url || main.url).pathname.startsWith('/demo/live/')) {
        errors.push(`console: ${message.text()} (${message.location().url})`);
      }
    });
    await page.goto(`${main.url}${path}`, { waitUntil: 'load', timeout: 10_000 });
    await waitForBadge(page, BADGE, /^(Offline|Hors ligne)$/);
    return { page, errors };
  }

  test('Go live, Change title and Go offline drive the badge; offline shows after the grace window', { timeout: 60_000 }, async (t) => {
    const main = await startDemo(t);
    assert.match(main.url, /^http:\/\/127\.0\.0\.1:[1-9]\d*$/, 'the printed URL carries the real port');
    const { page, errors } = await openDemo(t, main);

    await page.getByRole('button', { name: 'Go live' }).click();
    await waitForBadge(page, BADGE, /^Live\b/);
    assert.equal(await badgePillText(page, BADGE), 'LIVE');
    await waitForLog(page, /sent online: webhook answered 204/);

    const title = 'Newcomer test: does the title change?';
    await page.getByLabel('Title').fill(title);
    await page.getByRole('button', { name: 'Change title' }).click();
    await waitForBadge(page, BADGE, new RegExp(`^Live: ${title.replace('?', '\\?')}$`));
    await waitForLog(page, /sent update: webhook answered 204/);

    const pressed = performance.now();
    await page.getByRole('button', { name: 'Go offline' }).click();
    await waitForBadge(page, BADGE, /^Offline$/, GRACE_MS + 10_000);
    const heldMs = performance.now() - pressed;
    assert.ok(heldMs >= GRACE_MS - 100, `offline was held for the ${GRACE_MS} ms grace window, not ${Math.round(heldMs)} ms`);
    assert.equal(await badgePillText(page, BADGE), 'OFFLINE');
    assert.deepEqual(errors, []);
  });

  test('the streamer panel shows Live, then the grace window counting down, then Offline; Go live takes the typed title', { timeout: 60_000 }, async (t) => {
    const graceMs = 6_000;
    const main = await startDemo(t, { OFFLINE_GRACE_MS: String(graceMs) });
    const { page, errors } = await openDemo(t, main);
    const state = page.locator('#streamer-state');
    const goLive = page.getByRole('button', { name: 'Go live' });
    const goOffline = page.getByRole('button', { name: 'Go offline' });
    await state.filter({ hasText: /^\s*Offline\s+You are not streaming\.\s*$/ }).waitFor({ timeout: 5_000 });
    assert.equal(await goLive.getAttribute('aria-pressed'), 'false');
    assert.equal(await goOffline.getAttribute('aria-pressed'), 'true');

    // The title typed before going live is the title the badge shows, with no Change title.
    const title = 'Typed before going live';
    await page.getByLabel('Title').fill(title);
    await goLive.click();
    await waitForBadge(page, BADGE, new RegExp(`^Live: ${title}$`));
    await state.filter({ hasText: /^\s*Live\s+You are streaming\.\s*$/ }).waitFor({ timeout: 5_000 });
    assert.equal(await goLive.getAttribute('aria-pressed'), 'true');
    assert.equal(await goOffline.getAttribute('aria-pressed'), 'false');
    await page.locator('#streamer-announcer').filter({ hasText: /^Live\.$/ }).waitFor({ state: 'attached', timeout: 5_000 });

    await goOffline.click();
    const counting = state.filter({ hasText: /Offline in (\d+) s/ });
    await counting.waitFor({ timeout: 5_000 });
    const first = Number(/Offline in (\d+) s/.exec((await counting.textContent()) ?? '')?.[1]);
    assert.ok(first >= 1 && first <= graceMs / 1000, `the countdown starts within the ${graceMs / 1000} s grace window, at ${first}`);
    assert.equal(await badgePillText(page, BADGE), 'LIVE', 'the badge holds Live meanwhile');
    assert.equal(await goOffline.getAttribute('aria-pressed'), 'true');
    await page.locator('#streamer-announcer').filter({ hasText: /^Stream stopped\. The badge shows Offline in \d+ seconds\.$/ }).waitFor({ state: 'attached' });
    // It counts down: a later second shows up while the badge is still Live.
    await page.waitForFunction(
      (start) => Number(/Offline in (\d+) s/.exec(document.querySelector('#streamer-state')?.textContent ?? '')?.[1] ?? start) < start,
      first,
      { timeout: 5_000 },
    );
    await waitForBadge(page, BADGE, /^Offline$/, graceMs + 10_000);
    await state.filter({ hasText: /^\s*Offline\s+You are not streaming\.\s*$/ }).waitFor({ timeout: 5_000 });
    await page.locator('#streamer-announcer').filter({ hasText: /^Offline\.$/ }).waitFor({ state: 'attached' });
    assert.deepEqual(errors, []);
  });

  test('the language picker sets lang on the page and keeps it in the address; the widgets speak it at once and after a reload', { timeout: 60_000 }, async (t) => {
    const main = await startDemo(t);
    const { page, errors } = await openDemo(t, main);
    const picker = page.getByLabel('Language of the widgets');
    await picker.selectOption({ label: 'Français' });
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
    await waitForBadge(page, BADGE, /^Hors ligne$/);
    assert.equal(new URL(page.url()).searchParams.get('lang'), 'fr');
    // The page's own words stay English, and say so.
    assert.equal(await page.locator('#simulator').getAttribute('lang'), 'en');
    assert.equal(await page.locator('header').getAttribute('lang'), 'en');

    await page.reload({ waitUntil: 'load' });
    assert.equal(await picker.inputValue(), 'fr');
    await waitForBadge(page, BADGE, /^Hors ligne$/);
    await page.getByRole('button', { name: 'Go live' }).click();
    await waitForBadge(page, BADGE, /^En direct\b/);

    await picker.selectOption({ label: 'English' });
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await waitForBadge(page, BADGE, /^Live\b/);
    assert.equal(new URL(page.url()).searchParams.get('lang'), null, 'English, the page\'s own language, needs no parameter');
    assert.deepEqual(errors, []);
  });

  test('the simulated streamer works from the keyboard: Tab reaches every control, Enter activates it', { timeout: 60_000 }, async (t) => {
    const main = await startDemo(t);
    const { page } = await openDemo(t, main);

    await tabTo(page, 'button:Go live');
    await page.keyboard.press('Enter');
    await waitForBadge(page, BADGE, /^Live\b/);
    await waitForLog(page, /sent online/);
    assert.equal(await focused(page), 'button:Go live', 'focus stays on the button that was pressed');

    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'input:Title');
    const title = 'Typed with the keyboard';
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(title);
    await page.keyboard.press('Enter');
    await waitForBadge(page, BADGE, new RegExp(`^Live: ${title}$`));
    await waitForLog(page, /sent update/);
    assert.equal(await focused(page), 'input:Title', 'focus stays in the title field after submitting it');

    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'button:Change title');
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'button:Go offline');
    await page.keyboard.press('Enter');
    await waitForBadge(page, BADGE, /^Offline$/, GRACE_MS + 10_000);
    await waitForLog(page, /sent offline/);
    assert.equal(await focused(page), 'button:Go offline', 'focus stays on the button that was pressed');
  });

  test('axe finds no accessibility violations on the demo page while live, in light and dark mode', { timeout: 60_000 }, async (t) => {
    const main = await startDemo(t);
    const { page } = await openDemo(t, main);
    await page.getByRole('button', { name: 'Go live' }).click();
    await waitForBadge(page, BADGE, /^Live\b/);
    await waitForLog(page, /sent online/);

    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      const results = await axeViolations(page, axeSource);
      assert.equal(results.violations.length, 0, `axe violations in ${colorScheme} mode:\n${describeViolations(results)}`);
    }
  });

  test('SIGTERM while a page holds a live-events connection exits with code 0 within 10 s', { timeout: 60_000 }, async (t) => {
    const main = await startDemo(t);
    await openDemo(t, main);
    const metrics = await (await fetch(`${main.url}/metrics`)).text();
    const clients = Number(/^live_upload_sse_clients(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1] ?? 'NaN');
    assert.ok(clients >= 1, `the page's SSE connection is open (live_upload_sse_clients ${clients})`);

    const exit = await main.stop('SIGTERM', 10_000);
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, `exit after SIGTERM; output:\n${main.output()}`);
    assert.ok(exit.elapsedMs < 10_000, `exited in ${exit.elapsedMs} ms`);
    assert.match(main.output(), /"msg":"stopped"/, 'it went through the clean shutdown path');
  });

  test('NODE_ENV=production with its secrets serves neither the demo page nor the simulator', { timeout: 60_000 }, async (t) => {
    const main = await startDemo(t, {
      NODE_ENV: 'production',
      TWITCH_EVENTSUB_SECRET: 'production-eventsub-secret-0123',
      ADMIN_TOKEN: 'production-admin-token-0123456789',
      UPLOAD_TOKEN_SECRET: 'production-upload-token-secret-0123456789',
      TOKEN_ENCRYPTION_KEYS: `prod-1:${Buffer.alloc(32, 9).toString('base64')}`,
      ALLOW_EPHEMERAL_BUS: '1',
    });
    assert.equal((await fetch(`${main.url}/healthz`)).status, 200, 'the server itself is up');
    assert.doesNotMatch(main.output(), /admin token/, 'a configured admin token is never printed');

    const simulate = await fetch(`${main.url}/demo/api/simulate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ action: 'online' }),
    });
    assert.equal(simulate.status, 404);
    assert.match(simulate.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(((await simulate.json()) as { error: { code: string } }).error.code, 'not_found');

    for (const path of ['/', '/demo.js', '/moderation', '/moderation.js']) {
      const response = await fetch(`${main.url}${path}`);
      assert.equal(response.status, 404, `${path} is not served in production`);
      await response.body?.cancel();
    }
    // The badge itself is the product: any page on any origin loads it from the server.
    const badge = await fetch(`${main.url}/element/live-badge.js`, { headers: { Origin: 'https://customer.example' } });
    assert.equal(badge.status, 200);
    assert.equal(badge.headers.get('access-control-allow-origin'), '*');
    assert.match(badge.headers.get('content-type') ?? '', /javascript/);
    await badge.body?.cancel();
    const exit = await main.stop('SIGTERM', 10_000);
    assert.equal(exit.code, 0);
  });
});
