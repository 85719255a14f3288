import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from './metrics.js';

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
