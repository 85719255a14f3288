/**
 * Issue 21, "the demo": going live then offline in the simulated streamer produces a replay
 * that the demo page plays within a minute of offline. Run as a newcomer runs it: `main.ts`
 * with its defaults (the 30 s grace window, the local nats-server when one is installed, the
 * demo channel's public replays), the demo page in Chromium. Go live, about 20 s of the server's
 * own ffmpeg stream, Go offline; from the moment the badge says Offline (the canonical OFFLINE,
 * after the grace window), within 60 s: `/status` lists the broadcast as `latest_replay`, its
 * master playlist decodes end to end, and `<live-upload>` offers Watch the replay, which plays it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { LatestReplay, LiveMetadata } from '@live-upload/schema';
import type { Browser, Page } from 'playwright-core';
import { runFfmpeg, runFfprobe } from '../../server/src/media/index.js';
import { ensureBrowserBundles, launchChromium } from '../support/browser.js';
import { eventually } from '../support/eventually.js';
import { startMain, type MainProcess } from '../support/main-process.js';
import { collectPageErrors, waitForBadge } from './helpers/badge.js';

const CHANNEL = 'acme/morning-show';
const UPLOADER = '#demo-upload';
const UPLOADER_BADGE = `${UPLOADER} live-badge`;
/** How long the streamer streams: long enough for a replay worth the name (ten 2 s segments). */
const LIVE_SECONDS = 20;
/** The promise: the replay plays within a minute of the badge turning Offline. */
const REPLAY_WITHIN_MS = 60_000;
/** main.ts's default grace window, which this test does not shorten: a newcomer waits for it too. */
const DEFAULT_GRACE_MS = 30_000;

/** Seconds of the live stream the page's player has played. */
function playedLiveSeconds(page: Page): Promise<number> {
  return page.evaluate((selector) => {
    const video = document.querySelector(selector)?.shadowRoot?.querySelector<HTMLVideoElement>('video[part="player"]');
    let total = 0;
    for (let i = 0; video && i < video.played.length; i++) total += video.played.end(i) - video.played.start(i);
    return total;
  }, UPLOADER);
}

/** What the element shows, for failure messages. */
function uploaderState(page: Page): Promise<unknown> {
  return page.evaluate((selector) => {
    // No named functions in here: the page has no `__name` helper for them.
    const root = document.querySelector(selector)?.shadowRoot;
    return {
      parts: [...(root?.querySelectorAll('[part]') ?? [])].map((element) => element.getAttribute('part')),
      status: root?.querySelector('[part="status"]')?.textContent,
      error: root?.querySelector('[part="error"]')?.textContent,
      videos: [...(root?.querySelectorAll('video') ?? [])].map((element) => ({
        part: element.getAttribute('part'),
        src: element.currentSrc,
        readyState: element.readyState,
        paused: element.paused,
        currentTime: element.currentTime,
        error: element.error?.message,
      })),
    };
  }, UPLOADER);
}

/** The demo channel's `latest_replay` on `/status`, or undefined (a 429 from the status rate limit counts as not yet). */
async function latestReplay(url: string): Promise<LatestReplay | undefined> {
  const response = await fetch(`${url}/api/v1/channels/${CHANNEL}/status`);
  if (response.status === 429) return undefined;
  assert.equal(response.status, 200, `/status answered ${response.status}`);
  const summary = (await response.json()) as { latest_replay?: LatestReplay | null };
  return summary.latest_replay ?? undefined;
}

describe('the demo: live, offline, and its replay within a minute', () => {
  let browser: Browser | undefined;

  before(
    async () => {
      await ensureBrowserBundles();
      browser = await launchChromium();
    },
    { timeout: 120_000 },
  );
  after(() => browser?.close(), { timeout: 15_000 });

  /** main.ts as `npm start` runs it, with its own media directory and nats-server store (removed afterwards). */
  async function startDemo(t: TestContext): Promise<MainProcess> {
    const mediaDir = await mkdtemp(join(tmpdir(), 'live-upload-e2e-media-'));
    const natsDir = await mkdtemp(join(tmpdir(), 'live-upload-e2e-nats-'));
    const main = await startMain({ EMBEDDED_NATS: 'auto', EMBEDDED_NATS_DIR: natsDir, MEDIA_DIR: mediaDir });
    t.after(async () => {
      // SIGTERM first: main.ts then stops the nats-server it started.
      await main.stop().catch(() => main.kill());
      await Promise.all([rm(mediaDir, { recursive: true, force: true }), rm(natsDir, { recursive: true, force: true })]);
    });
    return main;
  }

  test('Go live, Go offline: within 60 s of Offline /status lists the replay, it decodes, and Watch the replay plays it', { timeout: 240_000 }, async (t) => {
    const main = await startDemo(t);
    const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    // Console errors are reported with a failure (the live player's 404s once the stream stops are expected).
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
    });

    await page.goto(`${main.url}/`, { waitUntil: 'load', timeout: 15_000 });
    await waitForBadge(page, UPLOADER_BADGE, /^Offline$/);
    assert.equal(await latestReplay(main.url), undefined, 'a fresh demo has no replay yet');

    await page.getByRole('button', { name: 'Go live' }).click();
    await waitForBadge(page, UPLOADER_BADGE, /^Live\b/, 15_000);
    const live = (await (await fetch(`${main.url}/api/v1/channels/${CHANNEL}`)).json()) as LiveMetadata;
    assert.equal(live.status, 'live');
    assert.ok(live.canonical_id, 'the broadcast has its canonical id');
    // The viewer watches the stream for a while (the archive follows the same playlist meanwhile).
    await page
      .waitForFunction(
        ([selector, seconds]) => {
          const video = document.querySelector(selector as string)?.shadowRoot?.querySelector<HTMLVideoElement>('video[part="player"]');
          let total = 0;
          for (let i = 0; video && i < video.played.length; i++) total += video.played.end(i) - video.played.start(i);
          return total >= (seconds as number);
        },
        [UPLOADER, LIVE_SECONDS] as const,
        { timeout: 90_000, polling: 500 },
      )
      .catch(async (error: unknown) => {
        throw new Error(`the player never played ${LIVE_SECONDS} s: ${JSON.stringify(await uploaderState(page))}`, { cause: error });
      });
    t.diagnostic(`live player played ${(await playedLiveSeconds(page)).toFixed(1)} s`);

    const pressed = performance.now();
    await page.getByRole('button', { name: 'Go offline' }).click();
    await waitForBadge(page, UPLOADER_BADGE, /^Offline$/, DEFAULT_GRACE_MS + 15_000);
    const offlineAt = performance.now();
    const sinceOfflineS = () => ((performance.now() - offlineAt) / 1000).toFixed(1);
    const left = () => Math.max(1, REPLAY_WITHIN_MS - (performance.now() - offlineAt));
    t.diagnostic(`Offline ${((offlineAt - pressed) / 1000).toFixed(1)} s after Go offline (the grace window)`);

    // The server half: the replay on /status, its master playlist served and decodable.
    const replay = await eventually(() => latestReplay(main.url), '/status to list the replay', left(), { intervalMs: 1_000 });
    const onStatusS = sinceOfflineS();
    t.diagnostic(`latest_replay on /status ${onStatusS} s after Offline`);
    assert.equal(replay.canonical_id, live.canonical_id, 'the replay is of the broadcast that just ended');
    assert.ok(replay.duration_s !== null && replay.duration_s >= LIVE_SECONDS - 4, `the replay holds the broadcast: ${replay.duration_s} s`);
    const master = await fetch(replay.url);
    assert.equal(master.status, 200);
    const masterText = await master.text();
    assert.match(masterText, /#EXT-X-STREAM-INF:.*RESOLUTION=\d+x\d+/, masterText);
    const probed = await runFfprobe(['-v', 'error', '-protocol_whitelist', 'http,tcp', '-show_entries', 'format=duration', '-of', 'csv=p=0', '-i', replay.url], { timeoutMs: 30_000 });
    const probedS = Number(probed.stdout.toString('utf8').trim());
    assert.ok(Math.abs(probedS - replay.duration_s) < 2.5, `ffprobe reads ${probedS} s of the ${replay.duration_s} s replay`);
    const decoded = await runFfmpeg(['-nostdin', '-v', 'error', '-protocol_whitelist', 'http,tcp', '-i', replay.url, '-f', 'null', '-'], { timeoutMs: 60_000 });
    assert.equal(decoded.stderrTail.trim(), '', 'the whole replay decodes without an error');

    // The browser half: <live-upload> offers the replay, and pressing it plays it.
    const watch = page.locator(`${UPLOADER} [part~="watch-replay"]`);
    await watch.waitFor({ state: 'visible', timeout: left() }).catch(async (error: unknown) => {
      throw new Error(`no Watch the replay ${sinceOfflineS()} s after Offline: ${JSON.stringify(await uploaderState(page))}`, { cause: error });
    });
    t.diagnostic(`Watch the replay shown ${sinceOfflineS()} s after Offline`);
    await watch.click();
    const replayVideo = page.locator(`${UPLOADER} video[part~="replay"]`);
    await replayVideo.waitFor({ state: 'visible', timeout: 10_000 });
    const startedAt = await page
      .waitForFunction(
        (selector) => {
          const video = document.querySelector(selector)?.shadowRoot?.querySelector<HTMLVideoElement>('video[part~="replay"]');
          return video && !video.paused && video.currentTime > 0.5 ? video.currentTime : false;
        },
        UPLOADER,
        { timeout: left(), polling: 250 },
      )
      .then((handle) => handle.jsonValue() as Promise<number>)
      .catch(async (error: unknown) => {
        throw new Error(`the replay did not play ${sinceOfflineS()} s after Offline: ${JSON.stringify(await uploaderState(page))}; console: ${consoleErrors.slice(-10).join(' | ')}`, { cause: error });
      });
    // It keeps playing: its time advances by another second and more.
    await page.waitForFunction(
      ([selector, from]) => (document.querySelector(selector as string)?.shadowRoot?.querySelector<HTMLVideoElement>('video[part~="replay"]')?.currentTime ?? 0) > (from as number) + 1,
      [UPLOADER, startedAt] as const,
      { timeout: 10_000, polling: 250 },
    );
    // The quality menu lists the ladder the server made of the demo's stream: Auto, then each rung by its height.
    const rungHeights = [...masterText.matchAll(/#EXT-X-STREAM-INF:.*RESOLUTION=\d+x(\d+)/g)].map((match) => `${match[1]}p`);
    const qualities = await page.locator(`${UPLOADER} [part~="replay-quality"] option`).allTextContents();
    assert.match(qualities[0] ?? '', /^Auto\b/, `the quality menu starts with Auto: ${JSON.stringify(qualities)}`);
    assert.deepEqual(qualities.slice(1).sort(), rungHeights.sort(), 'then one entry per rung of the master playlist');
    const playingS = sinceOfflineS();
    t.diagnostic(`the replay plays ${playingS} s after Offline (${((performance.now() - pressed) / 1000).toFixed(1)} s after Go offline)`);
    assert.ok(Number(playingS) * 1000 <= REPLAY_WITHIN_MS, `the replay plays within a minute of Offline, not ${playingS} s`);
    assert.deepEqual(errors, []);
  });
});
