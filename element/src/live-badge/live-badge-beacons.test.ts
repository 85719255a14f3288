import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { liveServer, statusReached, TEST_CHANNEL } from '../testing/live-server.js';
import { after, before, describe, it } from '../testing/mocha.js';
import type { LiveUpload } from '../live-upload/live-upload.js';
import { referrerOrigin } from '../live-upload/viewing-beacons-session.js';
import '../live-upload/live-upload.js';
import type { LiveBadge } from './live-badge.js';
import './live-badge.js';

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

/** The audience report of a broadcast, from the real server (the admin API, through the test runner). */
const audienceOf = (canonicalId: string) => executeServerCommand<{ by_surface: Record<string, { viewer_minutes: number }> }, { canonicalId: string }>('live-audience', { canonicalId });

describe('<live-badge> audience beacons (issue 27)', () => {
  it('sends a referrer as its origin alone (never its path or query), direct for none or this page', () => {
    expect(referrerOrigin('https://www.twitch.tv/acme_live?token=secret', 'https://blog.example')).to.equal('https://www.twitch.tv');
    expect(referrerOrigin('https://blog.example/other-post', 'https://blog.example')).to.equal('direct');
    expect(referrerOrigin('', 'https://blog.example')).to.equal('direct');
    expect(referrerOrigin('javascript:alert(1)', undefined)).to.equal('direct');
    expect(referrerOrigin('https://news.example/a', undefined)).to.equal('https://news.example');
  });

  let endpoint = '';
  before(async function () {
    this.timeout(60_000);
    endpoint = await liveServer.url();
    await liveServer.goLive('Badge beacon test');
  });
  after(async () => {
    await liveServer.goOffline();
  });

  it('alone sends a start beacon of surface badge (or the beacon-surface it is told) that the server counts; with no-beacons or inside <live-upload> none; one session per page', async function () {
    this.timeout(60_000);
    const recorder = recordBeacons();
    try {
      const quiet = await fixture<LiveBadge>(html`<live-badge endpoint=${endpoint} channel=${TEST_CHANNEL} no-beacons></live-badge>`);
      const player = await fixture<LiveUpload>(html`<live-upload endpoint=${endpoint} channel=${TEST_CHANNEL} no-beacons></live-upload>`);
      const badge = await fixture<LiveBadge>(html`<live-badge endpoint=${endpoint} channel=${TEST_CHANNEL}></live-badge>`);
      const second = await fixture<LiveBadge>(html`<live-badge endpoint=${endpoint} channel=${TEST_CHANNEL} no-title></live-badge>`);
      // The badge that stands for the player on our landing page says so; a value that is no surface counts as badge.
      const landing = await fixture<LiveBadge>(html`<live-badge endpoint=${endpoint} channel=${TEST_CHANNEL} beacon-surface="landing"></live-badge>`);
      const hostile = await fixture<LiveBadge>(html`<live-badge endpoint=${endpoint} channel=${TEST_CHANNEL} beacon-surface="<img src=x>"></live-badge>`);
      const inner = player.shadowRoot!.querySelector<LiveBadge>('live-badge');
      expect(inner, '<live-upload> shows its own badge').to.not.equal(null);
      await Promise.all([quiet, badge, second, landing, hostile, inner!].map((element) => statusReached(element, 'live')));
      await waitUntil(() => recorder.sent.length >= 4, 'the four badges\' beacons sent', { timeout: 20_000 });

      const record = (await (await fetch(`${endpoint}/api/v1/channels/${TEST_CHANNEL}`)).json()) as { canonical_id: string };
      expect(recorder.sent.length, 'only the badges alone, without no-beacons, send').to.equal(4);
      const bodies = recorder.sent.map((sent) => JSON.parse(sent.body) as Record<string, unknown>);
      expect(bodies.map((body) => body['surface']).sort()).to.deep.equal(['badge', 'badge', 'badge', 'landing']);
      const start = recorder.sent[bodies.findIndex((body) => body['surface'] === 'badge')]!;
      // One page view, one viewer: every element of the page sends the same session.
      const badgeBodies = bodies.filter((body) => body['surface'] === 'badge');
      for (const other of badgeBodies) expect(other).to.deep.equal(JSON.parse(start.body));
      // The landing page is ours: no host origin is said for it.
      const { host_origin: _hostOrigin, ...sameOnLanding } = badgeBodies[0]!;
      expect(bodies.find((body) => body['surface'] === 'landing')).to.deep.equal({ ...sameOnLanding, surface: 'landing' });
      expect(start.url).to.equal(`${endpoint}/api/v1/beacons`);
      const body = JSON.parse(start.body) as Record<string, unknown>;
      expect(body).to.include({ canonical_id: record.canonical_id, channel: TEST_CHANNEL, event: 'start', surface: 'badge', host_origin: location.origin, referrer: 'direct' });

      // The real server took it and counted it: the broadcast's report has a viewer on this page's badge.
      const surface = `badge ${location.origin}`;
      await waitUntil(async () => ((await audienceOf(record.canonical_id)).by_surface[surface]?.viewer_minutes ?? 0) >= 1, `the server counted a viewer of surface "${surface}"`, { timeout: 20_000, interval: 250 });
    } finally {
      recorder.restore();
    }
  });
});
