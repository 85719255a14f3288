import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';

/** Status requests a client gets in a minute before its 429 (`STATUS_RATE_LIMIT_PER_MINUTE`). */
const LIMIT = 3;

/** Status requests `forwardedFor` sends until refused (at most LIMIT + 2): LIMIT when its budget is its own. */
async function acceptedBeforeLimit(server: TestServer, forwardedFor?: string): Promise<number> {
  let accepted = 0;
  for (let attempt = 0; attempt < LIMIT + 2; attempt++) {
    const response = await server.request(`/api/v1/channels/${TEST_CHANNEL}/status`, {
      headers: forwardedFor === undefined ? {} : { 'X-Forwarded-For': forwardedFor },
    });
    await response.arrayBuffer();
    if (response.status === 429) return accepted;
    assert.equal(response.status, 200);
    accepted++;
  }
  return accepted;
}

describe('TRUST_PROXY_HOPS: who a client is behind a reverse proxy', () => {
  describe('behind one trusted proxy (TRUST_PROXY_HOPS=1, compose\'s nginx)', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ env: { TRUST_PROXY_HOPS: '1', STATUS_RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
    });
    after(() => server.close());

    it('each address the proxy forwards has its own per-client budget', async () => {
      assert.equal(await acceptedBeforeLimit(server, '198.51.100.7'), LIMIT);
      assert.equal(await acceptedBeforeLimit(server, '198.51.100.8'), LIMIT, 'another viewer is not limited by the first');
    });

    it('only the address the proxy appended counts: a client cannot forge its way to a fresh budget', async () => {
      // The proxy appends what it saw (203.0.113.9) to whatever the client sent.
      assert.equal(await acceptedBeforeLimit(server, '10.0.0.1, 203.0.113.9'), LIMIT);
      assert.equal(await acceptedBeforeLimit(server, '10.0.0.2, 203.0.113.9'), 0, 'a different forged prefix is still 203.0.113.9');
    });
  });

  describe('with no trusted proxy (the default)', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ env: { STATUS_RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
    });
    after(() => server.close());

    it('X-Forwarded-For is ignored: the socket address is the client', async () => {
      assert.equal(await acceptedBeforeLimit(server, '198.51.100.7'), LIMIT);
      assert.equal(await acceptedBeforeLimit(server, '198.51.100.8'), 0, 'a forged header does not buy a new budget');
    });
  });
});
