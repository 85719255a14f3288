import { BusUnavailableError, STREAMS, SUBJECTS, type Bus } from '../bus/index.js';
import { AppError } from '../errors/index.js';
import type { HistogramChild, Metrics } from '../observability/metrics.js';
import { encodeRawEvent, rawEventMsgId, type RawEventSink, type RawProviderEvent } from '../provider-adapter/index.js';

/**
 * The pipeline's front door: a verified provider event is published durably on
 * `live.raw.{provider}` with the provider's message id as msg id. Resolves only once the bus
 * has stored it; a bus that cannot is a 503 so the provider retries.
 */
export class RawEventIngest implements RawEventSink {
  /** The publish-latency histogram's raw-stream child, looked up once. */
  private readonly publishLatency: HistogramChild;

  constructor(
    private readonly bus: Bus,
    metrics: Metrics,
  ) {
    this.publishLatency = metrics.publishLatency.child({ stream: STREAMS.liveRaw.name });
  }

  async publish(event: RawProviderEvent): Promise<{ duplicate: boolean }> {
    // Timed by hand: prom-client's startTimer costs two hrtime arrays, a closure and a label copy per call.
    const startedAt = performance.now();
    try {
      const ack = await this.bus.publish(SUBJECTS.liveRaw(event.provider), encodeRawEvent(event), { msgId: rawEventMsgId(event) });
      this.publishLatency.observe((performance.now() - startedAt) / 1000);
      return { duplicate: ack.duplicate };
    } catch (error) {
      if (error instanceof BusUnavailableError) {
        throw new AppError('bus_unavailable', 'event bus unavailable; retry later', { cause: error, headers: { 'Retry-After': '5' } });
      }
      throw error;
    }
  }
}
