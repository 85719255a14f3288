import { Counter, Gauge, Registry, collectDefaultMetrics, type CounterConfiguration, type Histogram } from 'prom-client';

/** Metric names, one table. */
export const METRIC_NAMES = {
  webhookResults: 'live_upload_webhook_results_total',
  publishLatency: 'live_upload_bus_publish_seconds',
  sseClients: 'live_upload_sse_clients',
  sseRefused: 'live_upload_sse_refused_total',
  statusEmits: 'live_upload_status_emits_total',
  httpRequests: 'live_upload_http_requests_total',
  pipelineEvents: 'live_upload_pipeline_events_total',
} as const;

/** Why a live-events connection was refused: one client's cap, or the whole process's. */
export const SSE_REFUSALS = ['client_cap', 'global_cap'] as const;
export type SseRefusal = (typeof SSE_REFUSALS)[number];

/** Webhook outcomes, one table. */
export const WEBHOOK_OUTCOMES = [
  'accepted',
  'duplicate',
  'verification',
  'revocation',
  'ignored',
  'signature_invalid',
  'timestamp_stale',
  'invalid',
  'too_large',
  'bus_unavailable',
] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/**
 * What the pipeline did with a raw provider event: `applied` changed the channel's state;
 * `unchanged` met it and changed nothing (older than what the channel has, a replay of an id
 * in its seen set, or the same values again); `ignored` concerns no linked channel or a type we
 * do not map; `malformed` could not be read and was dropped.
 */
export const PIPELINE_OUTCOMES = ['applied', 'unchanged', 'ignored', 'malformed'] as const;
export type PipelineOutcome = (typeof PIPELINE_OUTCOMES)[number];

/** One label set of a counter, incremented on a hot path. */
export interface CounterChild {
  inc(): void;
}

/**
 * Hot-path children of a prom-client counter whose increments are summed in plain numbers and
 * handed to the counter when the registry is read (`/metrics`, `get()`): prom-client hashes
 * the label set into a string on every `inc()`, bound children included, and a webhook counted
 * three of them. Reads see every increment made before them.
 */
export class SummedCounter<Label extends string> {
  private readonly children = new Map<string, { readonly labels: Partial<Record<Label, string>>; count: number }>();
  private counter: Counter<Label> | undefined;

  /** The counter these children belong to, made here so that its `collect` calls `flush`. */
  createCounter(configuration: Omit<CounterConfiguration<Label>, 'collect'>): Counter<Label> {
    this.counter = new Counter({ ...configuration, collect: () => this.flush() });
    return this.counter;
  }

  /** The child for `labels`, made once per label set. */
  child(labels: Partial<Record<Label, string>>): CounterChild {
    const key = JSON.stringify(labels);
    let child = this.children.get(key);
    if (!child) this.children.set(key, (child = { labels, count: 0 }));
    const entry = child;
    return {
      inc() {
        entry.count++;
      },
    };
  }

  flush(): void {
    if (!this.counter) return;
    for (const child of this.children.values()) {
      if (child.count === 0) continue;
      this.counter.inc(child.labels, child.count);
      child.count = 0;
    }
  }
}

/** One label set of a histogram, observed on a hot path. */
export interface HistogramChild {
  observe(value: number): void;
}

/** What one label set of a `SummedHistogram` has been told. */
interface HistogramSeries {
  readonly labels: Readonly<Record<string, string | number>>;
  /** Observations per bucket (not cumulative), the last one past every bound (`+Inf`). */
  readonly perBucket: number[];
  sum: number;
  count: number;
}

/**
 * A histogram kept in plain numbers, registered in a prom-client registry in place of
 * prom-client's `Histogram` and exposed exactly as one (same samples, same text): prom-client
 * hashes the label set into a string on every `observe`, bound children included, and a
 * webhook observed one (its raw event's publish, bench/README.md ingest). A child made once
 * per label set (`child`) observes with a bucket search and three additions.
 */
export class SummedHistogram<Label extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly labelNames: ReadonlySet<string>;
  private readonly upperBounds: readonly number[];
  private readonly series = new Map<string, HistogramSeries>();

  constructor(configuration: {
    readonly name: string;
    readonly help: string;
    readonly labelNames: readonly Label[];
    /** Upper bounds, ascending (`+Inf` is added, as prom-client does). */
    readonly buckets: readonly number[];
    readonly registers: readonly Registry[];
  }) {
    const { name, help, labelNames, buckets } = configuration;
    if (buckets.some((bound, index) => index > 0 && bound <= buckets[index - 1]!)) throw new RangeError(`${name}: buckets must ascend`);
    this.name = name;
    this.help = help;
    this.labelNames = new Set(labelNames);
    this.upperBounds = [...buckets];
    // The registry reads a metric through `name`, `help`, `type`, `aggregator`, `get()` and
    // `reset()`, which this has; its type names only prom-client's own classes.
    for (const registry of configuration.registers) registry.registerMetric(this as unknown as Histogram<Label>);
  }

  /** The child for `labels`, made once per label set. */
  child(labels: Partial<Record<Label, string | number>>): HistogramChild {
    for (const label in labels) if (!this.labelNames.has(label)) throw new Error(`${this.name}: label "${label}" is not one of its label names`);
    const key = JSON.stringify(labels);
    let entry = this.series.get(key);
    if (!entry) this.series.set(key, (entry = { labels: { ...labels } as Record<string, string | number>, perBucket: new Array<number>(this.upperBounds.length + 1).fill(0), sum: 0, count: 0 }));
    const series = entry;
    const bounds = this.upperBounds;
    return {
      observe(value: number): void {
        let bucket = 0;
        while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
        series.perBucket[bucket]! += 1;
        series.sum += value;
        series.count += 1;
      },
    };
  }

  /** One observation for `labels` (looks the child up: for paths that are not hot). */
  observe(labels: Partial<Record<Label, string | number>>, value: number): void {
    this.child(labels).observe(value);
  }

  /** Observes the seconds from now until the returned function is called. */
  startTimer(labels: Partial<Record<Label, string | number>>): () => void {
    const startedAt = performance.now();
    const child = this.child(labels);
    return () => child.observe((performance.now() - startedAt) / 1000);
  }

  /** The samples prom-client's `Histogram.get()` gives for the same observations. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Array<{ value: number; metricName: string; exemplar?: null; labels: Record<string, string | number> }> }> {
    const values: Array<{ value: number; metricName: string; exemplar?: null; labels: Record<string, string | number> }> = [];
    const bucketName = `${this.name}_bucket`;
    for (const { labels, perBucket, sum, count } of this.series.values()) {
      // prom-client keeps a label set from its first observation until a reset.
      if (count === 0) continue;
      let cumulative = 0;
      this.upperBounds.forEach((bound, index) => {
        cumulative += perBucket[index]!;
        values.push({ value: cumulative, metricName: bucketName, exemplar: null, labels: { le: bound, ...labels } });
      });
      values.push({ value: count, metricName: bucketName, exemplar: null, labels: { le: '+Inf', ...labels } });
      values.push({ value: sum, metricName: `${this.name}_sum`, labels: { ...labels } });
      values.push({ value: count, metricName: `${this.name}_count`, labels: { ...labels } });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Forgets every observation (children stay usable), as prom-client's `reset` does. */
  reset(): void {
    for (const series of this.series.values()) {
      series.perBucket.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}

export interface Metrics {
  readonly registry: Registry;
  readonly webhookResults: Counter<'provider' | 'outcome'>;
  readonly publishLatency: SummedHistogram<'stream'>;
  readonly sseClients: Gauge;
  readonly sseRefused: Counter<'reason'>;
  readonly statusEmits: Counter<'transition'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly pipelineEvents: Counter<'provider' | 'outcome'>;
  /** The same counters, for hot paths: see `SummedCounter`. */
  readonly summed: {
    readonly webhookResults: SummedCounter<'provider' | 'outcome'>;
    readonly httpRequests: SummedCounter<'method' | 'route' | 'status'>;
    readonly pipelineEvents: SummedCounter<'provider' | 'outcome'>;
  };
}

/** A registry per app instance: no module-level singletons, so tests can build many apps. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const summed = {
    webhookResults: new SummedCounter<'provider' | 'outcome'>(),
    httpRequests: new SummedCounter<'method' | 'route' | 'status'>(),
    pipelineEvents: new SummedCounter<'provider' | 'outcome'>(),
  };
  return {
    registry,
    summed,
    webhookResults: summed.webhookResults.createCounter({
      name: METRIC_NAMES.webhookResults,
      help: 'Provider webhook deliveries by outcome',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    }),
    publishLatency: new SummedHistogram({
      name: METRIC_NAMES.publishLatency,
      help: 'Time from publish to the bus acknowledging it',
      labelNames: ['stream'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    sseClients: new Gauge({
      name: METRIC_NAMES.sseClients,
      help: 'Connected Server-Sent Events clients',
      registers: [registry],
    }),
    sseRefused: new Counter({
      name: METRIC_NAMES.sseRefused,
      help: 'Server-Sent Events connections refused, by the cap that refused them (client_cap: 429, global_cap: 503)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    statusEmits: new Counter({
      name: METRIC_NAMES.statusEmits,
      help: 'Canonical status changes emitted',
      labelNames: ['transition'],
      registers: [registry],
    }),
    httpRequests: summed.httpRequests.createCounter({
      name: METRIC_NAMES.httpRequests,
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    pipelineEvents: summed.pipelineEvents.createCounter({
      name: METRIC_NAMES.pipelineEvents,
      help: 'Raw provider events the pipeline handled, by outcome',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    }),
  };
}
