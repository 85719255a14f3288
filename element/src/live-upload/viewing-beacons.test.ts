import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { liveHls } from '../testing/live-media.js';
import { liveServer, TEST_CHANNEL } from '../testing/live-server.js';
import { after, before, describe, it } from '../testing/mocha.js';
import type { LiveUpload } from './live-upload.js';
import './live-upload.js';

interface SentBeacon {
  readonly url: string;
  readonly body: string;
}

/** Records what the page hands to `navigator.sendBeacon` (and still sends it): our code calls the browser's own function. */
function recordBeacons(): { readonly sent: SentBeacon[]; restore(): void } {
  const native = navigator.sendBeacon.bind(navigator);
  const sent: SentBeacon[] = [];
  navigator.sendBeacon = (url: string | URL, data?: BodyInit | null) => {
    sent.push({ url: String(url), body: typeof data === 'string' ? data : '' });
    return native(url, data);
  };
  return { sent, restore: () => (navigator.sendBeacon = native) };
}

describe('<live-upload> audience beacons (issue 27)', () => {
  let endpoint = '';
  let hls = '';
  before(async function () {
    this.timeout(60_000);
    endpoint = await liveServer.url();
    hls = await liveHls.url();
    await liveServer.goLive('Beacon test');
  });
  after(async () => {
    await liveServer.goOffline();
  });

  it('sends a start beacon the server takes when the live stream plays, and none with no-beacons', async function () {
    this.timeout(60_000);
    const recorder = recordBeacons();
    try {
      const quiet = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL} src=${hls} no-beacons></live-upload>`);
      const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL} src=${hls}></live-upload>`);
      for (const each of [quiet, element]) {
        await waitUntil(() => each.shadowRoot!.querySelector('video[part="player"]'), 'player shown');
        const video = each.shadowRoot!.querySelector<HTMLVideoElement>('video[part="player"]')!;
        if (video.paused || video.readyState < 3) await oneEvent(video, 'playing');
      }
      await waitUntil(() => recorder.sent.length > 0, 'a beacon sent', { timeout: 20_000 });
      const record = (await (await fetch(`${endpoint}/api/v1/channels/${TEST_CHANNEL}`)).json()) as { canonical_id: string };
      expect(recorder.sent.length, 'only the element without no-beacons sends').to.equal(1);
      const [start] = recorder.sent;
      expect(start!.url).to.equal(`${endpoint}/api/v1/beacons`);
      const body = JSON.parse(start!.body) as Record<string, unknown>;
      expect(body).to.include({ canonical_id: record.canonical_id, channel: TEST_CHANNEL, event: 'start', surface: 'embed', host_origin: location.origin, referrer: 'direct' });
      expect(String(body['session'])).to.match(/^[A-Za-z0-9_-]{16,64}$/);
      // The same body, sent again: the server takes it (202), so the beacon is one it accepts.
      const again = await fetch(start!.url, { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: start!.body });
      expect(again.status).to.equal(202);
    } finally {
      recorder.restore();
    }
  });

  it('counts a beacon-surface that names no surface as embed, which the server takes (it refuses the unknown one)', async function () {
    this.timeout(60_000);
    const recorder = recordBeacons();
    try {
      const element = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL} src=${hls} beacon-surface="<img src=x>"></live-upload>`);
      await waitUntil(() => element.shadowRoot!.querySelector('video[part="player"]'), 'player shown');
      const video = element.shadowRoot!.querySelector<HTMLVideoElement>('video[part="player"]')!;
      if (video.paused || video.readyState < 3) await oneEvent(video, 'playing');
      await waitUntil(() => recorder.sent.length > 0, 'a beacon sent', { timeout: 20_000 });
      const [start] = recorder.sent;
      expect(JSON.parse(start!.body)).to.include({ event: 'start', surface: 'embed' });
      const again = await fetch(start!.url, { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: start!.body });
      expect(again.status).to.equal(202);
      const unknown = await fetch(start!.url, { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: JSON.stringify({ ...JSON.parse(start!.body), surface: '<img src=x>' }) });
      expect(unknown.status, 'what the element sent before').to.equal(400);
    } finally {
      recorder.restore();
    }
  });
});
