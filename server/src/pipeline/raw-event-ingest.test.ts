import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BusUnavailableError, STREAMS, createMemoryBus } from '../bus/index.js';
import { AppError } from '../errors/index.js';
import { createMetrics } from '../observability/index.js';
import { RawEventIngest } from './raw-event-ingest.js';
import { decodeRawEvent, type RawProviderEvent } from '../provider-adapter/index.js';

const event = (messageId: string): RawProviderEvent => ({
  provider: 'twitch',
  message_id: messageId,
  message_type: 'notification',
  subscription_type: 'channel.update',
  subscription_version: '2',
  message_timestamp: '2026-11-24T10:00:00.123456789Z',
  received_at: '2026-11-24T10:00:00.200Z',
  body: '{"subscription":{},"event":{"title":"Grüße"}}',
});

describe('RawEventIngest', () => {
  it('stores the event on live.raw, dedupes its message id, and times each publish', async () => {
    const bus = createMemoryBus();
    await bus.ensureStreams([STREAMS.liveRaw]);
    const metrics = createMetrics();
    const ingest = new RawEventIngest(bus, metrics);
    assert.deepEqual(await ingest.publish(event('a')), { duplicate: false });
    assert.deepEqual(await ingest.publish(event('a')), { duplicate: true });
    assert.deepEqual(await ingest.publish(event('b')), { duplicate: false });
    const stored = await bus.readLatest(STREAMS.liveRaw.name, { limit: 10 });
    assert.deepEqual(stored.map((message) => decodeRawEvent(message.data)), [event('b'), event('a')]);
    const { values } = await metrics.publishLatency.get();
    const count = values.find((sample) => sample.metricName === 'live_upload_bus_publish_seconds_count' && sample.labels['stream'] === STREAMS.liveRaw.name);
    assert.equal(count?.value, 3);
    await bus.close();
  });

  it('turns a bus that cannot store into a 503 with Retry-After, and times nothing', async () => {
    const bus = createMemoryBus();
    await bus.ensureStreams([STREAMS.liveRaw]);
    await bus.close();
    const metrics = createMetrics();
    const ingest = new RawEventIngest(bus, metrics);
    await assert.rejects(ingest.publish(event('a')), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.status, 503);
      assert.equal(error.headers['Retry-After'], '5');
      assert.ok(error.cause instanceof BusUnavailableError);
      return true;
    });
    assert.equal((await metrics.publishLatency.get()).values.length, 0);
  });
});
