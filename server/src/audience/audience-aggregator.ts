import { parseCanonicalId } from '@live-upload/schema';
import { CONSUMERS, STREAMS, batchHandler, decodeJson, type Bus, type BusMessage, type Consumer } from '../bus/index.js';
import { liveStatusOf } from '../live/index.js';
import type { Logger } from '../observability/index.js';
import { foldProviderViewers, minuteOf } from './audience-minute.js';
import type { AudienceStore } from './audience-store.js';
import { audienceBeaconSchema, type AudienceBeacon } from './beacon.js';

/** Beacons folded per batch: under load, one compare-and-set per broadcast minute for many beacons. */
const MAX_BATCH = 256;

export interface AudienceAggregatorDeps {
  readonly bus: Bus;
  readonly store: AudienceStore;
  readonly logger: Logger;
}

/**
 * The audience worker (issue 27): takes beacons off the AUDIENCE_BEACONS work queue (each
 * beacon goes to one replica and is removed once folded) and folds them into their broadcast
 * minute, a batch at a time; and records the providers' `viewer_count` from `live.status.>`
 * into the same minutes, so ours and theirs sit side by side. Both folds are idempotent and
 * written by compare-and-set, so any number of replicas may run it.
 */
export class AudienceAggregator {
  private beacons: Consumer | undefined;
  private providerViewers: Consumer | undefined;

  constructor(private readonly deps: AudienceAggregatorDeps) {}

  async start(): Promise<void> {
    if (this.beacons) return;
    this.beacons = await this.deps.bus.consume(
      { stream: STREAMS.audienceBeacons.name, durable: CONSUMERS.audienceBeacons, ackWaitMs: 30_000, maxAckPending: 4 * MAX_BATCH },
      batchHandler((messages) => this.foldBatch(messages), { maxBatch: MAX_BATCH, lingerTurns: 2 }),
    );
    this.providerViewers = await this.deps.bus.consume(
      { stream: STREAMS.liveStatus.name, durable: CONSUMERS.audienceProviderViewers, ackWaitMs: 30_000, maxAckPending: 64 },
      (message) => this.recordProviderViewers(message),
    );
  }

  async stop(): Promise<void> {
    const consumers = [this.beacons, this.providerViewers];
    this.beacons = undefined;
    this.providerViewers = undefined;
    for (const consumer of consumers) await consumer?.stop();
  }

  /** Groups a batch by broadcast minute and folds each group with one compare-and-set. A malformed beacon is dropped (term). */
  private async foldBatch(messages: readonly BusMessage[]): Promise<void> {
    const groups = new Map<string, { canonicalId: string; minute: number; beacons: AudienceBeacon[] }>();
    for (const message of messages) {
      let beacon: AudienceBeacon;
      try {
        beacon = decodeJson(message.data, audienceBeaconSchema);
      } catch (error) {
        this.deps.logger.warn({ err: error, seq: message.seq }, 'malformed audience beacon dropped');
        message.term();
        continue;
      }
      if (!parseCanonicalId(beacon.canonical_id)) {
        message.term();
        continue;
      }
      const minute = minuteOf(beacon.at);
      const key = `${beacon.canonical_id}@${minute}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { canonicalId: beacon.canonical_id, minute, beacons: [] }));
      group.beacons.push(beacon);
    }
    // A failure anywhere naks the whole batch; the folds already written are set unions, so the redelivery adds nothing twice.
    await Promise.all([...groups.values()].map(({ canonicalId, minute, beacons }) => this.deps.store.addBeacons(canonicalId, minute, beacons)));
  }

  /** A live record's viewer count, kept as its provider's count for the minute the record was updated in. */
  private async recordProviderViewers(message: BusMessage): Promise<void> {
    const record = liveStatusOf(message, this.deps.logger, 'no provider viewer count recorded');
    if (!record) return;
    const canonicalId = record.canonical_id;
    if (record.status !== 'live' || canonicalId === null || record.viewer_count === null || !parseCanonicalId(canonicalId)) return;
    const provider = record.sources['viewer_count']?.provider ?? 'unknown';
    const updatedMs = Date.parse(record.updated_at);
    if (!Number.isFinite(updatedMs)) return;
    const minute = minuteOf(updatedMs);
    const viewers = record.viewer_count;
    await this.deps.store.updateMinute(canonicalId, minute, (current) => foldProviderViewers(current, canonicalId, minute, provider, viewers));
  }
}
