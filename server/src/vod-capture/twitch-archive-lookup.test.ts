import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, it } from 'node:test';
import { createCanonicalId, type LiveMetadata } from '@live-upload/schema';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { eventually } from '../../../test/support/eventually.js';
import { startFakeHelix, type FakeHelix } from '../../../test/fakes/twitch/helix.js';
import { STREAMS, SUBJECTS, createMemoryBus, createNatsBus, encodeJson, type Bus } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { initialChannelState } from '../pipeline/index.js';
import { AppAccessToken, HelixClient } from '../providers/twitch/index.js';
import { VodStore, enqueueVodJob } from '../vod-jobs/index.js';
import { TwitchArchiveLookup } from './twitch-archive-lookup.js';

const ref = { publisher: 'acme', slug: 'twitch-show' };
const CHANNEL = 'acme/twitch-show';
const DELAYS = [30_000, 90_000];

/** The LIVE and the canonical OFFLINE record of one broadcast whose Twitch stream is `streamId`. */
function broadcast(startMs: number, streamId: string, twitchUser: string): { canonicalId: string; live: LiveMetadata; offline: LiveMetadata } {
  const canonicalId = createCanonicalId(ref, startMs);
  const link = { id: null, user_id: twitchUser, login: 'acme', url: 'https://www.twitch.tv/acme' };
  const base = initialChannelState(CHANNEL, startMs, { providers: { twitch: link } }).record;
  const startedAt = new Date(startMs).toISOString();
  const live: LiveMetadata = { ...base, status: 'live', canonical_id: canonicalId, started_at: startedAt, title: 'Speedrun night', providers: { twitch: { ...link, id: streamId } }, seq: 1 };
  const offline: LiveMetadata = { ...live, status: 'offline', ended_at: new Date(startMs + 3_600_000).toISOString(), providers: { twitch: link }, seq: 2 };
  return { canonicalId, live, offline };
}

describeEachBus('TwitchArchiveLookup', (under) => {
  /** One Twitch user per bus run: the fake Helix (shared) lists each run's archives apart. */
  const TWITCH_USER = under.kind === 'memory' ? '7001' : '7002';
  let twitch: FakeHelix;
  let bus: Bus;
  let lookup: TwitchArchiveLookup;
  let vods: VodStore;
  let sleeps: number[];
  /** Runs at each wait between look-ups (a test publishes the archive there). */
  let onSleep: (attempt: number) => void | Promise<void>;
  let startMs: number;
  let helix: HelixClient;
  const openReplica = async (sleep: (ms: number, signal: AbortSignal) => Promise<void>) => {
    const replica = await TwitchArchiveLookup.open({ bus, helix, logger: createLogger({ level: 'silent' }), retryDelaysMs: DELAYS, sleep });
    await replica.start();
    return replica;
  };

  before(async () => {
    twitch = await startFakeHelix();
  });
  after(() => twitch.close());

  beforeEach(async () => {
    const url = under.natsUrl();
    bus = url ? await createNatsBus({ url, name: 'twitch-archive-lookup-test' }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    sleeps = [];
    onSleep = () => undefined;
    startMs = Date.now() - 2 * 3_600_000 + Math.floor(Math.random() * 1_000_000);
    helix = new HelixClient({
      apiBaseUrl: twitch.url,
      token: new AppAccessToken({ authBaseUrl: twitch.url, clientId: twitch.clientId, clientSecret: twitch.clientSecret }),
      sleep: async () => undefined,
    });
    vods = await VodStore.open(bus);
    lookup = await openReplica(async (ms, signal) => {
      sleeps.push(ms);
      await Promise.race([onSleep(sleeps.length), aborted(signal)]);
    });
  });
  afterEach(async () => {
    await lookup.stop();
    await bus.close();
  });

  const play = async (records: LiveMetadata[]) => {
    for (const record of records) await bus.publish(SUBJECTS.liveStatus(ref), encodeJson(record));
  };
  const outcomeOf = (canonicalId: string) => eventually(() => lookup.outcomes.find((entry) => entry.canonical_id === canonicalId)?.outcome, `the look-up of ${canonicalId}`);

  it('links the archive whose stream_id is the broadcast\'s Twitch stream: a Twitch-only broadcast gets an external record', async () => {
    const streamId = String(40_000_000_000 + Math.floor(Math.random() * 1e9));
    const { canonicalId, live, offline } = broadcast(startMs, streamId, TWITCH_USER);
    twitch.addVideo({ user_id: TWITCH_USER, id: '1901', stream_id: String(Number(streamId) + 1), created_at: new Date(startMs + 10_000_000).toISOString().replace(/\.\d+Z$/, 'Z') });
    twitch.addVideo({ user_id: TWITCH_USER, user_login: 'acme', id: '1900', stream_id: streamId, duration: '3h8m33s', title: 'Speedrun night', created_at: new Date(startMs).toISOString().replace(/\.\d+Z$/, 'Z') });
    await play([live, offline]);
    assert.equal(await outcomeOf(canonicalId), 'attached');
    const record = await vods.get(canonicalId);
    assert.equal(record?.state, 'external');
    assert.equal(record?.channel, CHANNEL);
    assert.equal(record?.ended_at, offline.ended_at);
    assert.deepEqual(record?.twitch_archive, {
      id: '1900',
      url: 'https://www.twitch.tv/videos/1900',
      duration_s: 11313,
      thumbnail_url: 'https://static-cdn.jtvnw.net/cf_vods/d2nvs31859zcd8/acme/1900/thumb/index-0000000000-%{width}x%{height}.jpg',
      title: 'Speedrun night',
      created_at: new Date(startMs).toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    assert.deepEqual(sleeps, [], 'found at the first look-up');
  });

  it('makes no external record for a channel that keeps no replays (vod: off)', async () => {
    await lookup.stop();
    const asked: string[] = [];
    lookup = await TwitchArchiveLookup.open({
      bus,
      helix,
      logger: createLogger({ level: 'silent' }),
      retryDelaysMs: DELAYS,
      sleep: async () => undefined,
      keepsReplays: async (channel) => (asked.push(channel), false),
    });
    await lookup.start();
    const streamId = String(40_000_000_000 + Math.floor(Math.random() * 1e9));
    const { canonicalId, live, offline } = broadcast(startMs, streamId, TWITCH_USER);
    twitch.addVideo({ user_id: TWITCH_USER, id: '1950', stream_id: streamId, created_at: new Date(startMs).toISOString().replace(/\.\d+Z$/, 'Z') });
    await play([live, offline]);
    assert.equal(await outcomeOf(canonicalId), 'attached', 'the archive was found');
    assert.deepEqual(asked, [CHANNEL]);
    assert.equal(await vods.get(canonicalId), undefined, 'but no record was made for it');
  });

  it('adds the archive to the record of a broadcast that has a VOD job, leaving its state', async () => {
    const streamId = String(41_000_000_000 + Math.floor(Math.random() * 1e9));
    const { canonicalId, live, offline } = broadcast(startMs, streamId, TWITCH_USER);
    await enqueueVodJob(bus, {
      canonical_id: canonicalId,
      channel: CHANNEL,
      source: { kind: 'live-archive', archive_prefix: 'vod-archives/acme/twitch-show/x/' },
      started_at: live.started_at!,
      ended_at: offline.ended_at!,
      requested_at: offline.ended_at!,
    }, { vods });
    twitch.addVideo({ user_id: TWITCH_USER, id: '2900', stream_id: streamId, duration: '8m33s' });
    await play([live, offline]);
    assert.equal(await outcomeOf(canonicalId), 'attached');
    const record = await vods.get(canonicalId);
    assert.equal(record?.state, 'queued');
    assert.equal(record?.twitch_archive?.duration_s, 513);
  });

  it('asks again after each bounded wait: an archive Twitch publishes late is found', async () => {
    const streamId = String(42_000_000_000 + Math.floor(Math.random() * 1e9));
    const { canonicalId, live, offline } = broadcast(startMs, streamId, TWITCH_USER);
    onSleep = (attempt) => {
      if (attempt === 2) twitch.addVideo({ user_id: TWITCH_USER, id: '3900', stream_id: streamId, duration: '2h' });
    };
    await play([live, offline]);
    assert.equal(await outcomeOf(canonicalId), 'attached');
    assert.deepEqual(sleeps, DELAYS);
    assert.equal((await vods.get(canonicalId))?.twitch_archive?.id, '3900');
  });

  it('links nothing when no archive matches, or when the matching one has a duration Helix does not document', async () => {
    const streamId = String(43_000_000_000 + Math.floor(Math.random() * 1e9));
    const { canonicalId, live, offline } = broadcast(startMs, streamId, TWITCH_USER);
    twitch.addVideo({ user_id: TWITCH_USER, id: '4901', stream_id: String(Number(streamId) + 7) });
    twitch.addVideo({ user_id: TWITCH_USER, id: '4902', stream_id: streamId, type: 'highlight' });
    await play([live, offline]);
    assert.equal(await outcomeOf(canonicalId), 'no-match');
    assert.deepEqual(sleeps, DELAYS, 'three look-ups, then given up');
    assert.equal(await vods.get(canonicalId), undefined);

    const hostile = broadcast(startMs + 1_000, String(Number(streamId) + 100), TWITCH_USER);
    twitch.addVideo({ user_id: TWITCH_USER, id: '4903', stream_id: String(Number(streamId) + 100), duration: '99999h1m1s' });
    await play([hostile.live, hostile.offline]);
    assert.equal(await outcomeOf(hostile.canonicalId), 'no-match');
    assert.equal(await vods.get(hostile.canonicalId), undefined);
  });

  it('hands a look-up waiting on a stopping replica to another one (the OFFLINE is offered again), and each OFFLINE is handled once', async () => {
    const streamId = String(45_000_000_000 + Math.floor(Math.random() * 1e9));
    const { canonicalId, live, offline } = broadcast(startMs, streamId, TWITCH_USER);
    onSleep = () => new Promise<void>(() => undefined);
    await play([live, offline]);
    await eventually(() => sleeps.length === 1 || undefined, 'the first replica waiting to ask again');
    const other = await openReplica(async () => undefined);
    try {
      twitch.addVideo({ user_id: TWITCH_USER, id: '6900', stream_id: streamId });
      await lookup.stop();
      await eventually(() => other.outcomes.find((entry) => entry.canonical_id === canonicalId)?.outcome, 'the other replica\'s look-up');
      assert.deepEqual(lookup.outcomes, []);
      assert.equal((await vods.get(canonicalId))?.twitch_archive?.id, '6900');

      // Two replicas, one OFFLINE: one look-up in the fleet.
      await lookup.start();
      const next = broadcast(startMs + 3_000, String(Number(streamId) + 1), TWITCH_USER);
      twitch.addVideo({ user_id: TWITCH_USER, id: '6901', stream_id: String(Number(streamId) + 1) });
      const before = twitch.requests.filter((request) => request.path === '/helix/videos').length;
      await play([next.live, next.offline]);
      await eventually(() => [...lookup.outcomes, ...other.outcomes].some((entry) => entry.canonical_id === next.canonicalId) || undefined, 'the look-up of the next broadcast');
      assert.equal([...lookup.outcomes, ...other.outcomes].filter((entry) => entry.canonical_id === next.canonicalId).length, 1);
      assert.equal(twitch.requests.filter((request) => request.path === '/helix/videos').length - before, 1);
    } finally {
      await other.stop();
    }
  });

  it('retries a Helix that answers 401 or 500, then logs and goes on with the next broadcast', async () => {
    const streamId = String(44_000_000_000 + Math.floor(Math.random() * 1e9));
    const { canonicalId, live, offline } = broadcast(startMs, streamId, TWITCH_USER);
    twitch.addVideo({ user_id: TWITCH_USER, id: '5900', stream_id: streamId });
    const unauthorized = JSON.stringify({ error: 'Unauthorized', status: 401, message: 'Invalid OAuth token' });
    const failing = JSON.stringify({ error: 'Internal Server Error', status: 500, message: '' });
    // Try 1: 401, refreshed token, 401 again. Tries 2 and 3: 500.
    twitch.respondNext(401, unauthorized);
    twitch.respondNext(401, unauthorized);
    twitch.respondNext(500, failing);
    twitch.respondNext(500, failing);
    const before = twitch.requests.length;
    await play([live, offline]);
    assert.equal(await outcomeOf(canonicalId), 'failed');
    assert.deepEqual(sleeps, DELAYS);
    assert.deepEqual(twitch.requests.slice(before).filter((request) => request.path === '/helix/videos').map((request) => request.status), [401, 401, 500, 500]);
    assert.equal(await vods.get(canonicalId), undefined);

    const next = broadcast(startMs + 2_000, String(Number(streamId) + 1), TWITCH_USER);
    twitch.addVideo({ user_id: TWITCH_USER, id: '5901', stream_id: String(Number(streamId) + 1) });
    await play([next.live, next.offline]);
    assert.equal(await outcomeOf(next.canonicalId), 'attached');
  });
});

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
