import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEventSubSender, type EventSubWebhookRequest } from '../../../../test/fakes/twitch/eventsub.js';
import { AppError } from '../../errors/index.js';
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
});
