import assert from 'node:assert/strict';
import { it } from 'node:test';
import { holdGet } from '../../../test/support/raw-http.js';
import { eventually } from '../../../test/support/eventually.js';
import { TEST_CHANNEL, startTestServer } from '../../../test/support/test-server.js';

it('a graceful stop ends every live-event stream, whose first line told the viewer to reconnect in 3 s', async () => {
  const server = await startTestServer();
  let stopped = false;
  try {
    const streams = await Promise.all([0, 1, 2].map(() => holdGet(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`)));
    for (const stream of streams) assert.equal(stream.status, 200);
    await eventually(() => streams.every((stream) => stream.text().includes('event: snapshot')), 'every stream has its snapshot');
    const startedAt = performance.now();
    await server.close();
    stopped = true;
    await Promise.all(streams.map((stream) => stream.closed));
    assert.ok(performance.now() - startedAt < 4_000, 'the streams did not hold the stop until the drain deadline');
    for (const stream of streams) assert.match(stream.text(), /^retry: 3000\n\n/);
  } finally {
    if (!stopped) await server.close();
  }
});
