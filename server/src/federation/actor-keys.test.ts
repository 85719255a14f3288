import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { createMemoryBus, createNatsBus, type Bus } from '../bus/index.js';
import { ActorKeys, FEDERATION_BUCKETS } from './federation-stores.js';

describeEachBus('channel actor keys across replicas', (busUnderTest) => {
  const buses: Bus[] = [];
  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    if (natsUrl) buses.push(await createNatsBus({ url: natsUrl }), await createNatsBus({ url: natsUrl }));
    else buses.push(createMemoryBus());
  });
  after(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
  });

  it('two replicas asking at once end up signing with the one key the KV holds (create-only write)', async () => {
    const replicas = await Promise.all([0, 1].map(async (index) => new ActorKeys(await buses[index % buses.length]!.kv(FEDERATION_BUCKETS.actorKeys))));
    const ref = { publisher: 'acme', slug: 'race' };
    const [first, second] = await Promise.all(replicas.map((keys) => keys.get(ref)));
    assert.equal(first!.public_key_pem, second!.public_key_pem);
    assert.equal(first!.private_key_pem, second!.private_key_pem);
    const key = createPublicKey(first!.public_key_pem);
    assert.equal(key.asymmetricKeyType, 'rsa');
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
    // A fresh process (no cache) reads the same key back.
    const later = new ActorKeys(await buses[0]!.kv(FEDERATION_BUCKETS.actorKeys));
    assert.equal((await later.get(ref)).public_key_pem, first!.public_key_pem);
  });
});
