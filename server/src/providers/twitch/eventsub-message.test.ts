import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEventSubSender } from '../../../../test/fakes/twitch/eventsub.js';
import {
  channelUpdateEventSchema,
  eventSubNotificationBodySchema,
  eventSubNotificationEnvelopeSchema,
  eventSubRevocationBodySchema,
  eventSubVerificationBodySchema,
  streamOfflineEventSchema,
  streamOnlineEventSchema,
} from './eventsub-message.js';

const sender = createEventSubSender({ secret: 'a-secret-of-some-length' });

function bodyOf(request: { body: string }): unknown {
  return JSON.parse(request.body);
}

describe('EventSub message schemas', () => {
  it('parse a stream.online notification with its subscription and event', () => {
    const body = eventSubNotificationBodySchema.parse(bodyOf(sender.streamOnline({ streamId: '9001', startedAtMs: Date.UTC(2020, 9, 11, 10, 11, 12, 123) })));
    assert.equal(body.subscription.type, 'stream.online');
    assert.equal(body.subscription.version, '1');
    assert.equal(body.subscription.transport.method, 'webhook');
    assert.deepEqual(body.subscription.condition, { broadcaster_user_id: '1337' });
    const event = streamOnlineEventSchema.parse(body.event);
    assert.deepEqual(event, {
      id: '9001',
      broadcaster_user_id: '1337',
      broadcaster_user_login: 'cool_user',
      broadcaster_user_name: 'Cool_User',
      type: 'live',
      started_at: '2020-10-11T10:11:12.123Z',
    });
  });

  it('parse the documented stream.online example payload', () => {
    const documented = {
      subscription: {
        id: 'f1c2a387-161a-49f9-a165-0f21d7a4e1c4',
        type: 'stream.online',
        version: '1',
        status: 'enabled',
        cost: 0,
        condition: { broadcaster_user_id: '1337' },
        transport: { method: 'webhook', callback: 'https://example.com/webhooks/callback' },
        created_at: '2019-11-16T10:11:12.634234626Z',
      },
      event: {
        id: '9001',
        broadcaster_user_id: '1337',
        broadcaster_user_login: 'cool_user',
        broadcaster_user_name: 'Cool_User',
        type: 'live',
        started_at: '2020-10-11T10:11:12.123Z',
      },
    };
    const body = eventSubNotificationBodySchema.parse(documented);
    assert.equal(streamOnlineEventSchema.parse(body.event).id, '9001');
  });

  it('parse stream.offline and channel.update v2 events', () => {
    const offline = eventSubNotificationBodySchema.parse(bodyOf(sender.streamOffline()));
    assert.deepEqual(streamOfflineEventSchema.parse(offline.event), {
      broadcaster_user_id: '1337',
      broadcaster_user_login: 'cool_user',
      broadcaster_user_name: 'Cool_User',
    });
    const update = eventSubNotificationBodySchema.parse(
      bodyOf(sender.channelUpdate({ title: 'Speedrun', categoryName: 'Celeste', categoryId: '504461', contentClassificationLabels: ['MatureGame'] })),
    );
    assert.equal(update.subscription.version, '2');
    const event = channelUpdateEventSchema.parse(update.event);
    assert.equal(event.title, 'Speedrun');
    assert.equal(event.category_name, 'Celeste');
    assert.deepEqual(event.content_classification_labels, ['MatureGame']);
  });

  it('parse a verification challenge and a revocation', () => {
    const verification = eventSubVerificationBodySchema.parse(bodyOf(sender.verification('stream.online', '1', { challenge: 'pogchamp-kappa-360noscope-vohiyo' })));
    assert.equal(verification.challenge, 'pogchamp-kappa-360noscope-vohiyo');
    assert.equal(verification.subscription.status, 'webhook_callback_verification_pending');
    const revocation = eventSubRevocationBodySchema.parse(bodyOf(sender.revocation('stream.offline', '1', { status: 'user_removed' })));
    assert.equal(revocation.subscription.status, 'user_removed');
    assert.equal(revocation.subscription.type, 'stream.offline');
  });

  it('keep documented fields and drop ones Twitch may add later', () => {
    const body = bodyOf(sender.streamOffline()) as { subscription: Record<string, unknown>; event: Record<string, unknown> };
    const parsed = eventSubNotificationBodySchema.parse({ ...body, subscription: { ...body.subscription, extra: 1 } });
    assert.equal('extra' in parsed.subscription, false);
  });

  it('reject bodies that are not what Twitch documents', () => {
    const online = bodyOf(sender.streamOnline()) as { subscription: Record<string, unknown>; event: Record<string, unknown> };
    assert.equal(eventSubNotificationBodySchema.safeParse({ subscription: online.subscription }).success, false);
    assert.equal(eventSubNotificationBodySchema.safeParse({ ...online, subscription: { ...online.subscription, cost: -1 } }).success, false);
    assert.equal(eventSubNotificationBodySchema.safeParse({ ...online, subscription: { ...online.subscription, created_at: 'today' } }).success, false);
    assert.equal(streamOnlineEventSchema.safeParse({ ...online.event, started_at: 'now' }).success, false);
    assert.equal(streamOnlineEventSchema.safeParse({ ...online.event, id: undefined }).success, false);
    assert.equal(eventSubVerificationBodySchema.safeParse({ subscription: online.subscription }).success, false);
    assert.equal(channelUpdateEventSchema.safeParse({ ...online.event, title: 'x' }).success, false);
  });

  it('the webhook\'s notification envelope reads the type and version and leaves the event as sent', () => {
    for (const request of [sender.streamOnline(), sender.streamOffline(), sender.channelUpdate({ title: 'T' })]) {
      const body = bodyOf(request) as { subscription: { type: string; version: string }; event: Record<string, unknown> };
      const envelope = eventSubNotificationEnvelopeSchema.parse(body);
      assert.deepEqual(envelope.subscription, { type: body.subscription.type, version: body.subscription.version });
      assert.equal(envelope.event, body.event, 'the event is not copied');
    }
  });

  it('the notification envelope refuses what could not travel as a raw event', () => {
    const online = bodyOf(sender.streamOnline()) as { subscription: Record<string, unknown>; event: Record<string, unknown> };
    const subscription = online.subscription;
    for (const [why, body] of [
      ['no subscription', { event: online.event }],
      ['a subscription that is a number', { ...online, subscription: 1 }],
      ['an empty type', { ...online, subscription: { ...subscription, type: '' } }],
      ['a type over 128 characters', { ...online, subscription: { ...subscription, type: 'x'.repeat(129) } }],
      ['a numeric version', { ...online, subscription: { ...subscription, version: 1 } }],
      ['a version over 16 characters', { ...online, subscription: { ...subscription, version: '1'.repeat(17) } }],
      ['no event', { subscription }],
      ['an event that is an array', { ...online, event: [] }],
      ['an event that is null', { ...online, event: null }],
      ['an event that is a string', { ...online, event: '{}' }],
      ['a body that is an array', [online]],
    ] as const) {
      assert.equal(eventSubNotificationEnvelopeSchema.safeParse(body).success, false, why);
    }
  });
});
