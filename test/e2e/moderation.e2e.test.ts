/**
 * The demo's moderation page against a real `main.ts` (in-memory bus, MODERATION_POLICY=review):
 * a clip with a hostile title uploaded through the API and tus, reviewed in Chromium from the
 * keyboard with the admin token main.ts printed: the title shows as text and runs nothing, the
 * quarantined clip plays from a blob: URL fetched with the token (never /media), axe is clean,
 * and the approval ends with the clip published under /media.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { publishedMediaUrls } from '../../server/src/publishing/index.js';
import { mediaFixtures, type MediaFixtures } from '../fixtures/media-fixtures.js';
import { ensureBrowserBundles, launchChromium } from '../support/browser.js';
import { axeViolations, describeViolations, readAxeSource } from './helpers/axe.js';
import { collectPageErrors } from './helpers/badge.js';
import { focused, tabTo } from './helpers/keyboard.js';
import { startMain, type MainProcess } from '../support/main-process.js';
import { requestUploadGrant, uploadThroughTus, waitForUploadStatus, type UploadGrant } from './helpers/uploads.js';

const DEMO_CHANNEL = 'acme/morning-show';
const HOSTILE_TITLE = '<img src=x onerror="window.__xss=1">';
/** Refused by the grant if it names a path (it has a `/`); then the fallback, hostile without one, is used. */
const HOSTILE_FILENAMES = ['<script>alert(1)</script>.mp4', '<img src=x onerror="window.__xss=2">.mp4'];
const TOKEN_LABEL = 'input:Moderator or admin token';
const CHECKS_MS = 40_000;
const TRANSCODE_MS = 60_000;

interface Demo {
  readonly main: MainProcess;
  readonly adminToken: string;
}

/** main.ts in demo mode with review moderation, its media in a directory of this test's own. */
async function startModerationDemo(t: TestContext): Promise<Demo> {
  const mediaDir = await mkdtemp(join(tmpdir(), 'live-upload-e2e-media-'));
  t.after(() => rm(mediaDir, { recursive: true, force: true }));
  const main = await startMain({ MODERATION_POLICY: 'review', MEDIA_DIR: mediaDir, STATUS_RATE_LIMIT_PER_MINUTE: '10000' });
  t.after(() => main.kill());
  // The newcomer's way in: the token main.ts printed when it started.
  const adminToken = /admin token for this process: (\S+)/.exec(main.output())?.[1];
  assert.ok(adminToken, `main.ts printed an admin token; output:\n${main.output()}`);
  return { main, adminToken };
}

/** A grant for a clip of `size` bytes with the hostile title and the first hostile file name the grant accepts. */
async function hostileGrant(baseUrl: string, size: number): Promise<{ grant: UploadGrant; filename: string }> {
  const refusals: string[] = [];
  for (const filename of HOSTILE_FILENAMES) {
    const response = await requestUploadGrant(baseUrl, { channel: DEMO_CHANNEL, filename, size, type: 'video/mp4', source: 'file', title: HOSTILE_TITLE });
    if (response.status === 201) return { grant: (await response.json()) as UploadGrant, filename };
    assert.equal(response.status, 400, `a hostile file name is accepted or refused as bad input, not ${response.status}`);
    refusals.push(`${filename}: ${await response.text()}`);
  }
  throw new Error(`the grant refused every hostile file name:\n${refusals.join('\n')}`);
}

describe('the moderation page served by main.ts', () => {
  let browser: Browser | undefined;
  let axeSource: string;
  let fixtures: MediaFixtures;

  before(
    async () => {
      await ensureBrowserBundles();
      axeSource = await readAxeSource();
      fixtures = await mediaFixtures();
      browser = await launchChromium();
    },
    { timeout: 180_000 },
  );

  after(() => browser?.close(), { timeout: 15_000 });

  async function openModeration(t: TestContext, main: MainProcess): Promise<{ page: Page; errors: string[]; dialogs: string[] }> {
    const context = await browser!.newContext({ viewport: { width: 1100, height: 900 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${main.url}/moderation`, { waitUntil: 'load', timeout: 10_000 });
    return { page, errors, dialogs };
  }

  /** Tab to the token field, type the token and press Enter, as a keyboard user does. */
  async function enterToken(page: Page, token: string): Promise<void> {
    await tabTo(page, TOKEN_LABEL);
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');
  }

  test(
    'a clip titled with markup is shown as text, previewed through the authenticated URL, approved by keyboard and published',
    { timeout: 180_000 },
    async (t) => {
      const { main, adminToken } = await startModerationDemo(t);
      const asAdmin = { Authorization: `Bearer ${adminToken}` };

      const { size } = await stat(fixtures.validFaststartMp4);
      const { grant, filename } = await hostileGrant(main.url, size);
      await uploadThroughTus(grant, fixtures.validFaststartMp4);
      const uploadId = grant.upload_id;
      const reviewing = await waitForUploadStatus(main.url, uploadId, ['in_review', 'rejected', 'approved', 'published'], CHECKS_MS, asAdmin);
      assert.equal(reviewing.status, 'in_review', `checks: ${JSON.stringify(reviewing.checks)}`);

      // While in review the clip exists only behind the moderators' token: no /media URL at all.
      const previewUrl = `${main.url}/api/v1/moderation/${uploadId}/media`;
      const anonymousPreview = await fetch(previewUrl, { headers: { Range: 'bytes=0-99' } });
      assert.equal(anonymousPreview.status, 401, 'the preview needs a token');
      await anonymousPreview.body?.cancel();
      assert.equal(reviewing.media, undefined, 'an upload in review has no media URLs');
      // Where the clip will be once published: nothing there yet, for any of its files.
      const mediaUrls = publishedMediaUrls(uploadId);
      for (const url of Object.values(mediaUrls)) {
        const unpublished = await fetch(`${main.url}${url}`);
        assert.equal(unpublished.status, 404, `${url} serves nothing of an upload in review`);
        await unpublished.body?.cancel();
      }
      const queueText = await (await fetch(`${main.url}/api/v1/moderation/queue`, { headers: asAdmin })).text();
      assert.doesNotMatch(queueText, /\/media\//, 'the queue names no /media URL');

      const { page, errors, dialogs } = await openModeration(t, main);
      const requests: Array<{ url: string; authorization: string | undefined }> = [];
      page.on('request', (request) => void request.allHeaders().then((headers) => requests.push({ url: request.url(), authorization: headers['authorization'] })));

      await enterToken(page, adminToken);
      const item = page.locator('#queue-list > li');
      await item.first().waitFor({ state: 'visible', timeout: 10_000 });
      assert.equal(await item.count(), 1);
      assert.equal(await focused(page), 'h2:Review queue', 'focus moves to the queue once the token is accepted');
      assert.doesNotMatch(page.url(), new RegExp(adminToken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the token is never in the URL');
      assert.equal(await page.evaluate(() => sessionStorage.length), 1, 'the token is kept in sessionStorage');
      assert.equal(await page.evaluate(() => localStorage.length), 0, 'and nowhere that outlives the tab');

      // The hostile strings are text: shown literally, parsed as nothing.
      assert.equal(await item.locator('h3').textContent(), HOSTILE_TITLE);
      const facts = item.locator('.facts');
      assert.ok((await facts.locator('dd').allTextContents()).includes(filename), 'the file name is shown as typed');
      // People's words, not ids: the channel by its name (linked to its page), what the upload is, and when.
      const channel = facts.getByRole('link');
      assert.equal(await channel.textContent(), 'Acme Morning Show');
      assert.equal(await channel.getAttribute('href'), `/c/${DEMO_CHANNEL}`);
      assert.match((await item.locator('.item-summary').textContent()) ?? '', /^Video file · \d+\.\d\s?s · \d+ × \d+ · [\d.]+ (kB|MB)$/);
      const uploaded = facts.locator('time').first();
      assert.match((await uploaded.textContent()) ?? '', /^(now|\d+ minutes? ago) · [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M$/, 'relative, then the date and time');
      assert.ok(Date.parse((await uploaded.getAttribute('datetime')) ?? '') > 0, 'machine-readable as well');
      assert.deepEqual(
        await item.locator('.check').evaluateAll((checks) => checks.map((check) => check.querySelector('.check-result')?.textContent)),
        ['Passed', 'Passed', 'Passed', 'Passed', 'Passed', 'Passed', 'Passed'],
      );
      assert.deepEqual((await item.locator('.check-name').allTextContents()).sort(), [
        'Copyrighted audio',
        'Faces (privacy)',
        'File type',
        'Known blocked images',
        'Nudity',
        'Video format and limits',
        'Words in the title and file name',
      ]);
      // Ids wait, folded, under Technical details.
      assert.ok(!(await item.innerText()).includes(uploadId), 'no upload id in sight');
      await item.locator('summary').filter({ hasText: 'Technical details' }).click();
      assert.ok((await item.locator('.technical-facts').innerText()).includes(uploadId), 'the upload id is one click away');
      await item.locator('summary').click();
      assert.equal(await page.locator('#queue-list img, #queue-list script').count(), 0, 'no element was made from the title or file name');
      assert.equal(await page.evaluate(() => (window as { __xss?: unknown }).__xss), undefined);

      // The preview: fetched with the token, played from a blob: URL.
      await tabTo(page, 'button:Load preview');
      await page.keyboard.press('Enter');
      await page.waitForFunction(
        () => {
          const video = document.querySelector<HTMLVideoElement>('#queue-list video');
          return !!video && video.src.startsWith('blob:') && video.readyState >= 1 && video.duration > 0;
        },
        undefined,
        { timeout: 15_000 },
      ).catch(async (error: unknown) => {
        const state = await page.evaluate(() => {
          const video = document.querySelector<HTMLVideoElement>('#queue-list video');
          return { src: video?.src, readyState: video?.readyState, error: video?.error?.message, said: document.querySelector('#announcer')?.textContent, failed: document.querySelector('#queue-error')?.textContent };
        });
        throw new Error(`the preview never played: ${JSON.stringify(state)}`, { cause: error });
      });
      await page.locator('#announcer').filter({ hasText: /preview of .* is ready/ }).waitFor({ state: 'attached', timeout: 5_000 });
      const previewRequests = requests.filter((request) => request.url.includes(`/api/v1/moderation/${uploadId}/media`));
      assert.ok(previewRequests.length >= 1, 'the page fetched the preview endpoint');
      assert.ok(previewRequests.every((request) => request.authorization === `Bearer ${adminToken}`), 'with the token in the Authorization header');
      assert.ok(!requests.some((request) => new URL(request.url).pathname.startsWith('/media/')), 'the page never asked /media for the clip');
      assert.ok(!requests.some((request) => request.url.includes(adminToken)), 'no request URL carries the token');

      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        const results = await axeViolations(page, axeSource);
        assert.equal(results.violations.length, 0, `axe violations in ${colorScheme} mode:\n${describeViolations(results)}`);
      }

      // Approve with the keyboard only.
      await tabTo(page, 'button:Approve', 40);
      await page.keyboard.press('Enter');
      await page.locator('#announcer').filter({ hasText: /^Approved / }).waitFor({ state: 'attached', timeout: 10_000 });
      assert.equal(await item.count(), 0, 'the decided item left the list');
      assert.equal(await page.locator('#queue-empty').isVisible(), true, 'the empty state shows');
      assert.equal(await focused(page), 'h2:Review queue', 'focus lands on the queue heading, not on the page');

      const published = await waitForUploadStatus(main.url, uploadId, ['published', 'rejected', 'deleted'], TRANSCODE_MS);
      assert.equal(published.status, 'published', `checks: ${JSON.stringify(published.checks)}`);
      assert.equal(published.media?.['mp4'], mediaUrls.mp4, 'the published record names its MP4 under /media');
      const mp4 = await fetch(`${main.url}${mediaUrls.mp4}`, { headers: { Range: 'bytes=0-1023' } });
      assert.equal(mp4.status, 206);
      assert.equal(mp4.headers.get('content-type'), 'video/mp4');
      assert.equal(Buffer.from(await mp4.arrayBuffer()).subarray(4, 8).toString('latin1'), 'ftyp', 'it is an MP4');

      assert.equal(await page.evaluate(() => (window as { __xss?: unknown }).__xss), undefined);
      assert.deepEqual(dialogs, [], 'nothing opened a dialog');
      assert.deepEqual(errors, []);
    },
  );

  test('Reject asks for a reason first, then rejects with it, from the keyboard', { timeout: 120_000 }, async (t) => {
    const { main, adminToken } = await startModerationDemo(t);
    const asAdmin = { Authorization: `Bearer ${adminToken}` };
    const { size } = await stat(fixtures.validFaststartMp4);
    const response = await requestUploadGrant(main.url, { channel: DEMO_CHANNEL, filename: 'dull.mp4', size, type: 'video/mp4', source: 'file', title: 'Reject me' });
    assert.equal(response.status, 201);
    const grant = (await response.json()) as UploadGrant;
    await uploadThroughTus(grant, fixtures.validFaststartMp4);
    assert.equal((await waitForUploadStatus(main.url, grant.upload_id, ['in_review', 'rejected'], CHECKS_MS, asAdmin)).status, 'in_review');

    const { page, errors } = await openModeration(t, main);
    await enterToken(page, adminToken);
    await page.locator('#queue-list > li').first().waitFor({ state: 'visible', timeout: 10_000 });
    const reasonLabel = 'input:Reason (required to reject)';
    await tabTo(page, 'button:Reject', 20);
    await page.keyboard.press('Enter');
    await page.locator('.decision .error-text').filter({ hasText: 'Give a reason to reject this upload.' }).waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal(await focused(page), reasonLabel, 'focus goes to the reason field');
    assert.equal(await page.getByLabel('Reason (required to reject)').getAttribute('aria-invalid'), 'true');

    await page.keyboard.type('not about the show');
    await tabTo(page, 'button:Reject', 3);
    await page.keyboard.press('Enter');
    await page.locator('#announcer').filter({ hasText: 'Rejected “Reject me”: not about the show.' }).waitFor({ state: 'attached', timeout: 10_000 });
    assert.equal(await page.locator('#queue-empty').isVisible(), true);
    const rejected = await waitForUploadStatus(main.url, grant.upload_id, ['rejected'], 10_000);
    assert.equal(rejected.media, undefined, 'a rejected upload never gets media URLs');
    assert.deepEqual(errors, []);
  });

  test('a refused token is asked for again and never kept; the right one shows the empty queue', { timeout: 60_000 }, async (t) => {
    const { main, adminToken } = await startModerationDemo(t);
    const { page, errors } = await openModeration(t, main);
    assert.equal(await page.locator('#queue-section').isVisible(), false, 'no queue before a token');
    assert.equal(await page.locator('#token-held').isVisible(), false, 'nothing says a token is in use before one is given');
    assert.equal(await page.getByText('A token is in use for this tab.').isVisible(), false);

    await enterToken(page, 'not-the-admin-token-0123456789');
    await page.locator('#token-error').filter({ hasText: /^That token was not accepted\./ }).waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await page.locator('#announcer').textContent(), '', 'no "Checking the token…" left behind once it was refused');
    assert.equal(await page.locator('#token-held').isVisible(), false, 'a refused token is not "in use"');
    assert.equal(await focused(page), TOKEN_LABEL, 'focus goes back to the token field');
    assert.equal(await page.locator('#token-input').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused token is not kept');

    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(adminToken);
    await page.keyboard.press('Enter');
    await page.locator('#queue-empty').waitFor({ state: 'visible', timeout: 10_000 });
    await page.locator('#announcer').filter({ hasText: '0 uploads are waiting for review.' }).waitFor({ state: 'attached', timeout: 5_000 });

    // A reload keeps the tab's token: the queue comes back without asking.
    await page.reload({ waitUntil: 'load' });
    await page.locator('#queue-empty').waitFor({ state: 'visible', timeout: 10_000 });
    await tabTo(page, 'button:Forget the token', 10);
    await page.keyboard.press('Enter');
    assert.equal(await focused(page), TOKEN_LABEL);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'forgotten');

    // The server goes away: the page says so in words, with what to do, and no exception text.
    await page.keyboard.type(adminToken);
    await page.keyboard.press('Enter');
    await page.locator('#queue-empty').waitFor({ state: 'visible', timeout: 10_000 });
    await main.kill();
    await page.getByRole('button', { name: 'Refresh' }).click();
    const problem = page.locator('#queue-error');
    await problem.filter({ hasText: /\S/ }).waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await problem.textContent(), 'The review queue could not be loaded. The server could not be reached. Check that it is running, then try again.');
    assert.equal(await page.locator('#announcer').textContent(), '', 'nothing still says it is loading');
    assert.deepEqual(errors, []);
  });
});
