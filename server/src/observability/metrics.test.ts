import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { METRIC_NAMES, createMetrics } from './metrics.js';

describe('summed counters', () => {
  it('show every increment made before a read, once, added to the counter\'s direct increments', async () => {
    const metrics = createMetrics();
    const accepted = metrics.summed.webhookResults.child({ provider: 'twitch', outcome: 'accepted' });
    const again = metrics.summed.webhookResults.child({ provider: 'twitch', outcome: 'accepted' });
    for (let i = 0; i < 1000; i++) accepted.inc();
    again.inc();
    metrics.webhookResults.inc({ provider: 'twitch', outcome: 'accepted' }, 5);
    metrics.summed.webhookResults.child({ provider: 'twitch', outcome: 'duplicate' }).inc();

    const text = await metrics.registry.metrics();
    assert.match(text, /live_upload_webhook_results_total\{provider="twitch",outcome="accepted"\} 1006\n/);
    assert.match(text, /live_upload_webhook_results_total\{provider="twitch",outcome="duplicate"\} 1\n/);
    assert.match(await metrics.registry.metrics(), /outcome="accepted"\} 1006\n/, 'a second read counts nothing twice');

    accepted.inc();
    const { values } = await metrics.webhookResults.get();
    assert.equal(values.find((sample) => sample.labels['outcome'] === 'accepted')?.value, 1007, 'get() flushes too');
  });

  it('keeps each counter\'s children to itself', async () => {
    const metrics = createMetrics();
    metrics.summed.pipelineEvents.child({ provider: 'twitch', outcome: 'applied' }).inc();
    metrics.summed.httpRequests.child({ method: 'POST', route: '/webhooks/twitch', status: '204' }).inc();
    const text = await metrics.registry.metrics();
    assert.match(text, /live_upload_pipeline_events_total\{provider="twitch",outcome="applied"\} 1\n/);
    assert.match(text, /live_upload_http_requests_total\{method="POST",route="\/webhooks\/twitch",status="204"\} 1\n/);
    assert.doesNotMatch(text, /live_upload_webhook_results_total\{/);
  });
});

describe('summed histograms', () => {
  const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  /** Observations on both sides of, and exactly on, bucket bounds, past the last one, and zero. */
  const OBSERVED = [0, 0.0001, 0.0005, 0.0007, 0.001, 0.003, 0.004, 0.02, 0.05, 0.3, 0.99, 2.5, 7, 0.0004, 0.0004];

  it('expose what prom-client\'s histogram exposes for the same observations: text and samples', async () => {
    const ours = createMetrics();
    const theirs = new Registry();
    const reference = new Histogram({
      name: METRIC_NAMES.publishLatency,
      help: 'Time from publish to the bus acknowledging it',
      labelNames: ['stream'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const raw = ours.publishLatency.child({ stream: 'LIVE_RAW' });
    for (const value of OBSERVED) {
      raw.observe(value);
      reference.observe({ stream: 'LIVE_RAW' }, value);
    }
    ours.publishLatency.observe({ stream: 'LIVE_STATUS' }, 0.002);
    reference.observe({ stream: 'LIVE_STATUS' }, 0.002);

    const ourText = await ours.registry.getSingleMetricAsString(METRIC_NAMES.publishLatency);
    assert.equal(ourText, await theirs.getSingleMetricAsString(METRIC_NAMES.publishLatency));
    assert.match(ourText, /live_upload_bus_publish_seconds_bucket\{le="0.0005",stream="LIVE_RAW"\} 5\n/);
    assert.deepEqual(JSON.parse(JSON.stringify(await ours.publishLatency.get())), JSON.parse(JSON.stringify(await reference.get())));
    assert.match(await ours.registry.metrics(), /live_upload_bus_publish_seconds_count\{stream="LIVE_RAW"\} 15\n/);
  });

  it('show nothing for a label set not yet observed, forget on reset, and refuse a label they do not have', async () => {
    const metrics = createMetrics();
    const child = metrics.publishLatency.child({ stream: 'LIVE_RAW' });
    assert.equal((await metrics.publishLatency.get()).values.length, 0);
    const stop = metrics.publishLatency.startTimer({ stream: 'LIVE_STATUS' });
    stop();
    child.observe(0.01);
    assert.equal((await metrics.publishLatency.get()).values.filter((sample) => sample.metricName.endsWith('_count')).length, 2);
    metrics.registry.resetMetrics();
    assert.equal((await metrics.publishLatency.get()).values.length, 0);
    child.observe(0.01);
    assert.match(await metrics.registry.metrics(), /live_upload_bus_publish_seconds_count\{stream="LIVE_RAW"\} 1\n/);
    assert.throws(() => metrics.publishLatency.child({ route: '/x' } as never), /label "route"/);
  });
});
