/**
 * What a viewer sees when our origin's live ladder falls behind real time mid-broadcast and is
 * continued by a faster one (`WhipSession.continueLiveLadder`): a real Chromium page's
 * `<live-upload>` plays the origin's HLS before, across and after the change (hls.js through
 * the discontinuity and the new init segment), and the replay made of that ladder afterwards
 * holds both parts and plays across the change too. The host's CPU is taken from the ladder's
 * ffmpeg all at once (SIGSTOP), as a starved host does; a libwebrtc publisher (not ours) sends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LiveMetadata } from '@live-upload/schema';
import type { Browser } from 'playwright-core';
import { ORIGIN_LADDER_SHEDS_METRIC } from '../../server/src/origin/index.js';
import { eventually } from '../support/eventually.js';
import type { TestServer } from '../support/test-server.js';
import { publishWithLibwebrtc } from '../support/whip-wrtc-publisher.js';
import { collectPageErrors, waitForBadge } from './helpers/badge.js';
import { ladderFfmpegPid, latestReplay, startOriginScene, videoOf, type OriginScene } from './helpers/origin.js';

const CHANNEL = 'acme/relief-show';
const VIEWER = 'live-upload';
/** How long the viewer must play on after the new ladder writes: several of its segments. */
const PLAY_AFTER_S = 8;

describe('a viewer watching while the origin continues a ladder that fell behind', () => {
  let scene: OriginScene;
  let server: TestServer;
  let browser: Browser;
  let siteUrl = '';

  before(
    async () => {
      scene = await startOriginScene({ channel: CHANNEL, title: 'Acme Relief Show', graceMs: 2_000, preset: 'veryfast' });
      ({ server, browser, siteUrl } = scene);
    },
    { timeout: 120_000 },
  );
  after(() => scene?.close(), { timeout: 30_000 });

  test('plays on across the change, and the replay holds both ladders and plays across it', { timeout: 300_000 }, async (t) => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    t.after(() => context.close());
    const viewer = await context.newPage();
    const viewerErrors = collectPageErrors(viewer);
    const viewerWarnings: string[] = [];
    viewer.on('console', (message) => {
      if (message.type() === 'warning' || message.type() === 'error') viewerWarnings.push(message.text().slice(0, 300));
    });
    await viewer.goto(`${siteUrl}/watch`, { waitUntil: 'load' });

    const grant = await server.request(`/api/v1/channels/${CHANNEL}/publisher-grants`, {
      method: 'POST',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ capabilities: ['go-live'] }),
    });
    assert.equal(grant.status, 201, await grant.clone().text());
    const publication = await publishWithLibwebrtc(`${server.url}/api/v1/channels/${CHANNEL}/whip`, ((await grant.json()) as { token: string }).token, { width: 640, height: 360 });
    t.after(() => publication.close());
    assert.equal(publication.status, 201, publication.body);
    const sessionId = publication.location!.split('/').at(-1)!;

    await waitForBadge(viewer, `${VIEWER} live-badge`, /^Live\b/, 30_000);
    const live = (await (await fetch(`${server.url}/api/v1/channels/${CHANNEL}`)).json()) as LiveMetadata;
    const rungUrl = new URL('360p/index.m3u8', live.playback!.hls!);
    const playing = await eventually(
      async () => {
        const video = await videoOf(viewer, VIEWER, 'player');
        return video && video.currentTime > 2 && video.width > 0 ? video : undefined;
      },
      'the viewer to play',
      60_000,
      { intervalMs: 200 },
    ).catch(async (error: unknown) => {
      throw new Error(`the viewer did not play: ${JSON.stringify(await videoOf(viewer, VIEWER, 'player'))}; ${viewerWarnings.join(' | ')}`, { cause: error });
    });
    t.diagnostic(`playing ${playing.width}x${playing.height} at ${playing.currentTime.toFixed(1)} s`);

    const sheds = async () => ((await server.running.metrics.registry.getSingleMetric(ORIGIN_LADDER_SHEDS_METRIC)!.get()).values.find((sample) => sample.labels['when'] === 'live')?.value ?? 0);
    // How long the picture stands still around the change (the longest wall time the viewer's time does not advance).
    let stall = { longestMs: 0, since: Date.now(), last: playing.currentTime };
    const sampler = setInterval(() => {
      void videoOf(viewer, VIEWER, 'player').then((video) => {
        if (!video) return;
        const now = Date.now();
        if (video.currentTime > stall.last) stall = { longestMs: Math.max(stall.longestMs, now - stall.since), since: now, last: video.currentTime };
      }, () => undefined);
    }, 100);
    t.after(() => clearInterval(sampler));
    const pid = await ladderFfmpegPid(sessionId);
    const stoppedAt = Date.now();
    process.kill(pid, 'SIGSTOP');
    try {
      await eventually(async () => (await sheds()) >= 1, 'the ladder judged behind and continued', 15_000, { intervalMs: 100 });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const atChange = (await videoOf(viewer, VIEWER, 'player'))!;
    await eventually(async () => ((await (await fetch(rungUrl)).text()).includes('init_r1_360p.mp4') ? true : undefined), 'the served 360p playlist continued', 30_000, { intervalMs: 100 });
    t.diagnostic(`the new ladder served ${Date.now() - stoppedAt} ms after ffmpeg was stopped; the viewer at ${atChange.currentTime.toFixed(1)} s then`);
    const served = await (await fetch(rungUrl)).text();
    assert.match(served, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init_r1_360p\.mp4"\n/, served);
    const init = await fetch(new URL('init_r1_360p.mp4', rungUrl));
    assert.equal(init.status, 200, 'the new init segment is served');
    await init.arrayBuffer();

    const carriedOn = await eventually(
      async () => {
        const video = await videoOf(viewer, VIEWER, 'player');
        return video && video.currentTime >= atChange.currentTime + PLAY_AFTER_S ? video : undefined;
      },
      `the viewer to play ${PLAY_AFTER_S} s past the change`,
      60_000,
      { intervalMs: 250 },
    ).catch(async (error: unknown) => {
      throw new Error(`the viewer stopped at the change: ${JSON.stringify(await videoOf(viewer, VIEWER, 'player'))}; ${viewerWarnings.join(' | ')}`, { cause: error });
    });
    clearInterval(sampler);
    t.diagnostic(`the viewer played on to ${carriedOn.currentTime.toFixed(1)} s, ${carriedOn.width}x${carriedOn.height}; the picture stood still for ${stall.longestMs} ms at most`);
    assert.equal(carriedOn.error, null);
    assert.ok(carriedOn.width > 0);

    assert.equal((await fetch(`${server.url}${publication.location}`, { method: 'DELETE' })).status, 200);
    const replay = await eventually(() => latestReplay(server.url, CHANNEL), 'the replay', 90_000, { intervalMs: 500 });
    t.diagnostic(`the replay: ${replay.duration_s} s`);
    assert.ok(replay.duration_s !== null && replay.duration_s >= PLAY_AFTER_S + 4, `the replay holds the broadcast: ${replay.duration_s} s`);
    const masterText = await (await fetch(replay.url)).text();
    const replayRung = new URL(/^360p\/[^\s]*\.m3u8$/m.exec(masterText)![0], replay.url);
    const rungText = await (await fetch(replayRung)).text();
    assert.equal(rungText.split('\n').filter((line) => line === '#EXT-X-DISCONTINUITY').length, 1, rungText);
    const maps = [...rungText.matchAll(/#EXT-X-MAP:URI="([^"]+)"/g)].map((match) => match[1]!);
    assert.equal(maps.length, 2, rungText);
    for (const uri of [...maps, ...rungText.split('\n').filter((line) => line.endsWith('.m4s'))]) {
      const file = await fetch(new URL(uri, replayRung));
      assert.equal(file.status, 200, uri);
      await file.arrayBuffer();
    }
    // Where the second ladder starts in the replay: the durations before its discontinuity.
    const changeS = rungText
      .slice(0, rungText.indexOf('#EXT-X-DISCONTINUITY'))
      .split('\n')
      .filter((line) => line.startsWith('#EXTINF:'))
      .reduce((sum, line) => sum + Number(/#EXTINF:([\d.]+)/.exec(line)![1]), 0);

    const watch = viewer.locator(`${VIEWER} [part~="watch-replay"]`);
    await watch.waitFor({ state: 'visible', timeout: 30_000 });
    await watch.click();
    await eventually(async () => ((await videoOf(viewer, VIEWER, 'replay'))?.currentTime ?? 0) > 0.5, 'the replay to play', 30_000, { intervalMs: 250 });
    // Just before the change, then on across it.
    await viewer.evaluate(
      ([selector, at]) => {
        const video = document.querySelector(selector!)!.shadowRoot!.querySelector<HTMLVideoElement>('video[part~="replay"]')!;
        video.currentTime = Number(at);
      },
      [VIEWER, String(Math.max(0, changeS - 1.5))] as const,
    );
    const across = await eventually(
      async () => {
        const video = await videoOf(viewer, VIEWER, 'replay');
        return video && video.currentTime >= changeS + 2 ? video : undefined;
      },
      'the replay to play across the change',
      30_000,
      { intervalMs: 250 },
    ).catch(async (error: unknown) => {
      throw new Error(`the replay stopped at the change (${changeS.toFixed(2)} s): ${JSON.stringify(await videoOf(viewer, VIEWER, 'replay'))}; ${viewerWarnings.join(' | ')}`, { cause: error });
    });
    t.diagnostic(`the replay played across its change at ${changeS.toFixed(2)} s to ${across.currentTime.toFixed(1)} s`);
    assert.equal(across.error, null);
    assert.deepEqual(viewerErrors, []);
  });
});
