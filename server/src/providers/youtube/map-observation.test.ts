import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../errors/index.js';
import type { VideoResource } from './data-api-resources.js';
import { decideObservation, type LiveVideoRecord } from './decide-observation.js';
import { mapYouTubeObservation } from './map-observation.js';
import { readYouTubeRawEvent, toRawProviderEvent, youTubeObservationId, type YouTubeObservation } from './youtube-observation.js';

const CHANNEL_ID = 'UCuAXFkgsw1L7xaCfnd5JJOw';
const VIDEO_ID = 'dQw4w9WgXcQ';
const START = '2026-03-01T18:00:00Z';
const END = '2026-03-01T20:30:00Z';
const SEEN = Date.parse('2026-03-01T19:00:00.250Z');

function video(details: VideoResource['liveStreamingDetails'], title = 'Morning show', content = 'live'): VideoResource {
  return { id: VIDEO_ID, snippet: { channelId: CHANNEL_ID, title, liveBroadcastContent: content }, ...(details ? { liveStreamingDetails: details } : {}) };
}

function observation(kind: YouTubeObservation['kind'], item: VideoResource | null, extra: Partial<YouTubeObservation> = {}): YouTubeObservation {
  return { kind, video_id: VIDEO_ID, channel_id: CHANNEL_ID, source: 'websub', observed_at: new Date(SEEN).toISOString(), video: item, deleted_at: null, ...extra };
}

const context = { videoId: VIDEO_ID, channelId: CHANNEL_ID, source: 'poll' as const, observedAtMs: SEEN };
const liveRecord: LiveVideoRecord = { video_id: VIDEO_ID, channel_id: CHANNEL_ID, actual_start_time: START, title: 'Morning show', concurrent_viewers: '10', checked_at_ms: SEEN - 45_000 };

describe('mapYouTubeObservation', () => {
  it('maps a live video to online at its actual start, with title, viewers and the video id', () => {
    const event = mapYouTubeObservation({ channel: 'acme/morning-show', observation: observation('online', video({ actualStartTime: START, concurrentViewers: '1234' })) });
    assert.deepEqual(event, {
      channel: 'acme/morning-show',
      provider: 'youtube',
      eventId: `${VIDEO_ID}.online.${Date.parse(START)}`,
      eventTimeMs: Date.parse(START),
      verified: true,
      providerStreamId: VIDEO_ID,
      kind: 'online',
      fields: { started_at: '2026-03-01T18:00:00.000Z', title: 'Morning show', viewer_count: 1234 },
    });
  });

  it('maps an ended video to offline at its actual end', () => {
    const event = mapYouTubeObservation({ channel: 'acme/morning-show', observation: observation('offline', video({ actualStartTime: START, actualEndTime: END }, 'Morning show', 'none')) });
    assert.equal(event.kind, 'offline');
    assert.equal(event.eventTimeMs, Date.parse(END));
    assert.equal(event.eventId, `${VIDEO_ID}.offline.${Date.parse(END)}`);
    assert.deepEqual(event.fields, {});
  });

  it('maps a vanished video to offline at its deletion time', () => {
    const deletedAt = '2026-03-01T19:30:00.000Z';
    const event = mapYouTubeObservation({ channel: 'acme/morning-show', observation: observation('offline', null, { deleted_at: deletedAt }) });
    assert.equal(event.kind, 'offline');
    assert.equal(event.eventTimeMs, Date.parse(deletedAt));
    assert.equal(event.providerStreamId, VIDEO_ID);
  });

  it('maps an update at the observation time, with viewers absent as null and an empty title as null', () => {
    const event = mapYouTubeObservation({ channel: 'acme/morning-show', observation: observation('update', video({ actualStartTime: START }, '  ')) });
    assert.equal(event.kind, 'update');
    assert.equal(event.eventTimeMs, SEEN);
    assert.deepEqual(event.fields, { title: null, viewer_count: null });
  });

  it('gives the same observation the same event id, and different observations different ids', () => {
    const a = observation('online', video({ actualStartTime: START, concurrentViewers: '1' }));
    const b = { ...observation('online', video({ actualStartTime: START, concurrentViewers: '99' })), observed_at: '2026-03-01T19:10:00Z', source: 'poll' as const };
    assert.equal(youTubeObservationId(a), youTubeObservationId(b), 'the same start, seen twice, is one online');
    const restarted = observation('online', video({ actualStartTime: '2026-03-01T21:00:00Z' }));
    assert.notEqual(youTubeObservationId(a), youTubeObservationId(restarted));
    const update1 = observation('update', video({ actualStartTime: START }));
    const update2 = { ...update1, observed_at: new Date(SEEN + 45_000).toISOString() };
    assert.notEqual(youTubeObservationId(update1), youTubeObservationId(update2));
  });

  it('refuses observations that contradict their kind or their API item', () => {
    const cases: YouTubeObservation[] = [
      observation('online', video({ actualStartTime: START, actualEndTime: END })),
      observation('online', video(undefined, 'Upload', 'none')),
      observation('online', null),
      observation('update', video({ scheduledStartTime: START }, 'Soon', 'upcoming')),
      observation('offline', video({ actualStartTime: START })),
      { ...observation('online', video({ actualStartTime: START })), video_id: 'aaaaaaaaaaa' },
      { ...observation('online', video({ actualStartTime: START })), channel_id: 'UCaaaaaaaaaaaaaaaaaaaaaa' },
    ];
    for (const bad of cases) {
      assert.throws(() => mapYouTubeObservation({ channel: 'acme/morning-show', observation: bad }), (error: unknown) => error instanceof AppError && error.code === 'invalid_body');
    }
  });

  it('round-trips through the raw provider event on live.raw.youtube', () => {
    const original = observation('online', video({ actualStartTime: START, concurrentViewers: '5' }));
    const raw = toRawProviderEvent(original);
    assert.equal(raw.provider, 'youtube');
    assert.equal(raw.message_id, `${VIDEO_ID}.online.${Date.parse(START)}`);
    assert.equal(raw.subscription_type, 'online');
    assert.equal(raw.message_timestamp, '2026-03-01T18:00:00.000Z');
    assert.deepEqual(readYouTubeRawEvent(raw), original);
    assert.throws(() => readYouTubeRawEvent({ provider: 'youtube', body: '{"kind":"online"}' }), AppError);
    assert.throws(() => readYouTubeRawEvent({ provider: 'youtube', body: 'nope' }), AppError);
    assert.throws(() => readYouTubeRawEvent({ provider: 'twitch', body: raw.body }), AppError);
  });
});

describe('decideObservation', () => {
  it('publishes online the first time a video is seen live, and records it', () => {
    const decision = decideObservation(undefined, video({ actualStartTime: START, concurrentViewers: '10' }), context);
    assert.equal(decision.observation?.kind, 'online');
    assert.equal(decision.observation?.source, 'poll');
    assert.deepEqual(decision.record, { ...liveRecord, checked_at_ms: SEEN });
  });

  it('publishes nothing when nothing changed, but refreshes the check time', () => {
    const decision = decideObservation(liveRecord, video({ actualStartTime: START, concurrentViewers: '10' }), context);
    assert.equal(decision.observation, null);
    assert.equal(decision.record?.checked_at_ms, SEEN);
  });

  it('publishes an update when viewers or title change', () => {
    assert.equal(decideObservation(liveRecord, video({ actualStartTime: START, concurrentViewers: '11' }), context).observation?.kind, 'update');
    assert.equal(decideObservation(liveRecord, video({ actualStartTime: START, concurrentViewers: '10' }, 'New title'), context).observation?.kind, 'update');
  });

  it('publishes offline when a known live video ended or vanished, and drops the record', () => {
    const ended = decideObservation(liveRecord, video({ actualStartTime: START, actualEndTime: END }, 'Morning show', 'none'), context);
    assert.equal(ended.observation?.kind, 'offline');
    assert.equal(ended.record, null);
    const gone = decideObservation(liveRecord, null, { ...context, deletedAtMs: Date.parse('2026-03-01T19:30:00Z') });
    assert.equal(gone.observation?.kind, 'offline');
    assert.equal(gone.observation?.deleted_at, '2026-03-01T19:30:00.000Z');
    assert.equal(gone.record, null);
  });

  it('ignores uploads, upcoming broadcasts and ended videos it never saw live', () => {
    for (const item of [video(undefined, 'Upload', 'none'), video({ scheduledStartTime: START }, 'Soon', 'upcoming'), video({ actualStartTime: START, actualEndTime: END }), null]) {
      assert.deepEqual(decideObservation(undefined, item, context), { observation: null, record: undefined });
    }
  });
});
