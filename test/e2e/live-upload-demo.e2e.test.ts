/**
 * The whole viewer path of the demo, against a real `main.ts` (in-memory bus,
 * MODERATION_POLICY=review) in Chromium: the page is cross-origin isolated, Go live starts the
 * server's own ffmpeg HLS stream, `<live-upload>`'s badge turns LIVE and its player plays it,
 * Clip takes the last 10 s, Upload sends it (with its provenance in the broadcast) through tus,
 * the clip waits in the moderation queue with that provenance shown, a moderator approves it,
 * and it plays from `/media`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { parseCanonicalId, type LiveMetadata } from '@live-upload/schema';
import { pthreadPoolSize } from '../../element/src/live-upload/ffmpeg-thread-pool.js';
import type { Browser, Page } from 'playwright-core';
import { ensureBrowserBundles, launchChromium } from '../support/browser.js';
import { startMain, type MainProcess } from '../support/main-process.js';
import { collectPageErrors, waitForBadge } from './helpers/badge.js';
import { waitForUploadStatus } from './helpers/uploads.js';

const CHANNEL = 'acme/morning-show';
const UPLOADER = '#demo-upload';
/** The badge inside `<live-upload>` (Playwright's CSS locators pierce open shadow roots). */
const UPLOADER_BADGE = `${UPLOADER} live-badge`;
const CLIP_SECONDS = 10;
const CHECKS_MS = 60_000;
const TRANSCODE_MS = 90_000;

interface UploadRecordView {
  readonly status: string;
  readonly checks: ReadonlyArray<{ name: string; result: string }>;
  readonly media?: Record<string, unknown>;
  readonly provenance: { canonical_id: string; from: string; to: string } | null;
}

/** Seconds of the live stream the page's player has actually played. */
function playedSeconds(page: Page): Promise<number> {
  return page.evaluate((selector) => {
    const video = document.querySelector(selector)?.shadowRoot?.querySelector<HTMLVideoElement>('video[part="player"]');
    if (!video) return 0;
    let total = 0;
    for (let i = 0; i < video.played.length; i++) total += video.played.end(i) - video.played.start(i);
    return total;
  }, UPLOADER);
}

/** What the element shows and says, for failure messages. */
function uploaderState(page: Page): Promise<unknown> {
  return page.evaluate((selector) => {
    const host = document.querySelector(selector);
    const root = host?.shadowRoot;
    const video = root?.querySelector<HTMLVideoElement>('video[part="player"]');
    return {
      stage: host?.getAttribute('stage'),
      status: root?.querySelector('[part="status"]')?.textContent,
      error: root?.querySelector('[part="error"]')?.textContent,
      video: video && { src: video.currentSrc, readyState: video.readyState, paused: video.paused, currentTime: video.currentTime, error: video.error?.message },
      log: [...document.querySelectorAll('#event-log li')].map((item) => item.textContent).slice(0, 8),
    };
  }, UPLOADER);
}

/** Resolves with the detail of the next `live-upload-complete` from the element. */
function nextUploadComplete(page: Page, timeoutMs: number): Promise<{ uploadId: string; status: string }> {
  return page.evaluate(
    ([selector, timeout]) =>
      new Promise<{ uploadId: string; status: string }>((resolve, reject) => {
        const host = document.querySelector(selector as string)!;
        const timer = setTimeout(() => reject(new Error('no live-upload-complete')), timeout as number);
        host.addEventListener('live-error', (event) => {
          clearTimeout(timer);
          reject(new Error(`live-error: ${JSON.stringify((event as CustomEvent).detail)}`));
        });
        host.addEventListener(
          'live-upload-complete',
          (event) => {
            clearTimeout(timer);
            resolve((event as CustomEvent<{ uploadId: string; status: string }>).detail);
          },
          { once: true },
        );
      }),
    [UPLOADER, timeoutMs] as const,
  );
}

describe('<live-upload> on the demo site served by main.ts', () => {
  let browser: Browser | undefined;

  before(
    async () => {
      await ensureBrowserBundles();
      browser = await launchChromium();
    },
    { timeout: 120_000 },
  );
  after(() => browser?.close(), { timeout: 15_000 });

  async function startDemo(t: TestContext): Promise<{ main: MainProcess; adminToken: string }> {
    const mediaDir = await mkdtemp(join(tmpdir(), 'live-upload-e2e-media-'));
    t.after(() => rm(mediaDir, { recursive: true, force: true }));
    const main = await startMain({ MODERATION_POLICY: 'review', MEDIA_DIR: mediaDir, STATUS_RATE_LIMIT_PER_MINUTE: '10000', UPLOAD_RATE_LIMIT_PER_MINUTE: '1000' });
    t.after(() => main.kill());
    const adminToken = /admin token for this process: (\S+)/.exec(main.output())?.[1];
    assert.ok(adminToken, `main.ts printed an admin token; output:\n${main.output()}`);
    return { main, adminToken };
  }

  test('go live, watch, clip 10 s, upload, review with provenance, approve, play from /media', { timeout: 300_000 }, async (t) => {
    const { main, adminToken } = await startDemo(t);
    const asAdmin = { Authorization: `Bearer ${adminToken}` };
    const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const mediaRequests: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/demo/live/')) mediaRequests.push(request.url());
    });

    await page.goto(`${main.url}/`, { waitUntil: 'load', timeout: 15_000 });
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the demo page is cross-origin isolated (COOP + COEP)');
    await waitForBadge(page, UPLOADER_BADGE, /^Offline$/);

    // The channel record links the server's own live stream.
    const offline = (await (await fetch(`${main.url}/api/v1/channels/${CHANNEL}`)).json()) as LiveMetadata;
    assert.equal(offline.playback?.hls, `${main.url}/demo/live/index.m3u8`);

    await page.getByRole('button', { name: 'Go live' }).click();
    await waitForBadge(page, UPLOADER_BADGE, /^Live\b/, 15_000);

    // The player plays the HLS stream long enough to hold a 10 s clip.
    await page
      .waitForFunction(
        ([selector, seconds]) => {
          const video = document.querySelector(selector as string)?.shadowRoot?.querySelector<HTMLVideoElement>('video[part="player"]');
          if (!video || video.paused || video.readyState < 3) return false;
          let total = 0;
          for (let i = 0; i < video.played.length; i++) total += video.played.end(i) - video.played.start(i);
          return total >= (seconds as number) + 2;
        },
        [UPLOADER, CLIP_SECONDS] as const,
        { timeout: 60_000, polling: 500 },
      )
      .catch(async (error: unknown) => {
        throw new Error(`the player never played ${CLIP_SECONDS + 2} s: ${JSON.stringify(await uploaderState(page))}`, { cause: error });
      });
    assert.ok((await playedSeconds(page)) >= CLIP_SECONDS);
    assert.ok(mediaRequests.some((url) => url.endsWith('/demo/live/index.m3u8')), 'the player loaded the live playlist');
    assert.ok(mediaRequests.some((url) => /\/demo\/live\/segment-\d+\.ts$/.test(url)), 'and its segments');

    const live = (await (await fetch(`${main.url}/api/v1/channels/${CHANNEL}`)).json()) as LiveMetadata;
    assert.equal(live.status, 'live');
    assert.ok(live.canonical_id);

    // Clip the last 10 s; the element offers it for review.
    const clip = page.locator(`${UPLOADER} [data-action="clip"]`);
    assert.match((await clip.textContent()) ?? '', /10/);
    await clip.click();
    const upload = page.locator(`${UPLOADER} [data-action="upload"]`);
    await upload.waitFor({ state: 'visible', timeout: 60_000 }).catch(async (error: unknown) => {
      throw new Error(`no clip to upload: ${JSON.stringify(await uploaderState(page))}`, { cause: error });
    });

    const completed = nextUploadComplete(page, 120_000);
    await upload.click();
    const { uploadId } = await completed.catch(async (error: unknown) => {
      throw new Error(`the upload did not complete: ${JSON.stringify(await uploaderState(page))}`, { cause: error });
    });
    assert.match(uploadId, /^[0-9A-HJKMNP-TV-Z]{26}$/);

    // The upload knows where in the broadcast it comes from.
    const reviewing = (await waitForUploadStatus(main.url, uploadId, ['in_review', 'rejected', 'approved', 'published'], CHECKS_MS, asAdmin)) as unknown as UploadRecordView & {
      clip: { canonical_id: string } | null;
    };
    assert.equal(reviewing.status, 'in_review', `checks: ${JSON.stringify(reviewing.checks)}`);
    assert.equal(reviewing.clip?.canonical_id, live.canonical_id, 'a clip of the current broadcast');
    const provenance = reviewing.provenance;
    assert.ok(provenance, 'the clip carries its provenance');
    assert.equal(provenance.canonical_id, live.canonical_id);
    const fromMs = Date.parse(provenance.from);
    const toMs = Date.parse(provenance.to);
    const spanS = (toMs - fromMs) / 1000;
    assert.ok(spanS > CLIP_SECONDS - 2.5 && spanS <= CLIP_SECONDS + 2.5, `a clip of about ${CLIP_SECONDS} s, not ${spanS} s`);
    assert.ok(fromMs >= (parseCanonicalId(live.canonical_id)?.startedAtMs ?? 0) - 5_000, 'from the current broadcast');
    assert.ok(toMs <= Date.now() + 5_000, 'not from the future');

    // The moderation page shows the clip with its provenance; the moderator approves it.
    const moderation = await context.newPage();
    const moderationErrors = collectPageErrors(moderation);
    await moderation.goto(`${main.url}/moderation`, { waitUntil: 'load', timeout: 15_000 });
    await moderation.getByLabel('Moderator or admin token').fill(adminToken);
    await moderation.getByRole('button', { name: 'Use this token' }).click();
    const item = moderation.locator('#queue-list > li');
    await item.first().waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await item.count(), 1);
    const facts = await item.locator('.facts').innerText();
    assert.match(facts, /From the broadcast/, 'the queue item shows the provenance');
    assert.ok(((await item.locator('.technical-facts').textContent()) ?? '').includes(provenance.canonical_id), 'the broadcast id, under Technical details');
    assert.deepEqual(
      await item.locator('.facts time').evaluateAll((times) => times.map((time) => time.getAttribute('datetime'))).then((values) => values.slice(-2)),
      [provenance.from, provenance.to],
    );
    await item.getByRole('button', { name: 'Approve', exact: true }).click();
    await moderation.locator('#announcer').filter({ hasText: /^Approved / }).waitFor({ state: 'attached', timeout: 15_000 });

    const published = (await waitForUploadStatus(main.url, uploadId, ['published', 'rejected', 'deleted'], TRANSCODE_MS)) as unknown as UploadRecordView;
    assert.equal(published.status, 'published', `checks: ${JSON.stringify(published.checks)}`);
    const mp4 = published.media?.['mp4'];
    assert.equal(typeof mp4, 'string');

    // It plays from /media, in the same isolated page.
    const played = await page.evaluate(
      (src) =>
        new Promise<{ duration: number; width: number }>((resolve, reject) => {
          const video = document.createElement('video');
          video.muted = true;
          video.addEventListener('timeupdate', () => {
            if (video.currentTime > 0.5) resolve({ duration: video.duration, width: video.videoWidth });
          });
          video.addEventListener('error', () => reject(new Error(`cannot play ${src}: ${video.error?.message}`)));
          video.src = src;
          document.body.append(video);
          void video.play().catch(reject);
        }),
      mp4 as string,
    );
    assert.ok(Math.abs(played.duration - spanS) < 2.5, `the published clip lasts about ${spanS} s, not ${played.duration} s`);
    assert.ok(played.width > 0);

    await page.getByRole('button', { name: 'Go offline' }).click();
    assert.deepEqual(errors, []);
    assert.deepEqual(moderationErrors, []);
  });

  test('clips three times on the isolated page with one FFmpeg worker and its pthread pool, and none once the element is gone', { timeout: 300_000 }, async (t) => {
    const { main } = await startDemo(t);
    const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${main.url}/`, { waitUntil: 'load', timeout: 15_000 });
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    await page.getByRole('button', { name: 'Go live' }).click();
    await waitForBadge(page, UPLOADER_BADGE, /^Live\b/, 15_000);
    await page.waitForFunction((selector) => {
      const video = document.querySelector(selector)?.shadowRoot?.querySelector<HTMLVideoElement>('video[part="player"]');
      let total = 0;
      for (let i = 0; video && i < video.played.length; i++) total += video.played.end(i) - video.played.start(i);
      return total >= 4;
    }, UPLOADER, { timeout: 60_000, polling: 250 });
    // Playwright lists every dedicated worker of the page, the core's pthread workers included:
    // the pool follows the page's CPUs (ffmpeg-thread-pool.ts), so it is asked of the page.
    const pool = pthreadPoolSize(await page.evaluate(() => navigator.hardwareConcurrency));
    const workers: number[] = [];
    for (let i = 0; i < 3; i++) {
      await page.locator(`${UPLOADER} [data-action="clip"]`).click();
      const shorter = page.locator(`${UPLOADER} [data-action="clip-available"]`);
      const discard = page.locator(`${UPLOADER} [data-action="discard"]`);
      await Promise.race([shorter.waitFor({ timeout: 60_000 }).then(() => shorter.click()), discard.waitFor({ timeout: 60_000 })]);
      await discard.waitFor({ timeout: 60_000 });
      workers.push(page.workers().length);
      await discard.click();
    }
    assert.deepEqual(workers, [1 + pool, 1 + pool, 1 + pool], `one FFmpeg worker (core-mt: plus its ${pool} pthread workers), reused, never a second`);
    await page.evaluate((selector) => document.querySelector(selector)!.remove(), UPLOADER);
    const deadline = Date.now() + 10_000;
    while (page.workers().length > 0 && Date.now() < deadline) await page.waitForEvent('worker', { timeout: 250 }).catch(() => undefined);
    assert.equal(page.workers().length, 0, 'the worker (and its pthreads) end with the element');
    assert.deepEqual(errors, []);
  });
});
