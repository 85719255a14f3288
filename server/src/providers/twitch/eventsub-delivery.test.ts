import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodyBytes, createEventSubSender, headerOf, resign, withBody, type EventSubWebhookRequest } from '../../../../test/fakes/twitch/eventsub.js';
import { AppError } from '../../errors/index.js';
import { readEventSubDelivery } from './eventsub-delivery.js';
import { eventSubNotificationEnvelopeSchema } from './eventsub-message.js';

const SECRET = 'a-secret-of-some-length';
const sender = createEventSubSender({ secret: SECRET });

function read(request: EventSubWebhookRequest, extra: { receivedAt?: string } = {}) {
  return readEventSubDelivery({ header: (name) => headerOf(request, name), rawBody: bodyBytes(request), secret: SECRET, nowMs: Date.now(), ...extra });
}

describe('readEventSubDelivery', () => {
  it('reads a notification: the raw event carries the subscription type and version and the body exactly as sent', () => {
    for (const request of [sender.streamOnline(), sender.streamOffline(), sender.channelUpdate({ title: 'T ✓' })]) {
      const delivery = read(request);
      assert.equal(delivery.kind, 'notification');
      if (delivery.kind !== 'notification') return;
      const body = JSON.parse(request.body) as { subscription: { type: string; version: string } };
      assert.deepEqual(delivery.subscription, { type: body.subscription.type, version: body.subscription.version });
      assert.equal(delivery.event.subscription_type, body.subscription.type);
      assert.equal(delivery.event.body, request.body);
    }
  });

  it('takes the caller\'s receivedAt, else makes it from nowMs', () => {
    const request = sender.streamOnline();
    const given = read(request, { receivedAt: '2026-12-07T08:00:00.000Z' });
    assert.equal(given.kind === 'notification' && given.event.received_at, '2026-12-07T08:00:00.000Z');
    const made = readEventSubDelivery({ header: (name) => headerOf(request, name), rawBody: bodyBytes(request), secret: SECRET, nowMs: Date.parse(headerOf(request, 'Twitch-Eventsub-Message-Timestamp')!) });
    assert.equal(made.kind === 'notification' && made.event.received_at, new Date(Date.parse(headerOf(request, 'Twitch-Eventsub-Message-Timestamp')!)).toISOString());
  });

  it('refuses a signed notification whose body could not travel as a raw event with 400 invalid_body', () => {
    const online = JSON.parse(sender.streamOnline().body) as { subscription: Record<string, unknown>; event: Record<string, unknown> };
    const subscription = online.subscription;
    for (const [why, body] of [
      ['no subscription', { event: online.event }],
      ['a subscription that is a number', { ...online, subscription: 1 }],
      ['a subscription that is null', { ...online, subscription: null }],
      ['an empty type', { ...online, subscription: { ...subscription, type: '' } }],
      ['a type over 128 characters', { ...online, subscription: { ...subscription, type: 'x'.repeat(129) } }],
      ['a numeric version', { ...online, subscription: { ...subscription, version: 1 } }],
      ['an empty version', { ...online, subscription: { ...subscription, version: '' } }],
      ['a version over 16 characters', { ...online, subscription: { ...subscription, version: '1'.repeat(17) } }],
      ['no event', { subscription }],
      ['an event that is an array', { ...online, event: [] }],
      ['an event that is null', { ...online, event: null }],
      ['an event that is a string', { ...online, event: '{}' }],
      ['a body that is an array', [online]],
      ['a body that is null', null],
      ['a body that is a number', 7],
    ] as const) {
      const request = resign(withBody(sender.streamOnline(), JSON.stringify(body)), SECRET);
      assert.throws(() => read(request), (error: unknown) => error instanceof AppError && error.code === 'invalid_body' && error.status === 400, why);
    }
  });

  it('accepts the longest type and version that fit the raw stream', () => {
    const online = JSON.parse(sender.streamOnline().body) as { subscription: Record<string, unknown> };
    const body = { ...online, subscription: { ...online.subscription, type: 't'.repeat(128), version: '9'.repeat(16) } };
    const delivery = read(resign(withBody(sender.streamOnline(), JSON.stringify(body)), SECRET));
    assert.equal(delivery.kind === 'notification' && delivery.event.subscription_type, 't'.repeat(128));
  });

  it('counts the type and version in code points, as the notification envelope schema does', () => {
    const online = JSON.parse(sender.streamOnline().body) as { subscription: Record<string, unknown> };
    for (const [type, version] of [
      ['🎮'.repeat(128), '9'],
      ['🎮'.repeat(129), '9'],
      ['t'.repeat(127) + '🎮', '🎮'.repeat(16)],
      ['t', '🎮'.repeat(17)],
      ['t', 'é'.repeat(16)],
    ] as const) {
      const body = { ...online, subscription: { ...online.subscription, type, version } };
      const request = resign(withBody(sender.streamOnline(), JSON.stringify(body)), SECRET);
      const schemaAccepts = eventSubNotificationEnvelopeSchema.safeParse(body).success;
      let accepted = true;
      try {
        read(request);
      } catch {
        accepted = false;
      }
      assert.equal(accepted, schemaAccepts, `type of ${type.length} UTF-16 units, version of ${version.length}`);
    }
    assert.equal(eventSubNotificationEnvelopeSchema.safeParse({ ...online, subscription: { ...online.subscription, type: '🎮'.repeat(128) } }).success, true, 'the schema counts code points');
  });
});
