import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { setTimeout as pause } from 'node:timers/promises';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { holdGet, type HeldResponse } from '../../../test/support/raw-http.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';

const PER_CLIENT = 4;
const GLOBAL = 6;
const REFUSED_ATTEMPTS = 60;
/** Other clients of a server on 127.0.0.1 (Linux routes all of 127/8 to loopback). */
const CLIENT_A = '127.0.0.1';
const CLIENT_B = '127.0.0.2';
const CLIENT_C = '127.0.0.3';

const openFds = async () => (await readdir('/proc/self/fd')).length;

describeEachBus('live-event connection caps', (bus) => {
  let server: TestServer;
  const held: HeldResponse[] = [];
  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), env: { SSE_MAX_CONNECTIONS_PER_CLIENT: String(PER_CLIENT), SSE_MAX_CONNECTIONS: String(GLOBAL) } });
  });
  after(async () => {
    for (const connection of held) connection.close();
    await server.close();
  });

  const connect = async (from: string) => {
    const response = await holdGet(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`, { localAddress: from, headers: { Origin: 'https://viewer.example' } });
    if (response.status === 200) held.push(response);
    return response;
  };
  const refusedCount = async (reason: string) => {
    const text = await (await server.request('/metrics')).text();
    return Number(new RegExp(`^live_upload_sse_refused_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 'NaN');
  };
  const assertRefused = async (response: HeldResponse, status: number, code: string) => {
    assert.equal(response.status, status, response.text());
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.ok(Number(response.headers['retry-after']) >= 1, 'Retry-After');
    assert.equal(response.headers['access-control-allow-origin'], '*', 'a page on another origin can read the refusal and its Retry-After');
    assert.equal(String(response.headers['connection']).toLowerCase(), 'close');
    await response.closed;
    assert.equal((JSON.parse(response.text()) as { error: { code: string } }).error.code, code);
  };

  it('refuses one client past its cap with a 429 and closes those sockets, while another client still connects', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    for (let i = 0; i < PER_CLIENT; i++) assert.equal((await connect(CLIENT_A)).status, 200);
    const fdsBefore = await openFds();
    for (let i = 0; i < REFUSED_ATTEMPTS; i++) await assertRefused(await connect(CLIENT_A), 429, 'too_many_connections');
    const fdsAfter = await openFds();
    assert.ok(fdsAfter - fdsBefore < 10, `file descriptors grew from ${fdsBefore} to ${fdsAfter} over ${REFUSED_ATTEMPTS} refused connections`);
    assert.equal(await refusedCount('client_cap'), REFUSED_ATTEMPTS);

    const other = await connect(CLIENT_B);
    assert.equal(other.status, 200, 'another client is not refused');
    assert.match(other.headers['content-type'] as string, /^text\/event-stream/);
  });

  it('refuses everyone past the global cap with a 503, and admits again once a connection closes', async () => {
    while (held.length < GLOBAL) assert.equal((await connect(held.length < PER_CLIENT ? CLIENT_A : CLIENT_B)).status, 200);
    await assertRefused(await connect(CLIENT_C), 503, 'over_capacity');
    assert.equal(await refusedCount('global_cap'), 1);

    const leaving = held.shift()!;
    leaving.close();
    await leaving.closed;
    // The server hears the close on its own socket a moment later: ask again until it has.
    let admitted: HeldResponse;
    for (let attempt = 0; ; attempt++) {
      admitted = await connect(CLIENT_C);
      if (admitted.status === 200 || attempt > 100) break;
      await admitted.closed;
      await pause(20);
    }
    assert.equal(admitted.status, 200);
  });
});

describe('live-event connection caps behind a trusted proxy (TRUST_PROXY_HOPS=1)', () => {
  let server: TestServer;
  const held: HeldResponse[] = [];
  before(async () => {
    server = await startTestServer({ env: { TRUST_PROXY_HOPS: '1', SSE_MAX_CONNECTIONS_PER_CLIENT: '2' } });
  });
  after(async () => {
    for (const connection of held) connection.close();
    await server.close();
  });

  /** Every connection comes from the proxy's own address; the viewer is what it appended to X-Forwarded-For. */
  const connect = async (forwardedFor: string) => {
    const response = await holdGet(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`, { headers: { 'X-Forwarded-For': forwardedFor } });
    if (response.status === 200) held.push(response);
    else await response.closed;
    return response.status;
  };

  it('counts each forwarded viewer on its own, by the address the proxy appended, never a forged prefix', async () => {
    assert.equal(await connect('198.51.100.7'), 200);
    assert.equal(await connect('10.0.0.1, 198.51.100.7'), 200);
    assert.equal(await connect('10.0.0.2, 198.51.100.7'), 429, 'a different forged prefix is still 198.51.100.7');
    assert.equal(await connect('198.51.100.8'), 200, 'another viewer behind the same proxy is not refused');
  });
});
