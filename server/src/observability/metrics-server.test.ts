import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { startTestServer, type TestServer } from '../../../test/support/test-server.js';

const METRICS_TOKEN = 'metrics-scrape-token-0123456789';

describeEachBus('/metrics behind a token or on its own port', (bus) => {
  let withToken: TestServer;
  let ownPort: TestServer;
  before(async () => {
    withToken = await startTestServer({ natsUrl: bus.natsUrl(), env: { METRICS_TOKEN } });
    ownPort = await startTestServer({ natsUrl: bus.natsUrl(), withChannel: false, env: { METRICS_PORT: '0', METRICS_TOKEN } });
  });
  after(async () => {
    await withToken.close();
    await ownPort.close();
  });

  it('asks for METRICS_TOKEN as a bearer (any case of the scheme) on the API port', async () => {
    const anonymous = await withToken.request('/metrics');
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('content-type') ?? '', /^application\/json/);
    assert.doesNotMatch(await anonymous.text(), /process_cpu|nodejs_version/);
    assert.equal((await withToken.request('/metrics', { headers: { Authorization: 'Bearer not-the-metrics-token-000' } })).status, 401);
    assert.equal((await withToken.request('/metrics', { admin: true })).status, 401, 'the admin token is not the metrics token');
    for (const scheme of ['Bearer', 'bearer']) {
      const scrape = await withToken.request('/metrics', { headers: { Authorization: `${scheme} ${METRICS_TOKEN}` } });
      assert.equal(scrape.status, 200);
      assert.match(await scrape.text(), /# TYPE live_upload_sse_clients gauge/);
    }
  });

  it('serves metrics on METRICS_PORT only, and nothing else there', async () => {
    const onApi = await ownPort.request('/metrics', { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(onApi.status, 404, 'not on the API port');
    await onApi.arrayBuffer();
    const metricsUrl = ownPort.running.metricsUrl;
    assert.ok(metricsUrl);
    assert.notEqual(new URL(metricsUrl).port, new URL(ownPort.url).port);
    assert.equal((await fetch(`${metricsUrl}/metrics`)).status, 401, 'the token holds there too');
    const scrape = await fetch(`${metricsUrl}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(scrape.status, 200);
    assert.equal(scrape.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await scrape.text(), /# TYPE live_upload_http_requests_total counter/);
    assert.equal((await fetch(`${metricsUrl}/api/v1/audit`)).status, 404);
    assert.equal((await fetch(`${metricsUrl}/healthz`)).status, 404);
  });
});
