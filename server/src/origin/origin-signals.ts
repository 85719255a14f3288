import type { RawEventSink } from '../provider-adapter/index.js';
import { ORIGIN_EVENT_TYPES } from './origin-adapter.js';
import type { OriginSession, OriginSignals } from './origin-session.js';

/**
 * Our origin's start and end of a broadcast, told the way a provider's webhook tells them: a
 * raw event `provider: 'origin'` (body: the session record) into the pipeline's front door
 * (`RawEventIngest`), so it goes through the same normalize -> debounce as Twitch's, and the
 * offline waits out the grace window like any provider's. The msg id
 * `origin:{session_id}:{online|offline}` makes a repeat (a retry, a second replica ending a
 * stale session) a no-op on the bus. Rejects when the bus cannot store it: the caller retries.
 */
export class OriginSignalPublisher implements OriginSignals {
  constructor(
    private readonly sink: RawEventSink,
    private readonly now: () => number = Date.now,
  ) {}

  async online(session: OriginSession): Promise<void> {
    await this.publish(session, 'online', session.live_at);
  }

  async offline(session: OriginSession): Promise<void> {
    await this.publish(session, 'offline', session.ended_at);
  }

  private async publish(session: OriginSession, kind: 'online' | 'offline', at: string | undefined): Promise<void> {
    const receivedAt = new Date(this.now()).toISOString();
    await this.sink.publish({
      provider: 'origin',
      message_id: `${session.session_id}:${kind}`,
      message_type: 'notification',
      subscription_type: ORIGIN_EVENT_TYPES[kind],
      subscription_version: '1',
      message_timestamp: at ?? receivedAt,
      received_at: receivedAt,
      body: JSON.stringify(session),
    });
  }
}
