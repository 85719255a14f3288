import type { RawProviderEvent } from './raw-provider-event.js';

/**
 * Where a provider hands a verified raw event (the pipeline's `RawEventIngest` is the one in
 * production). Resolves once the event is stored durably, `duplicate` when its message id was
 * already stored; rejects when it cannot be stored, so the provider's delivery is retried.
 */
export interface RawEventSink {
  publish(event: RawProviderEvent): Promise<{ readonly duplicate: boolean }>;
}
