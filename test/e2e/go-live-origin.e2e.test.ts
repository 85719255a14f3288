/**
 * Issue 23, "what must be shown": a real Chromium with fake media devices. A publisher page's
 * `<live-upload publish>` goes live through WHIP into our own origin; within a few seconds a
 * second page's `<live-upload>` (a viewer of the channel) shows LIVE and its player plays our
 * HLS (time advancing, a picture of the ladder's size); the publisher ends; the viewer's badge
 * turns offline after the (shortened) grace window; the replay exists: it is the channel's
 * `latest_replay` on `/status`, made of the origin's own ladder (an `origin-ladder` job, no second
 * transcode), its master playlist and a segment are served, and the viewer page offers Watch the
 * replay, which plays it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LiveMetadata } from '@live-upload/schema';
import type { Browser, Page } from 'playwright-core';
import { eventually } from '../support/eventually.js';
import type { TestServer } from '../support/test-server.js';
import { collectPageErrors, waitForBadge } from './helpers/badge.js';
import { latestReplay, startOriginScene, videoOf, type OriginScene } from './helpers/origin.js';

const CHANNEL = 'acme/origin-show';
/** The grace window of this test's server: short, so the test sees OFFLINE soon after End. */
const GRACE_MS = 3_000;
/** "Within a few seconds": from the publisher connected to the viewer's badge saying Live. */
const LIVE_WITHIN_MS = 8_000;
/** How long the publisher stays live after the viewer plays: a replay of several 2 s segments. */
const LIVE_SECONDS = 8;
const VIEWER = 'live-upload';
const VIEWER_BADGE = `${VIEWER} live-badge`;

/** What the viewer element shows, for failure messages. */
function viewerState(page: Page): Promise<unknown> {
  return page.evaluate((selector) => {
    const root = document.querySelector(selector)?.shadowRoot;
    return {
      parts: [...(root?.querySelectorAll('[part]') ?? [])].map((element) => element.getAttribute('part')),
      error: root?.querySelector('[part="error"]')?.textContent,
      videos: [...(root?.querySelectorAll('video') ?? [])].map((video) => ({
        part: video.getAttribute('part'),
        readyState: video.readyState,
        paused: video.paused,
        currentTime: video.currentTime,
        size: `${video.videoWidth}x${video.videoHeight}`,
        error: video.error?.message,
      })),
    };
  }, VIEWER);
}

function sha256(bytes: ArrayBuffer): string {
  return createHash('sha256').update(new Uint8Array(bytes)).digest('hex');
}

describe('go live from <live-upload publish> into our origin, watched from a second page', () => {
  let scene: OriginScene;
  let server: TestServer;
  let browser: Browser;
  let siteUrl = '';

  before(
    async () => {
      scene = await startOriginScene({ channel: CHANNEL, title: 'Acme Origin Show', graceMs: GRACE_MS, preset: 'ultrafast' });
      ({ server, browser, siteUrl } = scene);
    },
    { timeout: 120_000 },
  );
  after(() => scene?.close(), { timeout: 30_000 });

  test('live within seconds on the viewer page, plays our HLS, End, offline after the grace window, the replay plays', { timeout: 300_000 }, async (t) => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    t.after(() => context.close());
    const viewer = await context.newPage();
    const viewerErrors = collectPageErrors(viewer);
    // What the element said when it gave up (its console warning names hls.js's error), for a failure message.
    const viewerWarnings: string[] = [];
    viewer.on('console', (message) => {
      if (message.type() === 'warning' || message.type() === 'info') viewerWarnings.push(message.text().slice(0, 300));
    });
    await viewer.goto(`${siteUrl}/watch`, { waitUntil: 'load' });
    await waitForBadge(viewer, VIEWER_BADGE, /^Offline$/, 15_000);
    assert.equal(await latestReplay(server.url, CHANNEL), undefined, 'no replay before the broadcast');

    const publisher = await context.newPage();
    const publisherErrors = collectPageErrors(publisher);
    const grants: string[] = [];
    // The host page's grant source: its own back end asks our admin API for a go-live grant.
    await publisher.exposeFunction('fetchGoLiveGrant', async () => {
      const response = await server.request(`/api/v1/channels/${CHANNEL}/publisher-grants`, {
        method: 'POST',
        admin: true,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ capabilities: ['go-live'] }),
      });
      assert.equal(response.status, 201, await response.clone().text());
      const { token } = (await response.json()) as { token: string };
      grants.push(token);
      return token;
    });
    // The offer the element posts declares its camera's size (RFC 6236 imageattr): the origin plans the ladder from it.
    const offers: string[] = [];
    publisher.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/whip')) offers.push(request.postData() ?? '');
    });
    await publisher.goto(`${siteUrl}/publish`, { waitUntil: 'load' });
    await publisher.waitForFunction(() => customElements.get('live-upload') !== undefined);
    const connectedMs = await publisher.evaluate(async () => {
      type Publisher = HTMLElement & { publishGrant: () => Promise<string>; publishState: string; startPreview(): Promise<void>; goLive(): Promise<void> };
      const element = document.querySelector('live-upload') as Publisher;
      element.publishGrant = () => (window as unknown as { fetchGoLiveGrant(): Promise<string> }).fetchGoLiveGrant();
      await element.startPreview();
      const pressedAt = performance.now();
      await element.goLive();
      while (element.publishState !== 'live') {
        if (performance.now() - pressedAt > 30_000) throw new Error(`the publisher is ${element.publishState} 30 s after Go live`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return performance.now() - pressedAt;
    });
    const connectedAt = performance.now();
    t.diagnostic(`Go live -> publisher connected: ${Math.round(connectedMs)} ms`);
    const declared = /^a=imageattr:\* send \[x=(\d+),y=(\d+)\] recv \*$/m.exec(offers.at(-1)?.replace(/\r/g, '') ?? '');
    assert.ok(declared, `the offer declares the picture it will send: ${offers.at(-1)?.slice(0, 2000)}`);
    assert.ok(Number(declared[2]) >= 360 && Math.abs(Number(declared[1]) / Number(declared[2]) - 16 / 9) < 0.02, `the fake camera's 16:9 picture, at least the top rung: ${declared[0]}`);
    t.diagnostic(`the offer declared ${declared[1]}x${declared[2]}`);

    await waitForBadge(viewer, VIEWER_BADGE, /^Live\b/, LIVE_WITHIN_MS);
    const badgeLiveMs = performance.now() - connectedAt;
    t.diagnostic(`publisher connected -> the viewer page's badge Live: ${Math.round(badgeLiveMs)} ms`);
    const live = (await (await fetch(`${server.url}/api/v1/channels/${CHANNEL}`)).json()) as LiveMetadata;
    assert.equal(live.status, 'live');
    assert.match(new URL(live.playback!.hls!).pathname, /^\/origin\/acme\/origin-show\/[0-9A-HJKMNP-TV-Z]{26}\/master\.m3u8$/, 'playback.hls is our own origin');

    // The ladder by the camera's 640x360. In loaded full e2e runs the browser's encoder used to
    // start at 320x180 (libwebrtc's default degradation on a low first bandwidth estimate or a busy
    // CPU) and the origin kept a 180p-only ladder: the element now keeps its picture size, and the
    // origin plans again if a picture grows before the ladder is live.
    const liveMaster = new URL(live.playback!.hls!);
    const liveMasterText = await eventually(async () => {
      const text = await (await fetch(liveMaster)).text();
      return /#EXT-X-STREAM-INF/.test(text) ? text : undefined;
    }, 'the live master playlist', 45_000, { intervalMs: 250 });
    const ladderSizes = [...liveMasterText.matchAll(/RESOLUTION=(\d+x\d+)/g)].map((match) => match[1]!);
    const topRungName = /^([0-9]+p)\/index\.m3u8$/m.exec(liveMasterText)?.[1];
    assert.ok(topRungName && ladderSizes.length > 0, liveMasterText);
    t.diagnostic(`the live ladder: ${ladderSizes.join(', ')}`);
    assert.deepEqual(ladderSizes, ['640x360', '426x240'], `rungs by the camera's size, never upscaled: ${liveMasterText}`);
    assert.equal(topRungName, '360p');
    // A segment of the live ladder as the origin serves it: the replay must hold these very bytes (no second transcode).
    const liveRung = new URL(`${topRungName}/index.m3u8`, liveMaster);
    const liveSegmentUri = await eventually(async () => /^[^#\s].*\.m4s$/m.exec(await (await fetch(liveRung)).text())?.[0], `a live ${topRungName} segment`, 45_000, { intervalMs: 250 }).catch(
      async (error: unknown) => {
        const served = async (url: URL) => `${url.pathname} ${(await fetch(url).then(async (response) => `${response.status}: ${(await response.text()).slice(0, 600)}`).catch(String))}`;
        const state = (await (await fetch(`${server.url}/api/v1/channels/${CHANNEL}`)).json()) as LiveMetadata;
        throw new Error(`no live ${topRungName} segment: ${await served(liveMaster)} | ${await served(liveRung)} | channel ${state.status}`, { cause: error });
      },
    );
    const liveSegment = sha256(await (await fetch(new URL(liveSegmentUri, liveRung))).arrayBuffer());

    // The viewer's player plays our HLS: its time advances, with a picture of one of the ladder's rungs.
    const firstPlay = await eventually(
      async () => {
        const video = await videoOf(viewer, VIEWER, 'player');
        return video && video.currentTime > 1 && video.width > 0 ? video : undefined;
      },
      'the viewer page to play the origin’s HLS',
      60_000,
      { intervalMs: 200 },
    ).catch(async (error: unknown) => {
      throw new Error(`the viewer did not play: ${JSON.stringify(await viewerState(viewer))}; it said: ${viewerWarnings.join(' | ')}`, { cause: error });
    });
    t.diagnostic(`publisher connected -> the viewer plays: ${Math.round(performance.now() - connectedAt)} ms (${firstPlay.width}x${firstPlay.height})`);
    assert.ok(ladderSizes.includes(`${firstPlay.width}x${firstPlay.height}`), `a rung of the ladder (${ladderSizes.join(', ')}): ${firstPlay.width}x${firstPlay.height}`);
    await eventually(
      async () => ((await videoOf(viewer, VIEWER, 'player'))?.currentTime ?? 0) >= firstPlay.currentTime + LIVE_SECONDS,
      `the viewer to play ${LIVE_SECONDS} s more`,
      LIVE_SECONDS * 1000 + 30_000,
      { intervalMs: 250 },
    );

    const endMs = await publisher.evaluate(async () => {
      const element = document.querySelector('live-upload') as HTMLElement & { endLive(): Promise<void>; publishState: string };
      const pressedAt = performance.now();
      await element.endLive();
      if (element.publishState !== 'previewing') throw new Error(`after End the publisher is ${element.publishState}`);
      return performance.now() - pressedAt;
    });
    const endedAt = performance.now();
    t.diagnostic(`End -> the session ended (DELETE answered): ${Math.round(endMs)} ms`);
    await waitForBadge(viewer, VIEWER_BADGE, /^Offline$/, GRACE_MS + 20_000);
    const offlineMs = performance.now() - endedAt;
    t.diagnostic(`End done -> the viewer page's badge Offline: ${Math.round(offlineMs)} ms (grace ${GRACE_MS} ms)`);
    assert.ok(offlineMs + endMs >= GRACE_MS - 500, `offline only after the grace window: ${Math.round(offlineMs + endMs)} ms after End`);
    // The session ends at once (ffmpeg is woken to finish, not left to its 10 s input timeout): offline right after the grace window.
    assert.ok(offlineMs + endMs < GRACE_MS + 5_000, `offline ${Math.round(offlineMs + endMs)} ms after End, grace ${GRACE_MS} ms`);
    assert.equal(grants.length, 1, 'one grant, one session');

    // The replay: listed on /status, of this broadcast, its master playlist and a segment served.
    const replay = await eventually(() => latestReplay(server.url, CHANNEL), '/status to list the replay', 60_000, { intervalMs: 500 });
    t.diagnostic(`Offline -> latest_replay on /status: ${Math.round(performance.now() - endedAt - offlineMs)} ms`);
    assert.equal(replay.canonical_id, live.canonical_id, 'the replay is of the broadcast that just ended');
    assert.ok(replay.duration_s !== null && replay.duration_s >= LIVE_SECONDS, `the replay holds the broadcast: ${replay.duration_s} s`);
    const master = await fetch(replay.url);
    assert.equal(master.status, 200);
    const masterText = await master.text();
    for (const size of ladderSizes) assert.match(masterText, new RegExp(`RESOLUTION=${size}`), `the replay keeps the live ladder's ${size}: ${masterText}`);
    assert.doesNotMatch(masterText, /RESOLUTION=1280x720/, 'never upscaled');
    const rungUri = new RegExp(`^${topRungName}\\/[^\\s]*\\.m3u8$`, 'm').exec(masterText)?.[0];
    assert.ok(rungUri, masterText);
    const rung = await fetch(new URL(rungUri, replay.url));
    assert.equal(rung.status, 200);
    const rungText = await rung.text();
    assert.match(rungText, /#EXT-X-ENDLIST/, 'a finished VOD playlist');
    const segmentUris = rungText.split('\n').filter((line) => line.endsWith('.m4s'));
    assert.ok(segmentUris.length >= LIVE_SECONDS / 2, rungText);
    const replaySegments: string[] = [];
    for (const uri of segmentUris) {
      const served: Response = await fetch(new URL(uri, new URL(rungUri, replay.url)));
      assert.equal(served.status, 200, uri);
      const bytes = await served.arrayBuffer();
      assert.ok(bytes.byteLength > 1000, `${uri}: a segment with media in it`);
      replaySegments.push(sha256(bytes));
    }
    assert.ok(replaySegments.includes(liveSegment), `the replay holds the live ${topRungName} segment byte for byte (the origin-ladder job copies, no second transcode)`);

    // The viewer page offers Watch the replay, and it plays.
    const watch = viewer.locator(`${VIEWER} [part~="watch-replay"]`);
    await watch.waitFor({ state: 'visible', timeout: 30_000 }).catch(async (error: unknown) => {
      throw new Error(`no Watch the replay: ${JSON.stringify(await viewerState(viewer))}`, { cause: error });
    });
    await watch.click();
    const replayStart = await eventually(
      async () => {
        const video = await videoOf(viewer, VIEWER, 'replay');
        return video && !video.paused && video.currentTime > 0.5 && video.width > 0 ? video : undefined;
      },
      'the replay to play',
      30_000,
      { intervalMs: 250 },
    ).catch(async (error: unknown) => {
      throw new Error(`the replay did not play: ${JSON.stringify(await viewerState(viewer))}`, { cause: error });
    });
    await eventually(async () => ((await videoOf(viewer, VIEWER, 'replay'))?.currentTime ?? 0) > replayStart.currentTime + 1, 'the replay to keep playing', 10_000, { intervalMs: 250 });
    assert.deepEqual(viewerErrors, []);
    assert.deepEqual(publisherErrors, []);
  });
});
