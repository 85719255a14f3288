import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import type { LiveStatus } from '@live-upload/schema';
import { liveServer, statusReached } from '../testing/live-server.js';
import { afterEach, before, describe, it } from '../testing/mocha.js';
import './live-upload.js';
import type { LiveUpload } from './live-upload.js';

// The whole loop of issue 23 on the element's main test server (test/support/test-server.ts runs
// every worker kind: the origin with its real collaborators, the pipeline's origin provider):
// a publisher element goes live from Chromium's fake devices, a viewer element for the same
// channel shows LIVE and plays the origin's HLS, End takes the badge offline.

const CHANNEL = 'acme/origin-show';
const shadow = (element: LiveUpload) => element.shadowRoot!;

let opened: LiveUpload[] = [];
afterEach(async () => {
  for (const element of opened) await element.stopPreview();
  opened = [];
});

describe('<live-upload publish> into our origin, seen by a viewer', () => {
  let endpoint = '';
  before(async function () {
    this.timeout(60_000);
    endpoint = await liveServer.url();
    await liveServer.createChannel(CHANNEL, 'Acme Origin Show');
  });

  it('goes live; a viewer’s badge shows LIVE and its player plays the origin’s HLS; End takes the badge offline', async function () {
    this.timeout(180_000);
    const grants: string[] = [];
    const page = await fixture<HTMLDivElement>(html`<div>
      <live-upload publish endpoint=${endpoint} channel=${CHANNEL}
        .publishGrant=${async () => {
          const token = await liveServer.publisherGrant(CHANNEL);
          grants.push(token);
          return token;
        }}></live-upload>
      <live-upload endpoint=${endpoint} channel=${CHANNEL}></live-upload>
    </div>`);
    const [publisher, viewer] = [...page.querySelectorAll('live-upload')] as LiveUpload[];
    opened.push(publisher!);
    const badge = shadow(viewer!).querySelector('live-badge') as HTMLElement & { status?: LiveStatus };
    await waitUntil(() => badge.status !== undefined, 'the viewer’s badge knows the status', { timeout: 10_000 });
    expect(badge.status).to.equal('offline');

    await publisher!.startPreview();
    const pressedAt = performance.now();
    await publisher!.goLive();
    await waitUntil(() => publisher!.publishState === 'live', 'the publisher is live', { timeout: 30_000, interval: 50 });
    const connectedMs = performance.now() - pressedAt;

    await statusReached(badge, 'live');
    const badgeLiveMs = performance.now() - pressedAt;
    expect(shadow(publisher!).querySelector('live-badge')!.getAttribute('channel')).to.equal(CHANNEL);
    const record = (await (await fetch(`${endpoint}/api/v1/channels/${CHANNEL}`)).json()) as { status: string; playback?: { hls?: string } };
    expect(record.status).to.equal('live');
    expect(new URL(record.playback!.hls!).pathname, 'playback.hls is our own origin').to.match(/^\/origin\/acme\/origin-show\/[0-9A-HJKMNP-TV-Z]{26}\/master\.m3u8$/);

    await waitUntil(() => shadow(viewer!).querySelector('video[part="player"]'), 'the viewer’s player', { timeout: 10_000 });
    const video = shadow(viewer!).querySelector<HTMLVideoElement>('video[part="player"]')!;
    await waitUntil(() => video.currentTime > 1 && video.videoWidth > 0, 'the viewer plays the origin’s HLS', { timeout: 60_000, interval: 100 });
    const playingMs = performance.now() - pressedAt;
    console.log(
      `Go live -> connected ${Math.round(connectedMs)} ms, -> viewer's badge LIVE ${Math.round(badgeLiveMs)} ms, -> viewer playing ${Math.round(playingMs)} ms (${video.videoWidth}x${video.videoHeight})`,
    );

    const endedAt = performance.now();
    await publisher!.endLive();
    expect(publisher!.publishState).to.equal('previewing');
    await statusReached(badge, 'offline');
    console.log(`End -> viewer's badge offline: ${Math.round(performance.now() - endedAt)} ms`);
    expect(grants.length, 'one grant, one session').to.equal(1);
  });
});
