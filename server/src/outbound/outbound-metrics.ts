import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Metric names of outbound webhooks, one table. */
export const OUTBOUND_METRIC_NAMES = {
  attempts: 'live_upload_outbound_attempts_total',
  attemptSeconds: 'live_upload_outbound_attempt_seconds',
  deadLetters: 'live_upload_outbound_dead_letters_total',
  inFlight: 'live_upload_outbound_in_flight',
  fannedOut: 'live_upload_outbound_fanned_out_total',
} as const;

/** Attempt outcomes, one table. */
export const ATTEMPT_OUTCOMES = ['delivered', 'retry', 'gone', 'refused', 'busy'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

export interface OutboundMetrics {
  readonly attempts: Counter<'event' | 'outcome'>;
  readonly attemptSeconds: Histogram<'event'>;
  readonly deadLetters: Counter<'reason'>;
  readonly inFlight: Gauge;
  readonly fannedOut: Counter<'event'>;
}

/** Registers on the app's registry (one per app instance: no module-level singletons). */
export function createOutboundMetrics(registry: Registry): OutboundMetrics {
  return {
    attempts: new Counter({
      name: OUTBOUND_METRIC_NAMES.attempts,
      help: 'Outbound webhook delivery attempts by event type and outcome',
      labelNames: ['event', 'outcome'],
      registers: [registry],
    }),
    attemptSeconds: new Histogram({
      name: OUTBOUND_METRIC_NAMES.attemptSeconds,
      help: 'Duration of outbound webhook attempts that reached the receiver or timed out',
      labelNames: ['event'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: OUTBOUND_METRIC_NAMES.deadLetters,
      help: 'Outbound webhook deliveries dead-lettered, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: OUTBOUND_METRIC_NAMES.inFlight,
      help: 'Outbound webhook attempts in flight',
      registers: [registry],
    }),
    fannedOut: new Counter({
      name: OUTBOUND_METRIC_NAMES.fannedOut,
      help: 'Outbound delivery jobs created by the fan-out, by event type',
      labelNames: ['event'],
      registers: [registry],
    }),
  };
}
