import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEventSubSender, type EventSubWebhookRequest } from '../../../../test/fakes/twitch/eventsub.js';
import { AppError } from '../../errors/index.js';
import { channelUpdateEventSchema, streamOfflineEventSchema, streamOnlineEventSchema } from './eventsub-message.js';
import { mapTwitchNotification } from './map-event.js';

const nowMs = Date.parse('2026-03-01T18:00:00Z');
const sender = createEventSubSender({ secret: 'a-secret-of-some-length', now: () => nowMs });
const channel = 'acme/morning-show';

function map(request: EventSubWebhookRequest) {
  const body = JSON.parse(request.body) as { event: unknown };
  return mapTwitchNotification({
    channel,
    messageId: request.messageId,
    messageTimestamp: request.timestamp,
    subscriptionType: request.subscriptionType,
    subscriptionVersion: request.subscriptionVersion,
    event: body.event,
  });
}

describe('mapTwitchNotification', () => {
  it('maps stream.online to a verified online event timed by started_at, naming the stream id', () => {
    const startedAtMs = nowMs - 4_000;
    const request = sender.streamOnline({ streamId: '40078987165', startedAtMs, timestamp: '2026-03-01T18:00:00.123456789Z' });
    assert.deepEqual(map(request), {
      kind: 'online',
      channel,
      provider: 'twitch',
      eventId: request.messageId,
      eventTimeMs: startedAtMs,
      verified: true,
      providerStreamId: '40078987165',
      fields: { started_at: new Date(startedAtMs).toISOString() },
    });
  });

  it('maps stream.offline to an offline event timed by the nanosecond message timestamp', () => {
    const request = sender.streamOffline({ timestamp: '2026-03-01T18:30:00.987654321Z' });
    assert.deepEqual(map(request), {
      kind: 'offline',
      channel,
      provider: 'twitch',
      eventId: request.messageId,
      eventTimeMs: Date.parse('2026-03-01T18:30:00.987Z'),
      verified: true,
      fields: {},
    });
  });

  it('maps channel.update v2 to an update of title and category', () => {
    const request = sender.channelUpdate({ title: 'Morning <b>show</b>', categoryName: 'Just Chatting' });
    const event = map(request);
    assert.equal(event?.kind, 'update');
    assert.equal(event?.eventTimeMs, Date.parse(request.timestamp.slice(0, 23) + 'Z'));
    assert.deepEqual(event?.fields, { title: 'Morning <b>show</b>', category: 'Just Chatting' });
  });

  it('maps an empty title and category to null', () => {
    assert.deepEqual(map(sender.channelUpdate({ title: '', categoryName: '', categoryId: '' }))?.fields, { title: null, category: null });
  });

  it('returns undefined for a subscription type it does not map', () => {
    assert.equal(map(sender.notification('channel.follow', '2', { user_id: '1234', followed_at: '2026-03-01T18:00:00Z' })), undefined);
  });

  it('returns undefined for a mapped type in a version it does not map', () => {
    const request = sender.notification('channel.update', '1', { broadcaster_user_id: '1337', title: 'x', is_mature: false });
    assert.equal(map(request), undefined);
  });

  it('throws invalid_body when a mapped payload is not the documented shape', () => {
    const request = sender.notification('stream.online', '1', { id: '1', broadcaster_user_id: '1337' });
    assert.throws(() => map(request), (error: unknown) => error instanceof AppError && error.code === 'invalid_body');
    assert.throws(
      () => mapTwitchNotification({ channel, messageId: 'm', messageTimestamp: 'now', subscriptionType: 'stream.offline', event: {} }),
      (error: unknown) => error instanceof AppError && error.code === 'invalid_body',
    );
  });

  it('accepts exactly the payloads the event schemas accept, and maps them as the schema parsed them', () => {
    const odd: unknown[] = ['', 'x', '🎮', 0, 1.5, true, null, [], ['a'], [1], {}, { a: 1 }, '2026-03-01T18:00:00Z', '2026-03-01 18:00:00', '2026-02-30T18:00:00Z'];
    const valid = {
      'stream.online': { id: '40078987165', broadcaster_user_id: '1337', broadcaster_user_login: 'cool_user', broadcaster_user_name: 'Cool_User', type: 'live', started_at: '2026-03-01T17:59:56.123456Z' },
      'stream.offline': { broadcaster_user_id: '1337', broadcaster_user_login: 'cool_user', broadcaster_user_name: 'Cool_User' },
      'channel.update': {
        broadcaster_user_id: '1337',
        broadcaster_user_login: 'cool_user',
        broadcaster_user_name: 'Cool_User',
        title: 'Morning show',
        language: 'en',
        category_id: '509658',
        category_name: 'Just Chatting',
        content_classification_labels: ['Gambling'],
      },
    } as const;
    const schemas = { 'stream.online': streamOnlineEventSchema, 'stream.offline': streamOfflineEventSchema, 'channel.update': channelUpdateEventSchema } as const;
    const versions = { 'stream.online': '1', 'stream.offline': '1', 'channel.update': '2' } as const;
    let accepted = 0;
    let refused = 0;
    for (const type of Object.keys(valid) as Array<keyof typeof valid>) {
      const base: Record<string, unknown> = valid[type];
      const fields = [...Object.keys(base), 'content_classification_labels', 'id', 'extra'];
      const candidates: unknown[] = [base, ...odd, { ...base, extra: { nested: true } }, { ...base, content_classification_labels: ['a', 2] }];
      for (const field of fields) {
        const { [field]: _dropped, ...without } = base;
        candidates.push(without);
        for (const value of odd) candidates.push({ ...base, [field]: value });
      }
      for (const event of candidates) {
        const label = `${type} ${JSON.stringify(event)}`;
        const parsed = schemas[type].safeParse(event);
        const notification = { channel, messageId: 'm-1', messageTimestamp: '2026-03-01T18:00:00.5Z', subscriptionType: type, subscriptionVersion: versions[type], event };
        if (!parsed.success) {
          refused++;
          assert.throws(() => mapTwitchNotification(notification), (error: unknown) => error instanceof AppError && error.code === 'invalid_body' && error.cause !== undefined, label);
          continue;
        }
        accepted++;
        // The reference: the same notification with the event the schema parsed out of it.
        assert.deepEqual(mapTwitchNotification(notification), mapTwitchNotification({ ...notification, event: parsed.data }), label);
      }
    }
    assert.ok(accepted > 10 && refused > 100, `${accepted} accepted, ${refused} refused`);
  });
});
