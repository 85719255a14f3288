import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJson, encodeJson } from '../bus/index.js';
import { deliveryIdFor, deliveryJobSchema, type DeliveryJob } from './delivery.js';
import { deliveryJobEncoder } from './outbound-fanout.js';
import type { OutboundEvent } from './outbound-event.js';

describe('deliveryJobEncoder', () => {
  const event: OutboundEvent = {
    type: 'clip.published',
    channel: 'alice/main',
    timestamp: '2026-12-07T08:00:00.000Z',
    webhookId: 'msg_0123456789abcdef0123456789abcdef',
    body: JSON.stringify({ type: 'clip.published', data: { title: 'quote " backslash \\ newline \n emoji 🎉 \u2028 nul \u0000' } }),
  };
  const createdAt = '2026-12-07T08:00:01.000Z';

  it('writes the same bytes as encoding the job, for every subscriber', () => {
    const encode = deliveryJobEncoder(event, createdAt);
    for (const subscriberId of ['sub_01HZY3Q9W8K6P1V0X2M4N7R5T3', 'sub_01HZY3QA0000000000000000ZZ']) {
      const deliveryId = deliveryIdFor(event.webhookId, subscriberId);
      const job: DeliveryJob = {
        delivery_id: deliveryId,
        webhook_id: event.webhookId,
        subscriber_id: subscriberId,
        event_type: event.type,
        channel: event.channel,
        body: event.body,
        created_at: createdAt,
        replay_of: null,
      };
      const bytes = encode(deliveryId, subscriberId);
      assert.deepEqual(Buffer.from(bytes), Buffer.from(encodeJson(job)));
      assert.deepEqual(decodeJson(bytes, deliveryJobSchema), job);
    }
  });
});
