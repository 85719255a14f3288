import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCanonicalId, liveMetadataSchema, parseCanonicalId, type LiveMetadata, type ProviderName } from '@live-upload/schema';
import type { CanonicalEvent, CanonicalEventFields } from '../provider-adapter/index.js';
import {
  applyChannelConfig,
  applyEvent,
  applyTimer,
  channelStateSchema,
  initialChannelState,
  MAX_SEEN_IDS,
  type ChannelState,
  type StateContext,
  type Transition,
} from './channel-state.js';
import { seededRandom } from '../../../test/support/seeded-random.js';

const channel = 'acme/morning-show';
const ref = { publisher: 'acme', slug: 'morning-show' };
const T0 = Date.parse('2026-03-01T18:00:00Z');
const GRACE_MS = 30_000;
const COALESCE_MS = 2_000;

function ctx(nowMs: number, overrides: Partial<StateContext> = {}): StateContext {
  const random = seededRandom(nowMs);
  return {
    nowMs,
    graceWindowMs: GRACE_MS,
    coalesceMs: COALESCE_MS,
    newCanonicalId: (startedAtMs) => createCanonicalId(ref, startedAtMs, random),
    ...overrides,
  };
}

interface EventOptions {
  provider?: ProviderName;
  verified?: boolean;
  eventId?: string;
  providerStreamId?: string;
  fields?: CanonicalEventFields;
}

function eventFactory() {
  let counter = 0;
  return (kind: CanonicalEvent['kind'], eventTimeMs: number, options: EventOptions = {}): CanonicalEvent => ({
    kind,
    channel,
    provider: options.provider ?? 'twitch',
    eventId: options.eventId ?? `msg-${++counter}`,
    eventTimeMs,
    verified: options.verified ?? true,
    ...(options.providerStreamId === undefined ? {} : { providerStreamId: options.providerStreamId }),
    fields: options.fields ?? (kind === 'online' ? { started_at: new Date(eventTimeMs).toISOString() } : {}),
  });
}

/**
 * Freezes a value and everything it reaches: a transition given a frozen state throws (strict
 * mode) if it writes to any part of it, the parts its result shares with it included.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/**
 * Applies events / timers in order, keeping every emit, like the pipeline worker does. Every
 * state it keeps is deep-frozen: transitions are pure, and what a new state shares with the one
 * before (`cloneState`) is never written.
 */
class Channel {
  state: ChannelState;
  readonly emits: LiveMetadata[] = [];
  last: Transition | undefined;

  constructor(init?: Parameters<typeof initialChannelState>[2]) {
    this.state = deepFreeze(initialChannelState(channel, T0, init));
  }

  event(event: CanonicalEvent, nowMs: number, overrides: Partial<StateContext> = {}): Transition {
    return this.keep(applyEvent(this.state, event, ctx(nowMs, overrides)));
  }

  timer(nowMs: number): Transition {
    return this.keep(applyTimer(this.state, ctx(nowMs)));
  }

  private keep(transition: Transition): Transition {
    this.state = deepFreeze(transition.state);
    this.last = transition;
    if (transition.emit) this.emits.push(transition.emit);
    return transition;
  }
}

describe('channel state machine', () => {
  it('starts offline with seq 0 and no broadcast', () => {
    const state = initialChannelState(channel, T0, { title: 'Morning show' });
    assert.equal(state.record.status, 'offline');
    assert.equal(state.record.seq, 0);
    assert.equal(state.record.canonical_id, null);
    assert.equal(state.record.title, 'Morning show');
    assert.deepEqual(state.record.badge, { label: 'OFFLINE', color: '#5f6368', animate: false });
    assert.equal(liveMetadataSchema.safeParse(state.record).success, true);
    assert.throws(() => initialChannelState('../etc', T0), RangeError);
  });

  it('shows LIVE at once on a verified online event (leading edge)', () => {
    const event = eventFactory();
    const ch = new Channel();
    const startedAt = T0 + 1_000;
    const t = ch.event(event('online', startedAt), T0 + 1_500);
    assert.equal(t.applied, true);
    assert.ok(t.emit);
    assert.equal(t.emit.status, 'live');
    assert.equal(t.emit.seq, 1);
    assert.equal(t.emit.started_at, new Date(startedAt).toISOString());
    assert.equal(t.emit.ended_at, null);
    assert.equal(t.emit.updated_at, new Date(T0 + 1_500).toISOString());
    assert.deepEqual(t.emit.badge, { label: 'LIVE', color: '#e5133a', animate: true });
    assert.deepEqual(t.emit.sources.status, { provider: 'twitch', at: new Date(startedAt).toISOString() });
    assert.equal(parseCanonicalId(t.emit.canonical_id ?? '')?.startedAtMs, startedAt);
    assert.equal(t.wakeAtMs, null);
    assert.equal(liveMetadataSchema.safeParse(t.emit).success, true);
  });

  it('holds LIVE through an offline for the grace window, then goes offline with ended_at', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('online', T0), T0);
    const offlineAt = T0 + 60_000;
    const held = ch.event(event('offline', offlineAt), offlineAt + 200);
    assert.equal(held.applied, true);
    assert.equal(held.emit, null);
    assert.equal(held.state.record.status, 'live');
    assert.equal(held.wakeAtMs, offlineAt + 200 + GRACE_MS);

    const early = ch.timer(offlineAt + 200 + GRACE_MS - 1);
    assert.equal(early.applied, false);
    assert.equal(early.emit, null);
    assert.equal(early.state, held.state);
    assert.equal(early.wakeAtMs, offlineAt + 200 + GRACE_MS);

    const ended = ch.timer(offlineAt + 200 + GRACE_MS);
    assert.ok(ended.emit);
    assert.equal(ended.emit.status, 'offline');
    assert.equal(ended.emit.ended_at, new Date(offlineAt).toISOString());
    assert.deepEqual(ended.emit.sources.status, { provider: 'twitch', at: new Date(offlineAt).toISOString() });
    assert.deepEqual(ended.emit.badge, { label: 'OFFLINE', color: '#5f6368', animate: false });
    assert.equal(ended.emit.seq, 2);
    assert.equal(ended.wakeAtMs, null);
    assert.equal(ended.emit.canonical_id, ch.emits[0]?.canonical_id, 'the ended record names the broadcast that ended');
  });

  it('keeps the same canonical_id when the stream comes back within the grace window', () => {
    const event = eventFactory();
    const ch = new Channel();
    const first = ch.event(event('online', T0), T0).emit;
    ch.event(event('offline', T0 + 10_000), T0 + 10_000);
    const back = ch.event(event('online', T0 + 20_000), T0 + 20_000);
    assert.equal(back.emit, null, 'viewers never saw it go offline: nothing to say');
    assert.equal(back.wakeAtMs, null);
    assert.equal(back.state.record.status, 'live');
    assert.equal(back.state.record.canonical_id, first?.canonical_id);
    assert.equal(back.state.record.started_at, first?.started_at);
    const later = ch.timer(T0 + 10_000 + GRACE_MS + 1);
    assert.equal(later.applied, false);
    assert.equal(later.state.record.status, 'live');
    assert.equal(ch.emits.length, 1);
  });

  it('gives a new broadcast after a real offline a new canonical_id from its started_at', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('online', T0), T0);
    ch.event(event('offline', T0 + 10_000), T0 + 10_000);
    ch.timer(T0 + 10_000 + GRACE_MS);
    const restartAt = T0 + 120_000;
    const again = ch.event(event('online', restartAt), restartAt + 50);
    assert.ok(again.emit);
    assert.equal(again.emit.status, 'live');
    assert.notEqual(again.emit.canonical_id, ch.emits[0]?.canonical_id);
    assert.equal(parseCanonicalId(again.emit.canonical_id ?? '')?.startedAtMs, restartAt);
    assert.equal(again.emit.started_at, new Date(restartAt).toISOString());
    assert.equal(again.emit.ended_at, null);
    assert.equal(again.emit.seq, 3);
  });

  it('ends an expired hold before applying the next event, even when its timer has not run', () => {
    const event = eventFactory();
    const ch = new Channel();
    const first = ch.event(event('online', T0), T0).emit;
    ch.event(event('offline', T0 + 10_000), T0 + 10_000);
    const late = ch.event(event('online', T0 + 50_000), T0 + 50_000);
    assert.ok(late.emit);
    assert.equal(late.emit.status, 'live');
    assert.notEqual(late.emit.canonical_id, first?.canonical_id);
    assert.equal(late.emit.seq, 2);
  });

  it('with a zero grace window goes offline at once', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('online', T0), T0);
    const t = ch.event(event('offline', T0 + 5_000), T0 + 5_000, { graceWindowMs: 0 });
    assert.equal(t.emit?.status, 'offline');
    assert.equal(t.wakeAtMs, null);
  });

  it('ignores an event older than the last applied one for that provider', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('online', T0 + 100_000), T0 + 100_000);
    const before = ch.state;
    for (const stale of [event('offline', T0 + 50_000), event('online', T0 + 99_999)]) {
      const t = ch.event(stale, T0 + 101_000);
      assert.equal(t.applied, false);
      assert.equal(t.emit, null);
      assert.equal(t.state, before);
    }
    assert.equal(ch.state.record.status, 'live');
  });

  it('orders field updates per field: an older title delivered after a newer online still applies', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('online', T0 + 100_000), T0 + 100_000);
    const late = ch.event(event('update', T0 + 1_000, { fields: { title: 'set before going live' } }), T0 + 101_000);
    assert.equal(late.applied, true);
    assert.equal(ch.state.record.title, 'set before going live');
    assert.equal(ch.state.record.status, 'live');
  });

  it('ignores a field update older than the one that set the field', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('update', T0 + 5_000, { fields: { title: 'newer' } }), T0 + 5_000);
    const before = ch.state;
    const older = ch.event(event('update', T0 + 1_000, { fields: { title: 'older' } }), T0 + 6_000);
    assert.equal(older.applied, false);
    assert.equal(older.state, before);
    assert.equal(ch.state.record.title, 'newer');
  });

  it('orders each field by its own source time when the fields were set at different times, alternately', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('update', T0 + 5_000, { fields: { title: 'title at 5 s' } }), T0 + 5_000);
    ch.event(event('update', T0 + 1_000, { fields: { category: 'category at 1 s' } }), T0 + 5_100);
    // Between the two: the category is older than it, the title newer. Then the other way round, and again.
    ch.event(event('update', T0 + 3_000, { fields: { title: 'title at 3 s', category: 'category at 3 s' } }), T0 + 5_200);
    assert.deepEqual([ch.state.record.title, ch.state.category], ['title at 5 s', 'category at 3 s']);
    assert.equal(ch.state.record.sources.category?.at, new Date(T0 + 3_000).toISOString());
    ch.event(event('update', T0 + 4_000, { fields: { category: 'category at 4 s' } }), T0 + 5_300);
    ch.event(event('update', T0 + 2_000, { fields: { title: 'title at 2 s', category: 'category at 2 s' } }), T0 + 5_400);
    ch.event(event('update', T0 + 6_000, { fields: { title: 'title at 6 s' } }), T0 + 5_500);
    assert.deepEqual([ch.state.record.title, ch.state.category], ['title at 6 s', 'category at 4 s']);
    assert.deepEqual(ch.state.record.sources.title, { provider: 'twitch', at: new Date(T0 + 6_000).toISOString() });
    assert.deepEqual(ch.state.record.sources.category, { provider: 'twitch', at: new Date(T0 + 4_000).toISOString() });
  });

  it('orders providers independently: an older YouTube event still applies after a newer Twitch one', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('online', T0 + 100_000), T0 + 100_000);
    const t = ch.event(event('online', T0 + 50_000, { provider: 'youtube' }), T0 + 100_500);
    assert.equal(t.applied, true);
    assert.equal(t.state.providers['youtube']?.live, true);
  });

  it('applies two different events with the same event time', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('online', T0), T0);
    const a = ch.event(event('update', T0 + 5_000, { fields: { title: 'A' } }), T0 + 5_000);
    const b = ch.event(event('update', T0 + 5_000, { fields: { viewer_count: 12 } }), T0 + 5_000);
    assert.equal(a.applied, true);
    assert.equal(b.applied, true);
    assert.equal(b.state.record.title, 'A');
    assert.equal(b.state.record.viewer_count, 12);
  });

  it('is idempotent: re-applying the exact same event changes nothing', () => {
    const event = eventFactory();
    const ch = new Channel();
    const online = event('online', T0);
    const update = event('update', T0 + 5_000, { fields: { title: 'Morning show' } });
    const offline = event('offline', T0 + 9_000);
    for (const e of [online, update, offline]) {
      ch.event(e, e.eventTimeMs);
      const settled = ch.state;
      const emitsBefore = ch.emits.length;
      const replay = ch.event(e, e.eventTimeMs + 1);
      assert.equal(replay.applied, false);
      assert.equal(replay.emit, null);
      assert.equal(replay.state, settled);
      assert.equal(ch.emits.length, emitsBefore);
    }
    // Older replays of earlier messages are stale as well.
    assert.equal(ch.event(online, T0 + 9_500).applied, false);
    assert.equal(ch.event(update, T0 + 9_500).applied, false);
  });

  it('bumps seq by exactly one per emit and never otherwise', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('update', T0, { fields: { title: 'Soon' } }), T0);
    ch.event(event('online', T0 + 1_000), T0 + 1_000);
    ch.event(event('update', T0 + 1_500, { fields: { title: 'Now' } }), T0 + 1_500);
    ch.event(event('update', T0 + 1_600, { fields: { title: 'Now' } }), T0 + 1_600);
    ch.timer(T0 + 3_000);
    ch.event(event('offline', T0 + 4_000), T0 + 4_000);
    ch.event(event('online', T0 + 5_000), T0 + 5_000);
    ch.event(event('offline', T0 + 6_000), T0 + 6_000);
    ch.timer(T0 + 6_000 + GRACE_MS);
    assert.deepEqual(ch.emits.map((emit) => emit.seq), ch.emits.map((_, index) => index + 1));
    assert.equal(ch.state.record.seq, ch.emits.length);
    assert.deepEqual(ch.emits.map((emit) => emit.status), ['offline', 'live', 'live', 'offline']);
  });

  it('coalesces two title updates within 2 s into one emit now and one flush later', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('online', T0), T0);
    const first = ch.event(event('update', T0 + 5_000, { fields: { title: 'First' } }), T0 + 5_000);
    assert.equal(first.emit?.title, 'First');
    assert.equal(first.emit?.seq, 2);

    const second = ch.event(event('update', T0 + 5_500, { fields: { title: 'Second' } }), T0 + 5_500);
    assert.equal(second.emit, null);
    assert.equal(second.state.pendingFlush, true);
    assert.equal(second.wakeAtMs, T0 + 5_000 + COALESCE_MS);
    const third = ch.event(event('update', T0 + 6_000, { fields: { title: 'Third' } }), T0 + 6_000);
    assert.equal(third.emit, null);
    assert.equal(third.wakeAtMs, T0 + 5_000 + COALESCE_MS);

    assert.equal(ch.timer(T0 + 6_999).emit, null);
    const flush = ch.timer(T0 + 7_000);
    assert.equal(flush.emit?.title, 'Third');
    assert.equal(flush.emit?.seq, 3);
    assert.deepEqual(flush.emit?.sources['title'], { provider: 'twitch', at: new Date(T0 + 6_000).toISOString() });
    assert.equal(flush.state.pendingFlush, false);
    assert.equal(flush.wakeAtMs, null);
    assert.equal(ch.emits.length, 3);
  });

  it('emits nothing for an update that changes nothing', () => {
    const event = eventFactory();
    const ch = new Channel({ title: 'Morning show' });
    ch.event(event('online', T0), T0);
    const same = ch.event(event('update', T0 + 5_000, { fields: { title: 'Morning show' } }), T0 + 5_000);
    assert.equal(same.applied, false, 'an update that changes nothing is not applied');
    assert.equal(same.emit, null);
    assert.equal(same.state.pendingFlush, false);
    assert.equal(same.wakeAtMs, null);
  });

  it('flushes nothing when a coalesced change was undone before its flush', () => {
    const event = eventFactory();
    const ch = new Channel({ title: 'A' });
    ch.event(event('online', T0), T0);
    ch.event(event('update', T0 + 500, { fields: { title: 'B' } }), T0 + 500);
    ch.event(event('update', T0 + 900, { fields: { title: 'A' } }), T0 + 900);
    const flush = ch.timer(T0 + COALESCE_MS);
    assert.equal(flush.emit, null);
    assert.equal(flush.state.pendingFlush, false);
    assert.equal(flush.wakeAtMs, null);
    assert.equal(ch.emits.length, 1);
  });

  it('sends a status transition at once, carrying pending field changes with it', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('update', T0, { fields: { title: 'Soon' } }), T0);
    ch.event(event('update', T0 + 500, { fields: { title: 'Starting now' } }), T0 + 500);
    assert.equal(ch.state.pendingFlush, true);
    const live = ch.event(event('online', T0 + 600), T0 + 600);
    assert.equal(live.emit?.status, 'live');
    assert.equal(live.emit?.title, 'Starting now');
    assert.equal(live.state.pendingFlush, false);
    assert.equal(live.wakeAtMs, null);
  });

  it('records category as the first tag and viewer counts only while live', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('update', T0, { fields: { category: 'Just Chatting', viewer_count: 5 } }), T0);
    assert.deepEqual(ch.state.record.tags, ['Just Chatting']);
    assert.equal(ch.state.record.viewer_count, null);
    ch.event(event('online', T0 + 1_000), T0 + 1_000);
    ch.event(event('update', T0 + 5_000, { provider: 'youtube', fields: { viewer_count: 42, tags: ['news', 'news', ' '] } }), T0 + 5_000);
    assert.equal(ch.state.record.viewer_count, 42);
    assert.deepEqual(ch.state.record.tags, ['Just Chatting', 'news']);
    assert.deepEqual(ch.state.record.sources['viewer_count'], { provider: 'youtube', at: new Date(T0 + 5_000).toISOString() });
    ch.event(event('offline', T0 + 6_000), T0 + 6_000);
    const ended = ch.timer(T0 + 6_000 + GRACE_MS);
    assert.equal(ended.emit?.viewer_count, null);
  });

  it('stays LIVE while any verified provider is live (Twitch and YouTube simulcast)', () => {
    const event = eventFactory();
    const ch = new Channel();
    const live = ch.event(event('online', T0), T0).emit;
    const youtube = ch.event(event('online', T0 + 2_000, { provider: 'youtube' }), T0 + 2_000);
    assert.equal(youtube.emit, null, 'same broadcast, already live');
    const twitchOff = ch.event(event('offline', T0 + 60_000), T0 + 60_000);
    assert.equal(twitchOff.emit, null);
    assert.equal(twitchOff.wakeAtMs, null, 'no grace timer while YouTube is live');
    assert.equal(ch.timer(T0 + 60_000 + GRACE_MS + 1).state.record.status, 'live');
    assert.equal(ch.state.record.canonical_id, live?.canonical_id);

    const youtubeOff = ch.event(event('offline', T0 + 120_000, { provider: 'youtube' }), T0 + 120_000);
    assert.equal(youtubeOff.emit, null);
    assert.equal(youtubeOff.wakeAtMs, T0 + 120_000 + GRACE_MS);
    const ended = ch.timer(T0 + 120_000 + GRACE_MS);
    assert.equal(ended.emit?.status, 'offline');
    assert.equal(ended.emit?.ended_at, new Date(T0 + 120_000).toISOString());
    assert.deepEqual(ended.emit?.sources['status'], { provider: 'youtube', at: new Date(T0 + 120_000).toISOString() });
  });

  it('keeps one canonical_id when a second provider comes online during the grace window', () => {
    const event = eventFactory();
    const ch = new Channel();
    const live = ch.event(event('online', T0), T0).emit;
    ch.event(event('offline', T0 + 10_000), T0 + 10_000);
    const youtube = ch.event(event('online', T0 + 15_000, { provider: 'youtube' }), T0 + 15_000);
    assert.equal(youtube.wakeAtMs, null);
    assert.equal(youtube.state.record.canonical_id, live?.canonical_id);
  });

  it('names the provider stream ids in the links while live and clears them when the broadcast ends', () => {
    const event = eventFactory();
    const ch = new Channel({
      providers: {
        twitch: { id: null, user_id: '1337', login: 'cool_user', url: 'https://www.twitch.tv/cool_user' },
        youtube: { id: null, channel_id: 'UC123', url: 'https://www.youtube.com/channel/UC123' },
      },
    });
    const live = ch.event(event('online', T0, { providerStreamId: '40078987165' }), T0);
    assert.equal(live.emit?.providers.twitch?.id, '40078987165');
    ch.event(event('online', T0 + 1_000, { provider: 'youtube', providerStreamId: 'dQw4w9WgXcQ' }), T0 + 1_000);
    assert.equal(ch.state.record.providers.youtube?.id, 'dQw4w9WgXcQ');
    ch.event(event('offline', T0 + 5_000, { provider: 'youtube' }), T0 + 5_000);
    assert.equal(ch.state.record.providers.youtube?.id, null, 'YouTube ended while Twitch goes on');
    ch.event(event('offline', T0 + 9_000), T0 + 9_000);
    const ended = ch.timer(T0 + 9_000 + GRACE_MS);
    assert.equal(ended.emit?.providers.twitch?.id, null);
  });

  it('never sets LIVE from an unverified signal alone', () => {
    const event = eventFactory();
    const ch = new Channel();
    const hint = ch.event(event('online', T0, { provider: 'bluesky', verified: false }), T0);
    assert.equal(hint.applied, true);
    assert.equal(hint.emit, null);
    assert.equal(hint.state.record.status, 'offline');
    assert.equal(hint.state.record.canonical_id, null);
    const confirmed = ch.event(event('online', T0 + 3_000), T0 + 3_000);
    assert.equal(confirmed.emit?.status, 'live');
  });

  it('does not let an unverified offline end a verified provider, nor keep the channel live after it', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('online', T0), T0);
    const spoof = ch.event(event('offline', T0 + 1_000, { verified: false }), T0 + 1_000);
    assert.equal(spoof.state.providers['twitch']?.live, true);
    assert.equal(spoof.wakeAtMs, null);
    ch.event(event('online', T0 + 2_000, { provider: 'bluesky', verified: false }), T0 + 2_000);
    ch.event(event('offline', T0 + 3_000), T0 + 3_000);
    assert.equal(ch.timer(T0 + 3_000 + GRACE_MS).emit?.status, 'offline', 'the unverified Bluesky hint does not hold it live');
  });

  it('lets unverified signals fill empty fields but never overwrite a verified provider', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('update', T0, { provider: 'bluesky', verified: false, fields: { title: 'from a post' } }), T0);
    assert.equal(ch.state.record.title, 'from a post');
    ch.event(event('update', T0 + 1_000, { fields: { title: 'Official' } }), T0 + 5_000);
    assert.equal(ch.state.record.title, 'Official');
    ch.event(event('update', T0 + 2_000, { provider: 'bluesky', verified: false, fields: { title: 'spoofed' } }), T0 + 10_000);
    assert.equal(ch.state.record.title, 'Official');
  });

  it('sets the Bluesky post_uri as provenance from an unverified status or post, without making the channel live', () => {
    const event = eventFactory();
    const did = 'did:plc:z72i7hdynmk6r22z27h6tvur';
    const statusUri = `at://${did}/app.bsky.actor.status/self`;
    const postUri = `at://${did}/app.bsky.feed.post/3lbtnmtpl2k2a`;
    const ch = new Channel({
      providers: {
        twitch: { id: null, user_id: '1337', login: 'cool_user', url: 'https://www.twitch.tv/cool_user' },
        bluesky: { did, post_uri: null },
      },
    });
    const hint = ch.event(event('online', T0, { provider: 'bluesky', verified: false, providerStreamId: statusUri }), T0);
    assert.equal(hint.state.record.status, 'offline');
    assert.equal(hint.state.record.providers.bluesky?.post_uri, statusUri);
    const live = ch.event(event('online', T0 + 3_000), T0 + 3_000);
    assert.equal(live.emit?.status, 'live');
    assert.equal(live.emit?.providers.bluesky?.post_uri, statusUri, 'the provenance goes out with the broadcast');
    ch.event(event('update', T0 + 4_000, { provider: 'bluesky', verified: false, providerStreamId: postUri }), T0 + 10_000);
    assert.equal(ch.state.record.providers.bluesky?.post_uri, postUri);
    const older = ch.event(event('update', T0 + 3_500, { provider: 'bluesky', verified: false, providerStreamId: statusUri }), T0 + 11_000);
    assert.equal(older.state.record.providers.bluesky?.post_uri, postUri, 'an older signal does not replace a newer one');
    ch.event(event('offline', T0 + 20_000), T0 + 20_000);
    const ended = ch.timer(T0 + 20_000 + GRACE_MS);
    assert.equal(ended.emit?.status, 'offline');
    assert.equal(ended.emit?.providers.bluesky?.post_uri, null, 'cleared with the broadcast');
    assert.ok(liveMetadataSchema.safeParse(ended.emit).success);
  });

  it('clears the Bluesky post_uri when the status it names is deleted, and ignores provenance without a Bluesky link', () => {
    const event = eventFactory();
    const did = 'did:plc:z72i7hdynmk6r22z27h6tvur';
    const statusUri = `at://${did}/app.bsky.actor.status/self`;
    const ch = new Channel({ providers: { bluesky: { did, post_uri: null } } });
    ch.event(event('online', T0, { provider: 'bluesky', verified: false, providerStreamId: statusUri }), T0);
    assert.equal(ch.state.record.providers.bluesky?.post_uri, statusUri);
    ch.event(event('offline', T0 + 1_000, { provider: 'bluesky', verified: false, providerStreamId: statusUri }), T0 + 1_000);
    assert.equal(ch.state.record.providers.bluesky?.post_uri, null);

    const unlinked = new Channel();
    const hint = unlinked.event(event('online', T0, { provider: 'bluesky', verified: false, providerStreamId: statusUri }), T0);
    assert.equal(hint.state.record.providers.bluesky, undefined);
  });

  it('refuses an event for another channel', () => {
    const state = initialChannelState(channel, T0);
    assert.throws(() => applyEvent(state, { ...eventFactory()('online', T0), channel: 'other/show' }, ctx(T0)), RangeError);
  });

  it('survives a JSON round trip through channelStateSchema (what KV stores)', () => {
    const event = eventFactory();
    const ch = new Channel({ providers: { twitch: { id: null, user_id: '1', login: 'a', url: 'https://www.twitch.tv/a' } } });
    ch.event(event('online', T0, { providerStreamId: '9' }), T0);
    ch.event(event('update', T0 + 100, { fields: { title: 'x', category: 'Art' } }), T0 + 100);
    ch.event(event('offline', T0 + 200), T0 + 200);
    const decoded = channelStateSchema.parse(JSON.parse(JSON.stringify(ch.state)));
    assert.deepEqual(decoded, ch.state);
    const timer = applyTimer(decoded, ctx(T0 + 200 + GRACE_MS));
    assert.equal(timer.emit?.status, 'offline');
    assert.equal(channelStateSchema.safeParse({ ...ch.state, pendingFlush: 'yes' }).success, false);
  });

  it('leaves the input state untouched', () => {
    const event = eventFactory();
    const state = initialChannelState(channel, T0);
    const snapshot = structuredClone(state);
    applyEvent(state, event('online', T0), ctx(T0));
    applyTimer(state, ctx(T0 + 100_000));
    assert.deepEqual(state, snapshot);
  });
});

describe('channel state machine, config changes on a frozen state', () => {
  it('follows the config without writing to the state it was given or to what the result shares with it', () => {
    const event = eventFactory();
    const twitch = { id: null, user_id: '1', login: 'a', url: 'https://www.twitch.tv/a' };
    const configPlayback = { hls: 'https://cdn.example/a.m3u8' };
    const ch = new Channel({ providers: { twitch }, playback: configPlayback });
    ch.event(event('online', T0, { providerStreamId: '9' }), T0);
    const before = structuredClone(ch.state);
    const changed = applyChannelConfig(
      ch.state,
      { title: 'Default', providers: { twitch: { ...twitch, login: 'b', url: 'https://www.twitch.tv/b' } }, playback: null },
      ctx(T0 + 10_000),
    );
    assert.deepEqual(ch.state, before);
    assert.equal(changed.state.record.providers.twitch?.login, 'b');
    assert.equal(changed.state.record.providers.twitch?.id, '9', 'the link keeps its broadcast id');
    assert.equal(changed.state.record.playback, undefined);
    assert.equal(changed.emit?.title, 'Default');
    deepFreeze(changed.state);
    const next = applyEvent(changed.state, event('update', T0 + 20_000, { fields: { title: 'Provider title' } }), ctx(T0 + 20_000));
    assert.equal(next.state.record.title, 'Provider title');
    assert.equal(changed.state.record.title, 'Default');
  });
});

describe('channel state machine, the seen set', () => {
  const title = (text: string): CanonicalEventFields => ({ title: text });

  it('changes nothing for a replayed message id, whatever time the replay claims', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('online', T0, { eventId: 'online-1' }), T0);
    const applied = ch.event(event('update', T0 + 1_000, { eventId: 'update-1', fields: title('First') }), T0 + 1_000);
    assert.equal(applied.applied, true);
    // The same id again, with a later time and other content: no provider sends that for a
    // new event, so it is a replay and must not count as one.
    const replay = ch.event(event('update', T0 + 9_000, { eventId: 'update-1', fields: title('Other') }), T0 + 9_000);
    assert.equal(replay.applied, false);
    assert.equal(replay.state, applied.state, 'the state object itself is kept');
    assert.equal(ch.state.record.title, 'First');
    const replayedOnline = ch.event(event('online', T0 + 10_000, { eventId: 'online-1' }), T0 + 10_000);
    assert.equal(replayedOnline.applied, false);
    assert.equal(replayedOnline.emit, null);
  });

  it('marks only what it applied: a stale event is not remembered and stays stale', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('online', T0 + 5_000, { eventId: 'late-online' }), T0 + 5_000);
    const seenBefore = ch.state.seen;
    const stale = ch.event(event('offline', T0, { eventId: 'old-offline' }), T0 + 6_000);
    assert.equal(stale.applied, false);
    assert.equal(ch.state.seen, seenBefore);
    assert.deepEqual(
      ch.state.seen.map(([key]) => key),
      ['twitch:late-online'],
    );
  });

  it('forgets an id after the ttl, so the same id later is an event again', () => {
    const event = eventFactory();
    const ch = new Channel();
    const ttl = { seenTtlMs: 60_000 };
    ch.event(event('update', T0, { eventId: 'u', fields: title('A') }), T0, ttl);
    assert.equal(ch.event(event('update', T0 + 1, { eventId: 'u', fields: title('B') }), T0 + 59_999, ttl).applied, false);
    assert.equal(ch.event(event('update', T0 + 2, { eventId: 'u', fields: title('B') }), T0 + 60_000, ttl).applied, true);
    assert.equal(ch.state.record.title, 'B');
    assert.deepEqual(ch.state.seen, [['twitch:u', T0 + 60_000]], 'the expired entry is dropped when the next one is added');
  });

  it(`keeps at most ${MAX_SEEN_IDS} ids per channel, dropping the oldest`, () => {
    const event = eventFactory();
    const ch = new Channel();
    for (let i = 0; i <= MAX_SEEN_IDS; i++) {
      assert.equal(ch.event(event('update', T0 + i, { eventId: `u-${i}`, fields: title(`t${i}`) }), T0 + i).applied, true);
    }
    assert.equal(ch.state.seen.length, MAX_SEEN_IDS);
    assert.equal(ch.state.seen[0]![0], 'twitch:u-1');
    assert.equal(ch.state.seen.at(-1)![0], `twitch:u-${MAX_SEEN_IDS}`);
    // u-0 is forgotten: a replay of it meets the event-time ordering instead, and its title is older.
    const replay = ch.event(event('update', T0, { eventId: 'u-0', fields: title('t0') }), T0 + 1_000);
    assert.equal(replay.applied, false);
    assert.equal(ch.state.record.title, `t${MAX_SEEN_IDS}`);
  });

  it('tells providers apart: the same message id from two providers is two events', () => {
    const event = eventFactory();
    const ch = new Channel();
    assert.equal(ch.event(event('online', T0, { provider: 'twitch', eventId: 'same' }), T0).applied, true);
    assert.equal(ch.event(event('online', T0 + 1, { provider: 'youtube', eventId: 'same' }), T0 + 1).applied, true);
  });

  it('decodes a state stored before it had a seen set, and round-trips one that has', () => {
    const event = eventFactory();
    const ch = new Channel();
    ch.event(event('online', T0, { eventId: 'e-1' }), T0);
    const { seen, ...stored } = ch.state;
    const old = channelStateSchema.parse(JSON.parse(JSON.stringify(stored)));
    assert.deepEqual(old.seen, []);
    assert.deepEqual(channelStateSchema.parse(JSON.parse(JSON.stringify(ch.state))).seen, seen);
    assert.equal(channelStateSchema.safeParse({ ...ch.state, seen: [['x', 'not a time']] }).success, false);
  });
});

describe('channel state machine, property: the latest event wins', () => {
  function run(seed: number): void {
    const random = seededRandom(seed);
    const count = 1_000;
    // Distinct event times (slot i gets a random offset within its own second), random kinds.
    const events: CanonicalEvent[] = Array.from({ length: count }, (_, i) => {
      const kind: CanonicalEvent['kind'] = random() < 0.5 ? 'online' : 'offline';
      const eventTimeMs = T0 + i * 1_000 + Math.floor(random() * 1_000);
      return {
        kind,
        channel,
        provider: 'twitch',
        eventId: `seed-${seed}-msg-${i}`,
        eventTimeMs,
        verified: true,
        fields: kind === 'online' ? { started_at: new Date(eventTimeMs).toISOString() } : {},
      };
    });
    const latest = events.reduce((a, b) => (b.eventTimeMs > a.eventTimeMs ? b : a));
    const shuffled = [...events];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j] as CanonicalEvent, shuffled[i] as CanonicalEvent];
    }

    let state = initialChannelState(channel, T0);
    let nowMs = T0;
    let wakeAtMs: number | null = null;
    let seq = 0;
    const seen: CanonicalEvent[] = [];
    const take = (transition: Transition, what: string) => {
      if (transition.emit) {
        seq += 1;
        assert.equal(transition.emit.seq, seq, `seed ${seed}: seq after ${what}`);
        assert.equal(liveMetadataSchema.safeParse(transition.emit).success, true, `seed ${seed}: emitted record is canonical`);
      }
      assert.equal(transition.state.record.seq, seq, `seed ${seed}: seq moves only with emits`);
      state = deepFreeze(transition.state);
      wakeAtMs = transition.wakeAtMs;
    };

    for (const event of shuffled) {
      // Mostly a few seconds apart, sometimes a long gap that outlasts the grace window.
      nowMs += random() < 0.05 ? GRACE_MS + Math.floor(random() * 10_000) : Math.floor(random() * 5_000);
      // A worker runs due timers; sometimes it is late and the next event arrives first.
      if (wakeAtMs !== null && nowMs >= wakeAtMs && random() < 0.5) take(applyTimer(state, ctx(nowMs)), 'timer');
      take(applyEvent(state, event, ctx(nowMs)), `event ${event.eventId}`);
      seen.push(event);
      if (random() < 0.1) {
        // A redelivery of something already seen changes nothing.
        const replay = seen[Math.floor(random() * seen.length)] as CanonicalEvent;
        const t = applyEvent(state, replay, ctx(nowMs));
        assert.equal(t.applied, false, `seed ${seed}: replay of ${replay.eventId} applied`);
        take(t, `replay ${replay.eventId}`);
      }
    }
    // Run timers until nothing is scheduled, past the grace window.
    nowMs += GRACE_MS + COALESCE_MS + 1;
    for (let i = 0; i < 3; i++) take(applyTimer(state, ctx(nowMs)), 'final timer');
    assert.equal(wakeAtMs, null, `seed ${seed}: nothing left to do`);

    const expected = latest.kind === 'online' ? 'live' : 'offline';
    assert.equal(state.record.status, expected, `seed ${seed}: latest event ${latest.eventId} was ${latest.kind}`);
    assert.equal(state.providers['twitch']?.lastEventTimeMs, latest.eventTimeMs);
    assert.deepEqual(channelStateSchema.parse(JSON.parse(JSON.stringify(state))), state);
  }

  for (const seed of [1, 2, 3, 42, 1337, 20260301, 0xdeadbeef, 7]) {
    it(`ends in the status of the event with the latest event time (seed ${seed})`, () => run(seed));
  }
});
