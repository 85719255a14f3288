import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startFakeFediverse, type FakeFediverse } from '../../../test/fakes/fediverse/fediverse-server.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { eventually } from '../../../test/support/eventually.js';
import { metricSample, startFederationServer, TRUSTING_FEDERATION, type FederationServer } from './federation-test-server.js';
import { STREAMS, createMemoryBus, createNatsBus, type Bus } from '../bus/index.js';
import { FEDERATION_METRIC_NAMES } from '../observability/index.js';
import type { Federation } from './index.js';
import { enqueueDelivery } from './delivery-queue.js';

const REF = { publisher: 'acme', slug: 'news' };

/**
 * How each delivery ends, as the metrics count it: a 2xx is delivered, a 4xx rejected (not
 * retried), an inbox our SSRF rules refuse is never tried, a recipient blocked since the job was
 * made gets nothing, and only what spends its retries is a dead letter.
 */
describeEachBus('federation delivery outcomes', (busUnderTest) => {
  let bus: Bus;
  let fake: FakeFediverse;
  let ours: FederationServer;
  let federation: Federation;
  let activityNumber = 0;
  const deliver = (inbox: string, recipient = 'https://social.example/users/alice') =>
    enqueueDelivery(bus, REF, { id: `https://live.example/ap/actors/acme.news/notes/${++activityNumber}/activity`, type: 'Create' }, { actor: recipient, inbox });
  const outcome = (value: string) => metricSample(ours.registry, FEDERATION_METRIC_NAMES.deliveries, { activity: 'Create', outcome: value });
  const attempts = (value: string) => metricSample(ours.registry, FEDERATION_METRIC_NAMES.attempts, { activity: 'Create', outcome: value });

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    fake = await startFakeFediverse();
    ours = await startFederationServer(bus, { ...TRUSTING_FEDERATION, retryScheduleMs: [30, 30] });
    federation = ours.federation;
  });
  after(async () => {
    await ours.close();
    await fake.close();
    await bus.close();
  });

  it('counts a 2xx as delivered, with its attempt and its latency', async () => {
    await deliver(fake.inbox);
    await eventually(async () => (await outcome('delivered')) === 1, 'delivered');
    assert.equal(await attempts('delivered'), 1);
    assert.match(await ours.registry.metrics(), /live_upload_federation_delivery_attempt_seconds_count\{activity="Create"\} 1\n/);
  });

  it('counts a 410 as rejected at once: no retry, no dead letter', async () => {
    fake.failNext.push(410);
    const before = fake.received.length;
    await deliver(fake.inbox);
    await eventually(async () => (await outcome('rejected')) === 1, 'rejected');
    assert.equal(fake.received.length, before + 1, 'one attempt');
    assert.equal((await federation.admin.deadLetters({ limit: 200 })).dead_letters.length, 0);
  });

  it('counts an inbox in a private range as refused, never connected to', async () => {
    await deliver('http://10.0.0.1/inbox');
    await eventually(async () => (await outcome('refused')) === 1, 'refused');
    assert.equal(await attempts('refused'), 1);
    assert.equal(await attempts('failed'), 0);
  });

  it('counts a recipient blocked after the job was made as blocked, with no attempt', async () => {
    const before = fake.received.length;
    const block = await federation.admin.block({ kind: 'actor', value: 'https://blocked.example/users/eve' }, 'admin');
    try {
      await deliver(fake.inbox, 'https://blocked.example/users/eve');
      await eventually(async () => (await outcome('blocked')) === 1, 'blocked');
      assert.equal(fake.received.length, before, 'nothing sent');
    } finally {
      await federation.admin.unblock(block.id, 'admin');
    }
  });

  it('dead-letters only what spends its retries: three failed attempts, then one dead letter', async () => {
    fake.failNext.push(503, 500, 429);
    await deliver(fake.inbox);
    await eventually(async () => (await outcome('dead_lettered')) === 1, 'dead-lettered');
    assert.equal(await attempts('failed'), 3);
    const page = await federation.admin.deadLetters({ limit: 200 });
    assert.equal(page.dead_letters.length, 1);
    assert.equal(page.dead_letters[0]!.last_error, 'status 429');
    assert.equal(page.dead_letters[0]!.attempts, 3);
  });
});
