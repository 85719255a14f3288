import { Counter, type Registry } from 'prom-client';
import type { KvConflictCounter } from './typed-kv.js';

export const KV_CONFLICTS_METRIC = 'live_upload_kv_conflicts_total';

/**
 * The app registry's counter of compare-and-sets lost to another writer, by bucket
 * (`TypedKv.update` counts into it): made on the first ask, the same one after, so every
 * store of one app counts into one metric.
 */
export function kvConflictCounter(registry: Registry): KvConflictCounter {
  const existing = registry.getSingleMetric(KV_CONFLICTS_METRIC);
  if (existing instanceof Counter) return existing as Counter<'bucket'>;
  return new Counter({
    name: KV_CONFLICTS_METRIC,
    help: 'KV compare-and-sets lost to another writer (each retried or, past the attempts, given up), by bucket',
    labelNames: ['bucket'],
    registers: [registry],
  });
}
