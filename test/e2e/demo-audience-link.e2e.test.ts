/**
 * A newcomer finds the audience page from the demo (issue 27): `main.ts` in demo mode (what
 * `npm start` runs), the header's Audience link to the Audience card, and once the simulated
 * streamer is live the card's link to the publisher's audience page of that very broadcast,
 * which opens and asks for the token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { ensureBrowserBundles, launchChromium } from '../support/browser.js';
import { startMain } from '../support/main-process.js';
import { collectPageErrors, waitForBadge } from './helpers/badge.js';

const BADGE = '#demo-badge';
const CHANNEL = 'acme/morning-show';

describe('the demo links to the audience page', () => {
  let browser: Browser | undefined;

  before(
    async () => {
      await ensureBrowserBundles();
      browser = await launchChromium();
    },
    { timeout: 60_000 },
  );
  after(() => browser?.close(), { timeout: 15_000 });

  test('from the header to the Audience card, and from there to the live broadcast\'s audience page', { timeout: 60_000 }, async (t) => {
    const main = await startMain({ OFFLINE_GRACE_MS: '500' });
    t.after(() => main.kill());
    const context = await browser!.newContext({ viewport: { width: 1100, height: 800 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${main.url}/`, { waitUntil: 'load', timeout: 10_000 });
    await waitForBadge(page, BADGE, /^Offline$/);

    await page.getByRole('navigation', { name: 'Demo pages' }).getByRole('link', { name: /^Audience/ }).click();
    assert.equal(new URL(page.url()).hash, '#audience');
    const card = page.getByRole('region', { name: 'Audience, for the publisher' });
    assert.ok(await card.getByText(/Go live first/).isVisible(), 'before any broadcast the card says how to get one');
    assert.equal(await card.getByRole('link').count(), 0, 'no link to a broadcast that is not there');

    await page.getByRole('button', { name: 'Go live' }).click();
    await waitForBadge(page, BADGE, /^Live\b/);
    const link = card.getByRole('link', { name: 'Open the audience page of this broadcast' });
    await link.waitFor({ state: 'visible', timeout: 10_000 });
    const record = (await (await fetch(`${main.url}/api/v1/channels/${CHANNEL}`)).json()) as { canonical_id: string };
    assert.match(record.canonical_id, /^stream:acme:morning-show:/);
    assert.equal(await link.getAttribute('href'), `/c/${CHANNEL}/broadcasts/${encodeURIComponent(record.canonical_id)}/audience`);

    await link.click();
    await page.waitForURL(`${main.url}/c/${CHANNEL}/broadcasts/${encodeURIComponent(record.canonical_id)}/audience`, { timeout: 10_000 });
    await page.getByLabel('Admin token or publisher grant').waitFor({ state: 'visible', timeout: 10_000 });
    assert.deepEqual(errors, []);
  });
});
