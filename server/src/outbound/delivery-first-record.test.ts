/**
 * A delivery job that comes as a first delivery (`deliveryCount` 1) although an earlier delivery
 * of it already recorded attempts: after a JetStream consumer's leader changes, a message can
 * come again with its count started over. The worker takes a first delivery's record from the
 * job alone, without a read; its first write is a create, so such an attempt is recorded after
 * the stored ones instead of starting the count (and the retry schedule) over.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { openLoopbackOutbound } from '../../../test/support/loopback-outbound.js';
import { eventually } from '../../../test/support/eventually.js';
import { STREAMS, SUBJECTS, createMemoryBus, createNatsBus, encodeJson, type Bus } from '../bus/index.js';
import { deliveryIdFor, pendingRecord, type DeliveryJob, type DeliveryRecord } from './delivery.js';
import { DeliveryStore } from './delivery-store.js';
import type { OutboundWebhooks } from './outbound-webhooks.js';

describeEachBus('a first delivery of a job that already has a record', (busUnderTest) => {
  let bus: Bus;
  let outbound: OutboundWebhooks;
  let store: DeliveryStore;
  let receiver: Server;
  let subscriberId: string;
  /** The status the receiver answers with, and the webhook ids it was sent. */
  let answer = 204;
  const received: string[] = [];

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    receiver = createServer((req, res) => {
      received.push(String(req.headers['webhook-id']));
      req.resume();
      req.on('end', () => res.writeHead(answer).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    outbound = await openLoopbackOutbound(bus, { timeoutMs: 5_000, retryScheduleMs: [60_000, 120_000, 240_000, 480_000], maxInFlightPerSubscriber: 4, concurrency: 4 });
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    subscriberId = String((await outbound.admin.create({ url, events: ['clip.published'], channels: ['acme/first'], description: 'first' }, 'test')).id);
    store = await DeliveryStore.open(bus);
    await outbound.start();
  });

  after(async () => {
    await outbound.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await bus.close();
  });

  /** Stores `earlier` as the job's record, then publishes the job as a fresh message (its first delivery). */
  async function deliverAgain(webhookId: string, earlier: (record: DeliveryRecord) => DeliveryRecord): Promise<DeliveryJob> {
    const job: DeliveryJob = {
      delivery_id: deliveryIdFor(webhookId, subscriberId),
      webhook_id: webhookId,
      subscriber_id: subscriberId,
      event_type: 'clip.published',
      channel: 'acme/first',
      body: JSON.stringify({ type: 'clip.published', data: { upload_id: webhookId } }),
      created_at: new Date(Date.now() - 600_000).toISOString(),
      replay_of: null,
    };
    await store.put(earlier(pendingRecord(job)));
    await bus.publish(SUBJECTS.outboundDelivery(subscriberId), encodeJson(job), { msgId: job.delivery_id });
    return job;
  }

  const retried = (attempts: number) => (record: DeliveryRecord): DeliveryRecord => ({
    ...record,
    status: 'retrying',
    attempts,
    last_attempt_at: new Date(Date.now() - 300_000).toISOString(),
    last_response_status: 503,
    last_error: 'http_503',
    // Due: the earlier delivery's retry, which comes back as a first delivery.
    next_attempt_at: new Date(Date.now() - 1_000).toISOString(),
  });

  it('counts a delivered attempt after the two recorded ones (3), not as the first', async () => {
    answer = 204;
    const job = await deliverAgain('wh_first_delivered', retried(2));
    await eventually(async () => (await store.get(subscriberId, job.delivery_id))?.status === 'delivered', 'the delivery recorded as delivered');
    const record = await store.get(subscriberId, job.delivery_id);
    assert.equal(record?.attempts, 3);
    assert.equal(record?.last_response_status, 204);
    assert.equal(record?.next_attempt_at, null);
  });

  it('schedules a failed attempt by the stored count: the third retry delay, not the first', async () => {
    answer = 500;
    const job = await deliverAgain('wh_first_failed', retried(2));
    await eventually(async () => (await store.get(subscriberId, job.delivery_id))?.attempts === 3, 'the third attempt recorded');
    const record = await store.get(subscriberId, job.delivery_id);
    assert.equal(record?.status, 'retrying');
    assert.equal(record?.last_response_status, 500);
    const delayMs = Date.parse(record!.next_attempt_at!) - Date.parse(record!.last_attempt_at!);
    // The schedule's third delay is 240 s (jittered); its first would be 60 s.
    assert.ok(delayMs > 150_000, `next attempt ${delayMs} ms after the third, by the third delay`);
  });

  it('leaves the record of a job already delivered as it was when it comes again', async () => {
    answer = 204;
    const deliveredAt = new Date(Date.now() - 200_000).toISOString();
    const job = await deliverAgain('wh_first_done', (record) => ({ ...retried(1)(record), status: 'delivered', last_response_status: 200, last_error: null, next_attempt_at: null, last_attempt_at: deliveredAt }));
    await eventually(() => received.includes('wh_first_done'), 'the repeated job sent (at least once)');
    // The job is acked once its attempt is settled; a later job of the same subscriber is settled after it.
    answer = 204;
    const marker = await deliverAgain('wh_first_marker', (record) => record);
    await eventually(async () => (await store.get(subscriberId, marker.delivery_id))?.status === 'delivered', 'a later job delivered');
    const record = await store.get(subscriberId, job.delivery_id);
    assert.equal(record?.status, 'delivered');
    assert.equal(record?.attempts, 1);
    assert.equal(record?.last_attempt_at, deliveredAt);
  });
});
