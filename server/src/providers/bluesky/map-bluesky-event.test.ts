import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CanonicalEvent } from '../../provider-adapter/index.js';
import { blueskyMessageId, readBlueskyRawEvent, toBlueskyRawEvent } from './bluesky-raw-event.js';
import { jetstreamCommitEventSchema, type JetstreamCommitEvent } from './jetstream-event.js';
import { mapBlueskyEvent, type ChannelStreamLinks } from './map-bluesky-event.js';

const DID = 'did:plc:z72i7hdynmk6r22z27h6tvur';
const CHANNEL = 'acme/morning-show';
const TIME_US = Date.parse('2026-03-01T18:00:05Z') * 1000;
const CREATED_AT = '2026-03-01T18:00:00.000Z';
const LINKS: ChannelStreamLinks = { twitchLogin: 'cool_user', youtubeChannelId: 'UC_x5XG1OV2P6uZZ5FSM9Ttw', landingPageUrl: 'https://live.example' };
const STATUS_URI = `at://${DID}/app.bsky.actor.status/self`;
const POST_URI = `at://${DID}/app.bsky.feed.post/3lbtnmtpl2k2a`;

function commit(collection: string, operation: 'create' | 'update' | 'delete', record?: Record<string, unknown>, rkey?: string): JetstreamCommitEvent {
  return jetstreamCommitEventSchema.parse({
    did: DID,
    time_us: TIME_US,
    kind: 'commit',
    commit: { rev: '3lbtnmtpl2k2a', operation, collection, rkey: rkey ?? (collection === 'app.bsky.actor.status' ? 'self' : '3lbtnmtpl2k2a'), ...(record ? { record, cid: 'bafyreia' } : {}) },
  });
}

const liveStatus = (extra: Record<string, unknown> = {}) => ({
  $type: 'app.bsky.actor.status',
  status: 'app.bsky.actor.status#live',
  embed: { $type: 'app.bsky.embed.external', external: { uri: 'https://www.twitch.tv/cool_user', title: 'Morning show, live', description: '' } },
  durationMinutes: 120,
  createdAt: CREATED_AT,
  ...extra,
});
const post = (text: string, extra: Record<string, unknown> = {}) => ({ $type: 'app.bsky.feed.post', text, createdAt: CREATED_AT, langs: ['en'], ...extra });

type Expected = Pick<CanonicalEvent, 'kind' | 'eventTimeMs' | 'providerStreamId' | 'fields'> | undefined;

const CASES: Array<{ name: string; event: JetstreamCommitEvent; expected: Expected }> = [
  {
    name: 'a #live status is an unverified online with the embed title and the status URI',
    event: commit('app.bsky.actor.status', 'create', liveStatus()),
    expected: { kind: 'online', eventTimeMs: Date.parse(CREATED_AT), providerStreamId: STATUS_URI, fields: { title: 'Morning show, live' } },
  },
  {
    name: 'a #live status update without an embed has no title',
    event: commit('app.bsky.actor.status', 'update', liveStatus({ embed: undefined })),
    expected: { kind: 'online', eventTimeMs: Date.parse(CREATED_AT), providerStreamId: STATUS_URI, fields: {} },
  },
  {
    name: 'a status that is not #live is offline',
    event: commit('app.bsky.actor.status', 'update', liveStatus({ status: 'app.bsky.actor.status#away' })),
    expected: { kind: 'offline', eventTimeMs: Date.parse(CREATED_AT), providerStreamId: STATUS_URI, fields: {} },
  },
  {
    name: 'a deleted status is offline at the commit time',
    event: commit('app.bsky.actor.status', 'delete'),
    expected: { kind: 'offline', eventTimeMs: TIME_US / 1000, providerStreamId: STATUS_URI, fields: {} },
  },
  {
    name: 'a createdAt that is not RFC 3339 falls back to time_us',
    event: commit('app.bsky.actor.status', 'create', liveStatus({ createdAt: 'yesterday' })),
    expected: { kind: 'online', eventTimeMs: TIME_US / 1000, providerStreamId: STATUS_URI, fields: { title: 'Morning show, live' } },
  },
  {
    name: 'a createdAt far in the future falls back to time_us',
    event: commit('app.bsky.actor.status', 'create', liveStatus({ createdAt: '2099-01-01T00:00:00Z' })),
    expected: { kind: 'online', eventTimeMs: TIME_US / 1000, providerStreamId: STATUS_URI, fields: { title: 'Morning show, live' } },
  },
  { name: 'a status record without a status field is nothing', event: commit('app.bsky.actor.status', 'create', { createdAt: CREATED_AT }), expected: undefined },
  {
    name: 'a post linking the Twitch channel in its text is an update with the post URI',
    event: commit('app.bsky.feed.post', 'create', post('Going live now! twitch.tv/Cool_User')),
    expected: { kind: 'update', eventTimeMs: Date.parse(CREATED_AT), providerStreamId: POST_URI, fields: {} },
  },
  {
    name: 'a post linking the stream through a link facet',
    event: commit('app.bsky.feed.post', 'create', post('Live now: youtube.com/live/...', {
      facets: [{ index: { byteStart: 10, byteEnd: 30 }, features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://www.youtube.com/live/dQw4w9WgXcQ' }] }],
    })),
    expected: { kind: 'update', eventTimeMs: Date.parse(CREATED_AT), providerStreamId: POST_URI, fields: {} },
  },
  {
    name: 'a post with an external embed of the landing page',
    event: commit('app.bsky.feed.post', 'create', post('come watch', {
      embed: { $type: 'app.bsky.embed.external', external: { uri: 'https://live.example/c/acme/morning-show', title: 'Morning show', description: '' } },
    })),
    expected: { kind: 'update', eventTimeMs: Date.parse(CREATED_AT), providerStreamId: POST_URI, fields: {} },
  },
  { name: 'a post linking someone else on Twitch is nothing', event: commit('app.bsky.feed.post', 'create', post('watch https://twitch.tv/other_user')), expected: undefined },
  { name: 'a post linking another YouTube channel is nothing', event: commit('app.bsky.feed.post', 'create', post('https://youtube.com/channel/UCaaaaaaaaaaaaaaaaaaaaaa')), expected: undefined },
  { name: 'a landing page of another origin is nothing', event: commit('app.bsky.feed.post', 'create', post('https://evil.example/c/acme/morning-show')), expected: undefined },
  { name: 'a landing page of another channel is nothing', event: commit('app.bsky.feed.post', 'create', post('https://live.example/c/acme/other')), expected: undefined },
  { name: 'a look-alike host is nothing', event: commit('app.bsky.feed.post', 'create', post('https://twitch.tv.evil.example/cool_user')), expected: undefined },
  { name: 'a post without links is nothing', event: commit('app.bsky.feed.post', 'create', post('good morning')), expected: undefined },
  { name: 'a deleted post is nothing', event: commit('app.bsky.feed.post', 'delete'), expected: undefined },
  { name: 'another collection is nothing', event: commit('app.bsky.feed.like', 'create', { createdAt: CREATED_AT }), expected: undefined },
  { name: 'a post whose text is not a string is nothing', event: commit('app.bsky.feed.post', 'create', { text: 42, createdAt: CREATED_AT }), expected: undefined },
];

describe('mapBlueskyEvent', () => {
  for (const { name, event, expected } of CASES) {
    it(name, () => {
      const mapped = mapBlueskyEvent({ channel: CHANNEL, messageId: 'm-1', event, links: LINKS });
      if (expected === undefined) {
        assert.equal(mapped, undefined);
        return;
      }
      assert.ok(mapped);
      assert.deepEqual(
        { kind: mapped.kind, eventTimeMs: mapped.eventTimeMs, providerStreamId: mapped.providerStreamId, fields: mapped.fields },
        expected,
      );
      assert.equal(mapped.verified, false, 'Bluesky signals are never verified');
      assert.equal(mapped.provider, 'bluesky');
      assert.equal(mapped.channel, CHANNEL);
      assert.equal(mapped.eventId, 'm-1');
    });
  }

  it('does not match posts linking Twitch or YouTube when the channel has no such link', () => {
    const event = commit('app.bsky.feed.post', 'create', post('twitch.tv/cool_user https://youtu.be/dQw4w9WgXcQ'));
    assert.equal(mapBlueskyEvent({ channel: CHANNEL, messageId: 'm', event, links: {} }), undefined);
  });
});

describe('Bluesky raw events', () => {
  it('carry the frame as received and round-trip to the same commit', () => {
    const event = commit('app.bsky.actor.status', 'create', liveStatus());
    const frame = JSON.stringify(event);
    const raw = toBlueskyRawEvent(frame, event, Date.parse('2026-03-01T18:00:06Z'));
    assert.equal(raw.body, frame);
    assert.equal(raw.message_id, `${DID}|app.bsky.actor.status|self|3lbtnmtpl2k2a`);
    assert.equal(raw.message_timestamp, '2026-03-01T18:00:05.000Z');
    assert.deepEqual(readBlueskyRawEvent(raw), event);
  });

  it('hash message ids that would not fit the envelope, keeping them stable', () => {
    const event = commit('app.bsky.feed.post', 'create', post('x'), 'k'.repeat(400));
    assert.match(blueskyMessageId(event), /^sha256:[0-9a-f]{64}$/);
    assert.equal(blueskyMessageId(event), blueskyMessageId(structuredClone(event)));
  });
});
