import { defaultBadge, type LiveStatus, type LiveStatusSummary } from '@live-upload/schema';
import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { emulateMedia } from '@web/test-runner-commands';
import type { LiveStatusChangeDetail } from '../events.js';
import { liveServer, recordEventSources, statusReached, TEST_CHANNEL } from '../testing/live-server.js';
import { axe } from '../testing/axe.js';
import { after, afterEach, before, describe, it } from '../testing/mocha.js';
import { LiveBadge } from './live-badge.js';

const HOSTILE_TITLE = '<img src=x onerror=alert(1)>';

function record(status: LiveStatus, overrides: Partial<LiveStatusSummary> = {}): LiveStatusSummary {
  return {
    channel: TEST_CHANNEL,
    status,
    title: 'Morning show',
    started_at: status === 'live' ? '2026-03-01T18:00:00Z' : null,
    viewer_count: status === 'live' ? 1234 : null,
    badge: defaultBadge(status),
    seq: 1,
    ...overrides,
  };
}

const part = (badge: LiveBadge, name: string): HTMLElement | null => badge.shadowRoot!.querySelector(`[part="${name}"]`);
const region = (badge: LiveBadge): HTMLElement => badge.shadowRoot!.querySelector('[role="status"]')!;
const shown = (element: HTMLElement | null): string => (element && element.offsetParent !== null ? element.innerText : '');

async function staticBadge(status: LiveStatus, overrides: Partial<LiveStatusSummary> = {}): Promise<LiveBadge> {
  return fixture<LiveBadge>(html`<live-badge .record=${record(status, overrides)}></live-badge>`);
}

async function expectNoAxeViolations(badge: LiveBadge): Promise<void> {
  const { violations } = await (await axe()).run(badge);
  expect(violations.map((violation) => `${violation.id}: ${violation.help}`)).to.deep.equal([]);
}

describe('<live-badge> rendering a record', () => {
  it('is defined once as live-badge', () => {
    expect(customElements.get('live-badge')).to.equal(LiveBadge);
    expect(document.createElement('live-badge')).to.be.instanceOf(LiveBadge);
  });

  it('has an empty polite status region before it knows anything', async () => {
    const badge = await fixture<LiveBadge>(html`<live-badge></live-badge>`);
    expect(region(badge).getAttribute('aria-live')).to.equal('polite');
    expect(region(badge).textContent).to.equal('');
    expect(part(badge, 'base')).to.equal(null);
    expect(badge.hasAttribute('status')).to.equal(false);
  });

  it('shows LIVE with the title and viewer count, and says "Live: {title}"', async () => {
    const badge = await staticBadge('live');
    expect(badge.getAttribute('status')).to.equal('live');
    expect(shown(part(badge, 'label'))).to.equal('LIVE');
    expect(shown(part(badge, 'title'))).to.equal('Morning show');
    expect(shown(part(badge, 'viewers'))).to.equal('1,234 watching');
    expect(region(badge).textContent).to.equal('Live: Morning show, 1,234 watching');
    expect(part(badge, 'base')!.getAttribute('aria-hidden')).to.equal('true');
  });

  it('shows LIVE without a viewer count when there is none', async () => {
    const badge = await staticBadge('live', { viewer_count: null });
    expect(shown(part(badge, 'viewers'))).to.equal('');
    expect(region(badge).textContent).to.equal('Live: Morning show');
  });

  it('shows a viewer count of zero', async () => {
    const badge = await staticBadge('live', { viewer_count: 0 });
    expect(shown(part(badge, 'viewers'))).to.equal('0 watching');
  });

  it('shows OFFLINE, without title or viewers, and says "Offline"', async () => {
    const badge = await staticBadge('offline', { viewer_count: 5 });
    expect(badge.getAttribute('status')).to.equal('offline');
    expect(shown(part(badge, 'label'))).to.equal('OFFLINE');
    expect(shown(part(badge, 'title'))).to.equal('');
    expect(shown(part(badge, 'viewers'))).to.equal('');
    expect(region(badge).textContent).to.equal('Offline');
  });

  it('shows a scheduled stream with its title', async () => {
    const badge = await staticBadge('scheduled', { title: 'Tomorrow 9:00' });
    expect(shown(part(badge, 'label'))).to.equal('SOON');
    expect(region(badge).textContent).to.equal('Soon: Tomorrow 9:00');
  });

  it('hides the title with no-title', async () => {
    const badge = await fixture<LiveBadge>(html`<live-badge no-title .record=${record('live')}></live-badge>`);
    expect(shown(part(badge, 'title'))).to.equal('');
    expect(region(badge).textContent).to.equal('Live, 1,234 watching');
  });

  it('renders a static status attribute without a channel', async () => {
    const badge = await fixture<LiveBadge>(html`<live-badge status="live"></live-badge>`);
    expect(shown(part(badge, 'label'))).to.equal('LIVE');
    expect(region(badge).textContent).to.equal('Live');
  });

  it('colours the pill per status and lets --live-* properties restyle it', async () => {
    const live = await staticBadge('live');
    expect(getComputedStyle(part(live, 'label')!).backgroundColor).to.equal('rgb(229, 19, 58)');
    const offline = await staticBadge('offline');
    expect(getComputedStyle(part(offline, 'label')!).backgroundColor).to.equal('rgb(95, 99, 104)');
    const themed = await fixture<LiveBadge>(
      html`<live-badge style="--live-live-color: rgb(0, 0, 255); --live-label-color: rgb(1, 2, 3)" .record=${record('live')}></live-badge>`,
    );
    expect(getComputedStyle(part(themed, 'label')!).backgroundColor).to.equal('rgb(0, 0, 255)');
    expect(getComputedStyle(part(themed, 'label')!).color).to.equal('rgb(1, 2, 3)');
  });

  it('fires a bubbling, composed live-status-change when the status becomes known or changes, not on title updates', async () => {
    const seen: LiveStatusChangeDetail[] = [];
    const listener = (event: CustomEvent<LiveStatusChangeDetail>) => seen.push(event.detail);
    document.addEventListener('live-status-change', listener);
    try {
      const badge = await staticBadge('offline');
      badge.record = record('offline', { title: 'New title', seq: 2 });
      await badge.updateComplete;
      badge.record = record('live', { seq: 3 });
      await badge.updateComplete;
      expect(seen.map(({ channel, status, record: { seq } }) => ({ channel, status, seq }))).to.deep.equal([
        { channel: TEST_CHANNEL, status: 'offline', seq: 1 },
        { channel: TEST_CHANNEL, status: 'live', seq: 3 },
      ]);
    } finally {
      document.removeEventListener('live-status-change', listener);
    }
  });

  it('renders a hostile title as literal text', async () => {
    const badge = await staticBadge('live', { title: HOSTILE_TITLE });
    expect(shown(part(badge, 'title'))).to.equal(HOSTILE_TITLE);
    expect(region(badge).textContent).to.equal(`Live: ${HOSTILE_TITLE}, 1,234 watching`);
    expect(badge.shadowRoot!.querySelector('img')).to.equal(null);
  });
});

describe('<live-badge> labels', () => {
  it('follows the closest lang: de, de-CH, fr, and English for others', async () => {
    const cases: Array<[string, LiveStatus, string, string]> = [
      ['de', 'live', 'LIVE', 'Live: Morning show, 1.234 Zuschauer'],
      ['de-CH', 'scheduled', 'BALD', 'Bald: Morning show'],
      ['fr', 'live', 'EN DIRECT', 'En direct\u00a0: Morning show, 1\u202f234 spectateurs'],
      ['fr', 'offline', 'HORS LIGNE', 'Hors ligne'],
      ['ja', 'offline', 'OFFLINE', 'Offline'],
    ];
    for (const [lang, status, label, spoken] of cases) {
      const wrapper = await fixture<HTMLDivElement>(html`<div lang=${lang}><live-badge .record=${record(status)}></live-badge></div>`);
      const badge = wrapper.querySelector('live-badge')!;
      await badge.updateComplete;
      expect(shown(part(badge, 'label')), lang).to.equal(label);
      expect(region(badge).textContent, lang).to.equal(spoken);
    }
  });

  it("prefers the badge's own lang attribute", async () => {
    const wrapper = await fixture<HTMLDivElement>(html`<div lang="fr"><live-badge lang="de" .record=${record('offline')}></live-badge></div>`);
    expect(region(wrapper.querySelector('live-badge')!).textContent).to.equal('Offline');
    expect(shown(part(wrapper.querySelector('live-badge')!, 'label'))).to.equal('OFFLINE');
  });

  it('follows a lang a page changes after load, on <html> or any ancestor', async () => {
    const wrapper = await fixture<HTMLDivElement>(html`<div><live-badge .record=${record('live')}></live-badge></div>`);
    const badge = wrapper.querySelector('live-badge')!;
    await badge.updateComplete;
    const root = document.documentElement;
    const before = root.getAttribute('lang');
    try {
      root.setAttribute('lang', 'fr');
      await waitUntil(() => shown(part(badge, 'label')) === 'EN DIRECT', 'French from <html lang>');
      wrapper.setAttribute('lang', 'de');
      await waitUntil(() => region(badge).textContent === 'Live: Morning show, 1.234 Zuschauer', 'German from the nearer ancestor');
    } finally {
      if (before === null) root.removeAttribute('lang');
      else root.setAttribute('lang', before);
    }
  });

  it('takes label overrides from the labels property', async () => {
    const badge = await fixture<LiveBadge>(
      html`<live-badge .labels=${{ live: 'On air', viewers: '{count} tuned in' }} .record=${record('live')}></live-badge>`,
    );
    expect(shown(part(badge, 'label'))).to.equal('ON AIR');
    expect(region(badge).textContent).to.equal('On air: Morning show, 1,234 tuned in');
  });
});

describe('<live-badge> motion and accessibility', () => {
  afterEach(() => emulateMedia({ reducedMotion: 'no-preference' }));

  it('pulses the dot while live, and not under prefers-reduced-motion', async () => {
    await emulateMedia({ reducedMotion: 'no-preference' });
    const badge = await staticBadge('live');
    expect(getComputedStyle(part(badge, 'dot')!).animationName).to.equal('live-pulse');
    await emulateMedia({ reducedMotion: 'reduce' });
    expect(getComputedStyle(part(badge, 'dot')!).animationName).to.equal('none');
  });

  it('does not pulse while offline', async () => {
    const badge = await staticBadge('offline');
    expect(getComputedStyle(part(badge, 'dot')!).animationName).to.equal('none');
  });

  for (const status of ['live', 'offline', 'scheduled'] as const) {
    it(`has no axe-core violations while ${status}`, async () => {
      await expectNoAxeViolations(await staticBadge(status));
    });
  }

  it('has no axe-core violations with a hostile title', async () => {
    await expectNoAxeViolations(await staticBadge('live', { title: HOSTILE_TITLE }));
  });
});

describe('<live-badge> with the live server', () => {
  let endpoint = '';

  before(async () => {
    endpoint = await liveServer.url();
  });

  after(async () => {
    await liveServer.goOffline();
  });

  async function offlineBadge(): Promise<LiveBadge> {
    await liveServer.goOffline();
    const badge = await fixture<LiveBadge>(html`<live-badge endpoint=${endpoint} channel=${TEST_CHANNEL}></live-badge>`);
    await statusReached(badge, 'offline');
    return badge;
  }

  it('shows the snapshot, then LIVE with the title once the stream goes online', async () => {
    const badge = await offlineBadge();
    const change = oneEvent(badge, 'live-status-change');
    await liveServer.goLive('Morning news');
    const { detail } = await change;
    expect(detail.status).to.equal('live');
    expect(detail.channel).to.equal(TEST_CHANNEL);
    expect(detail.record.channel).to.equal(TEST_CHANNEL);
    expect(badge.getAttribute('status')).to.equal('live');
    await waitUntil(() => shown(part(badge, 'title')) === 'Morning news', 'title shown');
    expect(region(badge).textContent).to.equal('Live: Morning news');
  });

  it('updates the title in place, without a status change event', async () => {
    const badge = await offlineBadge();
    await liveServer.goLive('First title');
    await statusReached(badge, 'live');
    let changes = 0;
    badge.addEventListener('live-status-change', () => changes++);
    await liveServer.updateTitle('Second title');
    await waitUntil(() => shown(part(badge, 'title')) === 'Second title', 'new title shown');
    expect(changes).to.equal(0);
  });

  it('holds LIVE through the grace window, then shows Offline', async () => {
    const badge = await offlineBadge();
    await liveServer.goLive();
    await statusReached(badge, 'live');
    await liveServer.goOffline();
    expect(badge.status, 'still live inside the grace window').to.equal('live');
    await statusReached(badge, 'offline');
    expect(region(badge).textContent).to.equal('Offline');
  });

  it('renders a hostile title from the server as text', async () => {
    const page = window as unknown as { xssRan?: boolean };
    page.xssRan = false;
    const hostile = '<img src=x onerror="window.xssRan=true">';
    const badge = await offlineBadge();
    await liveServer.goLive(hostile);
    await waitUntil(() => shown(part(badge, 'title')) === hostile, 'hostile title shown as text');
    expect(badge.shadowRoot!.querySelector('img')).to.equal(null);
    expect(page.xssRan).to.equal(false);
  });

  it('shares ONE EventSource between all badges on the page, and closes it with the last one', async () => {
    await liveServer.createChannel('acme/evening-show', 'Acme Evening Show');
    const sources = recordEventSources();
    try {
      const wrapper = await fixture<HTMLDivElement>(html`<div>
        <live-badge endpoint=${endpoint} channel=${TEST_CHANNEL}></live-badge>
        <live-badge endpoint=${endpoint} channel="acme/evening-show"></live-badge>
        <live-badge endpoint=${endpoint} channel=${TEST_CHANNEL} no-title></live-badge>
      </div>`);
      const badges = [...wrapper.querySelectorAll('live-badge')];
      await Promise.all(badges.map((badge) => badge.status ?? oneEvent(badge, 'live-status-change')));
      expect(sources.opened.length).to.equal(1);
      const url = new URL(sources.opened[0]!.url);
      expect(url.pathname).to.equal('/api/v1/live/events');
      expect(url.searchParams.getAll('channel')).to.deep.equal(['acme/evening-show', TEST_CHANNEL]);
      expect(badges[1]!.status, 'a new channel starts offline').to.equal('offline');
      expect(region(badges[1]!).textContent).to.equal('Offline');
      expect(badges[2]!.status).to.equal(badges[0]!.status);

      badges[0]!.remove();
      badges[2]!.remove();
      await Promise.resolve();
      expect(sources.opened.length, 'channel set changed: reopened once').to.equal(2);
      expect(new URL(sources.opened[1]!.url).searchParams.getAll('channel')).to.deep.equal(['acme/evening-show']);
      badges[1]!.remove();
      await Promise.resolve();
      expect(sources.opened.map((source) => source.readyState)).to.deep.equal([EventSource.CLOSED, EventSource.CLOSED]);
    } finally {
      sources.restore();
    }
  });
});
