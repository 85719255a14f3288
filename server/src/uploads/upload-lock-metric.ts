import { Counter, type Registry } from 'prom-client';

export const UPLOAD_LOCK_EVENTS_METRIC = 'live_upload_tus_lock_events_total';

/** What happens to tus upload locks that an operator of a fleet wants to see. */
export type UploadLockEvent =
  /** A request waited for its lock in vain and was answered 423. */
  | 'timeout'
  /** A holder asked to let go (another request, on any replica, wants the upload). */
  | 'release_requested'
  /** A lease that ran out unrenewed was taken over (its holder died or lost the bus). */
  | 'take_over'
  /** A holder could not renew for half its lease and ended its request. */
  | 'renewal_lost';

/** Counts upload lock events; a prom-client `Counter<'event'>` is one. */
export interface UploadLockEvents {
  inc(labels: { event: UploadLockEvent }): void;
}

/** The app registry's counter of upload lock events, by event: made on the first ask, the same one after. */
export function uploadLockEvents(registry: Registry): UploadLockEvents {
  const existing = registry.getSingleMetric(UPLOAD_LOCK_EVENTS_METRIC);
  if (existing instanceof Counter) return existing as Counter<'event'>;
  return new Counter({
    name: UPLOAD_LOCK_EVENTS_METRIC,
    help: 'tus upload lock events across replicas: timeout (answered 423), release_requested, take_over (a lease ran out unrenewed), renewal_lost (a holder ended its request)',
    labelNames: ['event'],
    registers: [registry],
  });
}
