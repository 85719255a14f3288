/**
 * The moderation page's evidence and shortcuts in Chromium, against the real server in demo
 * mode (in-process, memory bus, MODERATION_POLICY=review): an upload in review whose record
 * carries what the vision and audio checks record (per-label scores, a matched audio
 * reference, a flagged frame written under `evidence/{upload_id}/` in the quarantine). The
 * frame is fetched with the token and shown blurred until pressed; the shortcuts do nothing
 * while typing, `r` without a reason asks for one, `b` approves with faces blurred.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { BUCKETS, jsonCodec, typedKv } from '../../server/src/bus/index.js';
import { loadConfig } from '../../server/src/config.js';
import { demoRoutes } from '../../server/src/demo/index.js';
import { createLogger } from '../../server/src/observability/index.js';
import { startServer, type RunningServer } from '../../server/src/start-server.js';
import { FilesystemObjectStore } from '../../server/src/storage/index.js';
import { uploadRecordSchema } from '../../server/src/uploads/index.js';
import { mediaFixtures } from '../fixtures/media-fixtures.js';
import { ensureBrowserBundles, launchChromium } from '../support/browser.js';
import { axeViolations, describeViolations, readAxeSource } from './helpers/axe.js';
import { collectPageErrors } from './helpers/badge.js';
import { focused, tabTo } from './helpers/keyboard.js';
import { requestUploadGrant, uploadThroughTus, waitForUploadStatus, type UploadGrant } from './helpers/uploads.js';

const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
const DEMO_CHANNEL = 'acme/morning-show';
const asAdmin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

describe('the moderation page shows each check’s evidence and decides from the keyboard', () => {
  let browser: Browser | undefined;
  let server: RunningServer;
  let dir: string;
  let axeSource: string;

  before(
    async () => {
      await ensureBrowserBundles();
      axeSource = await readAxeSource();
      browser = await launchChromium();
      dir = await mkdtemp(join(tmpdir(), 'live-upload-evidence-e2e-'));
      const config = loadConfig({
        PORT: '0',
        DEMO: '1',
        LOG_LEVEL: 'silent',
        ADMIN_TOKEN,
        MODERATION_POLICY: 'review',
        WORKERS: 'moderation',
        QUARANTINE_DIR: join(dir, 'quarantine'),
        MEDIA_DIR: join(dir, 'media'),
        STATUS_RATE_LIMIT_PER_MINUTE: '10000',
      });
      server = await startServer(config, { logger: createLogger({ level: 'silent' }), extraRoutes: async (parts) => [await demoRoutes({ ...parts, live: undefined })] });
    },
    { timeout: 180_000 },
  );

  after(
    async () => {
      await browser?.close();
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    },
    { timeout: 30_000 },
  );

  /** An upload in review, with the evidence the vision and audio checks record added to its checks, and its frame in the quarantine. */
  async function uploadWithEvidence(): Promise<string> {
    const path = (await mediaFixtures()).validFaststartMp4;
    const response = await requestUploadGrant(server.url, { channel: DEMO_CHANNEL, filename: 'beach.mp4', size: (await stat(path)).size, type: 'video/mp4', source: 'file', title: 'At the beach' });
    assert.equal(response.status, 201);
    const grant = (await response.json()) as UploadGrant;
    await uploadThroughTus(grant, path);
    const uploadId = grant.upload_id;
    assert.equal((await waitForUploadStatus(server.url, uploadId, ['in_review', 'rejected', 'approved'], 40_000, asAdmin)).status, 'in_review');

    const frame = join(dir, 'frame.jpg');
    await promisify(execFile)('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x90', '-frames:v', '1', frame]);
    await new FilesystemObjectStore(join(dir, 'quarantine')).put(`evidence/${uploadId}/nudity-2500.jpg`, await readFile(frame));
    const uploads = typedKv(await server.bus.kv(BUCKETS.uploads), jsonCodec(uploadRecordSchema));
    await uploads.update(uploadId, (record) =>
      record && {
        ...record,
        checks: [
          // In place of what the real checks recorded for this synthetic clip (nothing flagged).
          ...record.checks.filter((check) => check.name !== 'nudity' && check.name !== 'audio-fingerprint'),
          {
            name: 'nudity',
            result: 'review',
            detail: 'a frame scored 0.72 for explicit content',
            // As the nudity check records them (server/src/moderation/vision/nudity-check.ts).
            details: {
              sampled_frames: 2,
              frame_times: [0, 2.5],
              max_score: 0.72,
              bands: { review: 0.5, block: 0.9 },
              worst_frames: [{ t: 2.5, label: 'Porn', score: 0.72 }],
              frames: [
                { t: 0, scores: { Drawing: 0.01, Hentai: 0, Neutral: 0.98, Porn: 0.01, Sexy: 0 } },
                { t: 2.5, scores: { Drawing: 0, Hentai: 0.02, Neutral: 0.18, Porn: 0.72, Sexy: 0.08 } },
              ],
              evidence: [{ key: `evidence/${uploadId}/nudity-2500.jpg`, t: 2.5, label: 'Porn', score: 0.72 }],
            },
          },
          {
            name: 'audio-fingerprint',
            result: 'review',
            detail: 'the audio matches a reference',
            details: { match: { reference_id: '01J0REFERENCE0000000000000', title: 'Summer Song <b>live</b>', score: 0.83, clip_from_s: 1, clip_to_s: 11, reference_from_s: 30, reference_to_s: 40 } },
          },
        ],
      },
    );
    return uploadId;
  }

  test('evidence blurred until revealed, shortcuts idle while typing, R asks for a reason, B approves with faces blurred', { timeout: 120_000 }, async (t) => {
    const uploadId = await uploadWithEvidence();
    const context = await browser!.newContext({ viewport: { width: 1100, height: 900 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/moderation`, { waitUntil: 'load', timeout: 10_000 });
    await tabTo(page, 'input:Moderator or admin token');
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    const item = page.locator('#queue-list > li');
    await item.first().waitFor({ state: 'visible', timeout: 10_000 });

    // Scores and the matched reference, as text (the reference's title is not markup).
    const nudity = item.locator('.check').filter({ hasText: 'Nudity' });
    assert.equal(await nudity.locator('.check-result').textContent(), 'Needs a look');
    // The highest score, then the worst frame's score per label.
    assert.deepEqual(await nudity.locator('.evidence-scores dt').allTextContents(), ['highest score', 'Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy']);
    assert.deepEqual(await nudity.locator('.evidence-scores dd').allTextContents(), ['0.72', '0.00', '0.02', '0.18', '0.72', '0.08']);
    const match = item.locator('.evidence-match');
    assert.equal(await match.locator('cite').textContent(), 'Summer Song <b>live</b>');
    assert.match((await match.textContent()) ?? '', /this upload 1\.0 s–11\.0 s matches the reference 30\.0 s–40\.0 s, match score 0\.83/);
    assert.equal(await item.locator('cite b').count(), 0);

    // The flagged frame: fetched with the token into a blob: URL, blurred until pressed.
    const frame = item.locator('.evidence-frame');
    assert.equal(await frame.count(), 1);
    await page.waitForFunction(() => document.querySelector<HTMLImageElement>('.evidence-frame img')?.src.startsWith('blob:') && document.querySelector<HTMLImageElement>('.evidence-frame img')!.complete, undefined, { timeout: 10_000 });
    assert.ok((await frame.locator('img').evaluate((image: HTMLImageElement) => image.naturalWidth)) > 0, 'the frame decoded');
    const filter = () => frame.locator('img').evaluate((image) => getComputedStyle(image).filter);
    assert.match(await filter(), /blur/);
    assert.equal(await frame.getAttribute('aria-pressed'), 'false');
    assert.equal((await frame.textContent())?.trim(), 'Frame at 2.5 s · Porn · 0.72');
    await frame.click();
    assert.equal(await frame.getAttribute('aria-pressed'), 'true');
    // Unblurred (after its short transition).
    await page.waitForFunction(() => getComputedStyle(document.querySelector('.evidence-frame img')!).filter === 'none', undefined, { timeout: 2_000 });
    await frame.focus();
    await page.keyboard.press('Enter');
    assert.equal(await frame.getAttribute('aria-pressed'), 'false', 'the keyboard blurs it again');
    await page.keyboard.press('Space');
    assert.equal(await frame.getAttribute('aria-pressed'), 'true');

    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      const results = await axeViolations(page, axeSource);
      assert.equal(results.violations.length, 0, `axe violations in ${colorScheme} mode:\n${describeViolations(results)}`);
    }

    // R without a reason: nothing is sent; the reason field asks for one and takes focus.
    await frame.focus();
    await page.keyboard.press('r');
    await page.locator('.decision .error-text').filter({ hasText: 'Give a reason to reject this upload.' }).waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal(await focused(page), 'input:Reason (required to reject)');
    // Typing in the field: letters are letters, no shortcut fires.
    await page.keyboard.type('bar');
    assert.equal(await page.getByLabel('Reason (required to reject)').inputValue(), 'bar');
    assert.equal((await waitForUploadStatus(server.url, uploadId, ['in_review'], 1_000, asAdmin)).status, 'in_review');
    await page.getByLabel('Reason (required to reject)').fill('');

    // B on the item: approved with faces blurred.
    await item.locator('h3').focus();
    await page.keyboard.press('b');
    await page.locator('#announcer').filter({ hasText: 'Approved “At the beach” with faces blurred.' }).waitFor({ state: 'attached', timeout: 10_000 });
    assert.equal(await item.count(), 0, 'the decided item left the list');
    const decided = (await (await fetch(`${server.url}/api/v1/uploads/${uploadId}`, { headers: asAdmin })).json()) as { status: string; publish_options?: unknown };
    assert.equal(decided.status, 'approved');
    assert.deepEqual(decided.publish_options, { blur_faces: true });
    assert.deepEqual(errors, []);
  });
});
