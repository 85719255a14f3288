/**
 * A channel's landing page (`/c/:publisher/:slug`) as a viewer keeps it open in Chromium,
 * against a real `main.ts` in demo mode: the channel is named once, the broadcast title is
 * shown once (by the badge), and nothing on the page contradicts the badge when the status
 * changes after the page was rendered; axe is clean under the page's own CSP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureBrowserBundles, launchChromium } from '../support/browser.js';
import { startMain } from '../support/main-process.js';
import { axeViolations, describeViolations, readAxeSource } from './helpers/axe.js';
import { collectPageErrors, waitForBadge } from './helpers/badge.js';

const GRACE_MS = 500;
const BADGE = 'live-upload live-badge';

/** What a viewer reads on the page: the light DOM's text and the badge's visible parts. */
async function visibleText(page: Page): Promise<{ page: string; badgeTitle: string }> {
  return {
    page: await page.locator('main').innerText(),
    badgeTitle: (await page.locator(BADGE).locator('[part="title"]').innerText().catch(() => '')).trim(),
  };
}

describe('the landing page served by main.ts', () => {
  let browser: Browser | undefined;
  let axeSource: string;

  before(
    async () => {
      await ensureBrowserBundles();
      axeSource = await readAxeSource();
      browser = await launchChromium();
    },
    { timeout: 60_000 },
  );
  after(() => browser?.close(), { timeout: 15_000 });

  test('names the channel once, shows the broadcast title once, and never contradicts the badge after a change', { timeout: 60_000 }, async (t) => {
    const main = await startMain({ OFFLINE_GRACE_MS: String(GRACE_MS) });
    t.after(() => main.kill());
    const simulate = async (body: Record<string, string>) => {
      const response = await fetch(`${main.url}/demo/api/simulate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(response.status, 202);
      await response.arrayBuffer();
    };
    const context = await browser!.newContext({ viewport: { width: 1000, height: 800 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) errors.push(message.text());
    });

    // Rendered while offline, then the channel goes live with the page open.
    await page.goto(`${main.url}/c/acme/morning-show`, { waitUntil: 'load', timeout: 10_000 });
    await waitForBadge(page, BADGE, /^Offline$/);
    const tabTitle = await page.title();
    assert.equal(tabTitle, 'Acme Morning Show · live-upload');
    assert.deepEqual(await page.locator('h1').allInnerTexts(), ['Acme Morning Show']);
    assert.equal([...(await visibleText(page)).page.matchAll(/Acme Morning Show/g)].length, 1, 'the channel is named once');

    const title = 'Morning news from the landing page';
    await simulate({ action: 'online', title });
    await waitForBadge(page, BADGE, new RegExp(`^Live: ${title}$`));
    const live = await visibleText(page);
    assert.equal(live.badgeTitle, title, 'the badge shows the broadcast title');
    assert.ok(!live.page.includes(title), `the page does not repeat it: ${JSON.stringify(live.page)}`);
    assert.doesNotMatch(live.page, /offline/i, 'nothing on the page still says offline');
    assert.equal(await page.title(), tabTitle, 'the tab title holds no status to go stale');
    const results = await axeViolations(page, axeSource);
    assert.equal(results.violations.length, 0, `axe violations while live:\n${describeViolations(results)}`);

    await simulate({ action: 'offline' });
    await waitForBadge(page, BADGE, /^Offline$/, GRACE_MS + 10_000);
    assert.doesNotMatch((await visibleText(page)).page, /live now/i, 'nothing on the page still says live');
    assert.deepEqual(errors, []);
  });
});
