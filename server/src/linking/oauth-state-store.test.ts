import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { createMemoryBus, createNatsBus, type Bus } from '../bus/index.js';
import { OAUTH_STATE_TTL_MS, OAuthStateStore } from './oauth-state-store.js';

describeEachBus('OAuth state store', (under) => {
  let bus: Bus;
  let states: OAuthStateStore;
  let offsetMs = 0;
  const pending = { channel: 'acme/show', provider: 'twitch', code_verifier: 'v'.repeat(43), return_to: null } as const;

  before(async () => {
    const natsUrl = under.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl, name: 'oauth-state-test' }) : createMemoryBus();
    states = await OAuthStateStore.open(bus, () => Date.now() + offsetMs);
  });
  after(() => bus.close());

  it('gives a state back once, bound to what it was created for', async () => {
    const state = await states.create(pending);
    assert.match(state, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(await states.create(pending), state, 'random per authorization');
    assert.deepEqual({ ...(await states.consume(state, 'twitch')), created_at_ms: 0 }, { ...pending, created_at_ms: 0, consumed: true });
    assert.equal(await states.consume(state, 'twitch'), undefined, 'a replay finds nothing');
  });

  it('lets only one of two racing callbacks consume a state', async () => {
    const state = await states.create(pending);
    const results = await Promise.all([states.consume(state, 'twitch'), states.consume(state, 'twitch'), states.consume(state, 'twitch')]);
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('refuses an expired state, a state of another provider and malformed ones', async () => {
    const expired = await states.create(pending);
    offsetMs = OAUTH_STATE_TTL_MS + 1;
    try {
      assert.equal(await states.consume(expired, 'twitch'), undefined);
    } finally {
      offsetMs = 0;
    }
    const crossed = await states.create(pending);
    assert.equal(await states.consume(crossed, 'youtube'), undefined);
    assert.equal(await states.consume(crossed, 'twitch'), undefined, 'a refused use spends it');
    for (const bad of ['', '*', '>', 'a.b', '../x', 'x'.repeat(44), 'A'.repeat(43)]) assert.equal(await states.consume(bad, 'twitch'), undefined, bad);
  });
});
