import type { LiveStatusSummary } from '@live-upload/schema';
import { expect, waitUntil } from '@open-wc/testing';
import {
  documentLiveStatusRegistry,
  liveEventsUrl,
  LiveStatusRegistry,
  MAX_CHANNELS_PER_CONNECTION,
} from './live-status-connection.js';
import type { ReplayProgress } from './status-record.js';
import { liveServer, recordEventSources, TEST_CHANNEL } from './testing/live-server.js';
import { after, afterEach, before, beforeEach, describe, it } from './testing/mocha.js';

const SECOND_CHANNEL = 'acme/late-show';
const microtask = (): Promise<void> => Promise.resolve();

describe('liveEventsUrl', () => {
  it('names every channel and, when resuming, the last event id', () => {
    const url = new URL(liveEventsUrl('https://live.example/', ['a/b', 'c/d'], 'a/b=3,c/d=1'));
    expect(url.origin + url.pathname).to.equal('https://live.example/api/v1/live/events');
    expect(url.searchParams.getAll('channel')).to.deep.equal(['a/b', 'c/d']);
    expect(url.searchParams.get('last_event_id')).to.equal('a/b=3,c/d=1');
    expect(new URL(liveEventsUrl('https://live.example', ['a/b'])).searchParams.has('last_event_id')).to.equal(false);
  });

  it('is relative to the page for the default endpoint', () => {
    expect(liveEventsUrl('', ['a/b'])).to.equal('/api/v1/live/events?channel=a%2Fb');
  });
});

describe('documentLiveStatusRegistry', () => {
  it('is one registry per document', () => {
    expect(documentLiveStatusRegistry()).to.equal(documentLiveStatusRegistry(document));
    expect(documentLiveStatusRegistry(document.implementation.createHTMLDocument())).to.not.equal(documentLiveStatusRegistry());
  });
});

describe('LiveStatusRegistry against the live server', () => {
  let endpoint = '';
  let sources: ReturnType<typeof recordEventSources>;
  let registry: LiveStatusRegistry;
  const subscriptions: Array<() => void> = [];

  /** Subscribes and collects what the listener receives. */
  function follow(channel: string, on = endpoint): LiveStatusSummary[] {
    const received: LiveStatusSummary[] = [];
    subscriptions.push(registry.subscribe(on, channel, (record) => received.push(record)));
    return received;
  }

  before(async () => {
    endpoint = await liveServer.url();
    await liveServer.createChannel(SECOND_CHANNEL, 'Acme Late Show');
    await liveServer.goOffline();
  });

  beforeEach(() => {
    sources = recordEventSources();
    registry = new LiveStatusRegistry(40);
  });

  afterEach(async () => {
    for (const unsubscribe of subscriptions.splice(0)) unsubscribe();
    await microtask();
    sources.restore();
  });

  after(async () => {
    await liveServer.goOffline();
  });

  it('opens ONE EventSource for all channels subscribed in the same task', async () => {
    const first = follow(TEST_CHANNEL);
    const second = follow(SECOND_CHANNEL);
    const again = follow(TEST_CHANNEL);
    expect(sources.opened.length, 'nothing opened before the microtask').to.equal(0);
    await waitUntil(() => first.length && second.length && again.length, 'a snapshot for every subscriber');
    expect(sources.opened.length).to.equal(1);
    expect(new URL(sources.opened[0]!.url).searchParams.getAll('channel')).to.deep.equal([SECOND_CHANNEL, TEST_CHANNEL]);
    expect(first[0]!.channel).to.equal(TEST_CHANNEL);
    expect(second[0]!.channel).to.equal(SECOND_CHANNEL);
  });

  it('gives a later subscriber of a known channel the last record at once, without reopening', async () => {
    const first = follow(TEST_CHANNEL);
    await waitUntil(() => first.length, 'snapshot');
    const later = follow(TEST_CHANNEL);
    expect(later).to.deep.equal([first[0]]);
    await microtask();
    expect(sources.opened.length).to.equal(1);
  });

  it('gives the record at once to a subscriber that replaces the last one in the same task (a page swapping its badge), without reopening', async () => {
    const first = follow(TEST_CHANNEL);
    await waitUntil(() => first.length, 'snapshot');
    subscriptions.splice(0).forEach((unsubscribe) => unsubscribe());
    const replacement = follow(TEST_CHANNEL);
    expect(replacement).to.deep.equal([first[0]], 'the last record, at once');
    await microtask();
    expect(sources.opened.length).to.equal(1);
    expect(sources.opened[0]!.readyState).to.not.equal(EventSource.CLOSED);
    // Gone for a whole task: the connection closes, and a later subscriber starts afresh.
    subscriptions.splice(0).forEach((unsubscribe) => unsubscribe());
    await microtask();
    expect(sources.opened[0]!.readyState).to.equal(EventSource.CLOSED);
    const later = follow(TEST_CHANNEL);
    expect(later).to.deep.equal([]);
    await waitUntil(() => later.length, 'a snapshot on a new connection');
    expect(sources.opened.length).to.equal(2);
  });

  it('reopens with the union when a channel is added later, and closes when the last subscriber leaves', async () => {
    const first = follow(TEST_CHANNEL);
    await waitUntil(() => first.length, 'snapshot');
    const second = follow(SECOND_CHANNEL);
    await waitUntil(() => second.length, 'snapshot of the added channel');
    expect(sources.opened.length).to.equal(2);
    expect(sources.opened[0]!.readyState).to.equal(EventSource.CLOSED);
    expect(new URL(sources.opened[1]!.url).searchParams.getAll('channel')).to.deep.equal([SECOND_CHANNEL, TEST_CHANNEL]);

    for (const unsubscribe of subscriptions.splice(0)) unsubscribe();
    await microtask();
    expect(sources.opened.length).to.equal(2);
    expect(sources.opened[1]!.readyState).to.equal(EventSource.CLOSED);
  });

  it('delivers changes to every subscriber of the channel', async () => {
    const [a, b] = [follow(TEST_CHANNEL), follow(TEST_CHANNEL)];
    await waitUntil(() => a.length && b.length, 'snapshots');
    await liveServer.goLive('Breaking');
    await waitUntil(() => a.at(-1)?.title === 'Breaking' && b.at(-1)?.title === 'Breaking', 'the change reached both');
    expect(a.at(-1)!.status).to.equal('live');
    await liveServer.goOffline();
  });

  it('after an error, closes the EventSource itself and reopens with last_event_id; the server sends only what was missed', async () => {
    const received = follow(TEST_CHANNEL);
    await waitUntil(() => received.length, 'snapshot');
    const first = sources.opened[0]!;
    let lastEventId = '';
    first.addEventListener('snapshot', (event) => (lastEventId = (event as MessageEvent).lastEventId));
    first.addEventListener('status', (event) => (lastEventId = (event as MessageEvent).lastEventId));
    await liveServer.goLive('Before the drop');
    await waitUntil(() => received.at(-1)?.title === 'Before the drop' && lastEventId, 'live before the drop');

    const deliveredBefore = received.length;
    const seqBefore = received.at(-1)!.seq;
    first.dispatchEvent(new Event('error')); // what the browser dispatches when the network drops
    expect(first.readyState, 'closed, not left to the browser to retry').to.equal(EventSource.CLOSED);
    await waitUntil(() => sources.opened.length === 2, 'reopened after the backoff');
    const resumed = sources.opened[1]!;
    expect(new URL(resumed.url).searchParams.get('last_event_id')).to.equal(lastEventId);
    let snapshots = 0;
    resumed.addEventListener('snapshot', () => snapshots++);

    await liveServer.updateTitle('After the drop');
    await waitUntil(() => received.at(-1)?.title === 'After the drop', 'change after the reconnect arrived');
    expect(snapshots, 'no snapshot resent on resume').to.equal(0);
    const afterDrop = received.slice(deliveredBefore);
    expect(afterDrop.every((record) => record.seq > seqBefore), 'nothing delivered twice').to.equal(true);
    await liveServer.goOffline();
  });

  it('backs off exponentially, with jitter, while the endpoint keeps failing', async () => {
    const openedAt: number[] = [];
    const Recording = window.EventSource;
    window.EventSource = class TimedEventSource extends Recording {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, init);
        openedAt.push(performance.now());
      }
    };
    // Nothing listens on port 9 (discard) here: every attempt fails at once, like a server that is down.
    const realFetch = window.fetch;
    let fetches = 0;
    window.fetch = (...args: Parameters<typeof fetch>) => (fetches++, realFetch(...args));
    try {
      follow(TEST_CHANNEL, 'http://127.0.0.1:9');
      await waitUntil(() => openedAt.length >= 5, 'four retries', { timeout: 5000 });
    } finally {
      window.fetch = realFetch;
    }
    expect(fetches, 'no server answered: nothing to ask for a Retry-After').to.equal(0);
    const gaps = openedAt.slice(1).map((at, i) => at - openedAt[i]!);
    gaps.forEach((gap, attempt) => {
      const ceiling = 40 * 2 ** attempt;
      expect(gap, `retry ${attempt + 1}`).to.be.at.least(ceiling / 2 - 2);
    });
    expect(sources.opened.slice(0, -1).every((source) => source.readyState === EventSource.CLOSED)).to.equal(true);
    expect(new URL(sources.opened[0]!.url).searchParams.has('last_event_id')).to.equal(false);
  });

  it('waits at least the Retry-After of a refusal (429 / 503) before it reconnects, with jitter; a server that is down costs no extra request', async () => {
    const openedAt: number[] = [];
    const Recording = window.EventSource;
    window.EventSource = class TimedEventSource extends Recording {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, init);
        openedAt.push(performance.now());
      }
    };
    // The test page's own server answers this endpoint with a 404, no stream: the EventSource fails
    // as a refused one does. The one look the connection then takes with fetch gets what the
    // server's cap answers (live-events-route-caps.test.ts pins that answer on the real server).
    const realFetch = window.fetch;
    const probes: string[] = [];
    window.fetch = async (input: RequestInfo | URL) => {
      probes.push(String(input));
      return new Response(JSON.stringify({ error: { code: 'too_many_connections', message: 'this client has 64 live-event connections open' } }), {
        status: 429,
        headers: { 'Content-Type': 'application/json', 'Retry-After': '1' },
      });
    };
    try {
      follow(TEST_CHANNEL, `${location.origin}/no-live-events-here`);
      await waitUntil(() => openedAt.length >= 3, 'two retries', { timeout: 8000 });
    } finally {
      window.fetch = realFetch;
    }
    const gaps = openedAt.slice(1).map((at, i) => at - openedAt[i]!);
    for (const gap of gaps) expect(gap, 'not before Retry-After (1 s), although the backoff is 40 ms').to.be.at.least(1000);
    for (const gap of gaps) expect(gap, 'at most Retry-After more (jitter)').to.be.at.most(2100);
    expect(new URL(probes[0]!).pathname).to.match(/\/api\/v1\/live\/events$/);
  });

  it('ignores malformed frames, unknown statuses and channels it did not ask for', async () => {
    const received = follow(TEST_CHANNEL);
    await waitUntil(() => received.length, 'snapshot');
    const source = sources.opened[0]!;
    const valid = received[0]!;
    for (const data of [
      'not json',
      JSON.stringify({ ...valid, status: 'exploded' }),
      JSON.stringify({ ...valid, title: { toString: 'x' } }),
      JSON.stringify({ ...valid, channel: SECOND_CHANNEL }),
      JSON.stringify({ ...valid, seq: -1 }),
    ]) {
      source.dispatchEvent(new MessageEvent('status', { data }));
    }
    expect(received.length).to.equal(1);
  });

  it('hands the replay progress of a channel (vod-progress) to its progress listeners; malformed frames and other channels are ignored', async () => {
    const progress: ReplayProgress[] = [];
    const received: LiveStatusSummary[] = [];
    subscriptions.push(registry.subscribe(endpoint, TEST_CHANNEL, (record) => received.push(record), (item) => progress.push(item)));
    await waitUntil(() => received.length, 'snapshot');
    const source = sources.opened[0]!;
    const [publisher, slug] = TEST_CHANNEL.split('/');
    const ours = `stream:${publisher}:${slug}:01JABCDEFGHJKMNPQRSTVWXYZ0`;
    for (const data of [
      'not json',
      JSON.stringify({ canonical_id: 'stream:other:show:01JABCDEFGHJKMNPQRSTVWXYZ0', state: 'published', at: '2026-12-07T00:00:00.000Z' }),
      JSON.stringify({ canonical_id: 'not-a-stream', state: 'published' }),
      JSON.stringify({ canonical_id: ours, state: 42 }),
      JSON.stringify({ canonical_id: ours, state: 'transcoding', percent: 40, at: '2026-12-07T00:00:00.000Z' }),
      JSON.stringify({ canonical_id: ours, state: 'published', percent: 400, at: '2026-12-07T00:00:01.000Z' }),
    ]) {
      source.dispatchEvent(new MessageEvent('vod-progress', { data }));
    }
    expect(progress).to.deep.equal([
      { channel: TEST_CHANNEL, canonicalId: ours, state: 'transcoding', percent: 40 },
      { channel: TEST_CHANNEL, canonicalId: ours, state: 'published', percent: undefined },
    ]);
    expect(received.length, 'progress is not a status').to.equal(1);
  });

  it('never sends an invalid channel (its 400 would fail the shared connection)', async () => {
    const bad = follow('Not A Channel');
    const good = follow(TEST_CHANNEL);
    await waitUntil(() => good.length, 'the valid channel connected');
    expect(bad).to.deep.equal([]);
    expect(new URL(sources.opened[0]!.url).searchParams.getAll('channel')).to.deep.equal([TEST_CHANNEL]);
  });

  it(`carries at most ${MAX_CHANNELS_PER_CONNECTION} channels on one connection`, async () => {
    for (let i = 0; i <= MAX_CHANNELS_PER_CONNECTION; i++) follow(`acme/show-${String(i).padStart(2, '0')}`, 'http://127.0.0.1:9');
    await microtask();
    expect(sources.opened.length).to.equal(1);
    expect(new URL(sources.opened[0]!.url).searchParams.getAll('channel').length).to.equal(MAX_CHANNELS_PER_CONNECTION);
  });
});
