import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { BUCKETS, createMemoryBus, createNatsBus, type Bus } from '../../bus/index.js';
import { decodeFingerprint } from './audio-fingerprint.js';
import { AudioReferences } from './audio-references.js';

/** Frames that differ from each other (a reference of one repeated value would never match anything). */
const frames = (count: number, seed: number): Uint32Array => Uint32Array.from({ length: count }, (_, index) => (Math.imul(index + 1, 2654435761) ^ seed) >>> 0);

describeEachBus('audio references on the bus', (busUnderTest) => {
  let busA: Bus;
  let busB: Bus;

  before(async () => {
    const url = busUnderTest.natsUrl();
    // Two connections on NATS: two replicas. The memory bus is one process, so one bus serves both.
    busA = url ? await createNatsBus({ url, name: 'audio-references-a' }) : createMemoryBus();
    busB = url ? await createNatsBus({ url, name: 'audio-references-b' }) : busA;
  });
  after(async () => {
    await busA.close();
    if (busB !== busA) await busB.close();
  });

  it('stores the fingerprint, never a file, and a reference added on one replica is matched and removed on another', async () => {
    const replicaA = await AudioReferences.open(busA);
    const replicaB = await AudioReferences.open(busB);
    const before = await replicaB.matchingSet();
    const added = await replicaA.add({ frames: frames(500, 1), title: 'Morning Theme', owner: 'Acme Records', notes: 'the 2025 master', createdBy: 'admin' });
    assert.deepEqual(decodeFingerprint(added.fingerprint), frames(500, 1));
    assert.ok(added.duration_s > 61 && added.duration_s < 65, `${added.duration_s} s for 500 sub-fingerprints`);

    const seen = await replicaB.matchingSet();
    assert.notEqual(seen, before, 'a new key set rebuilds the index');
    assert.deepEqual(seen.references.map((reference) => reference.id), [...before.references.map((reference) => reference.id), added.id]);
    assert.equal(await replicaB.matchingSet(), seen, 'an unchanged key set reuses the index');

    assert.equal(await replicaB.remove(added.id), true);
    assert.equal(await replicaB.remove(added.id), false, 'removing twice finds nothing the second time');
    assert.equal((await replicaA.matchingSet()).references.some((reference) => reference.id === added.id), false, 'gone on the replica that added it');
  });

  it('lists summaries without fingerprints, oldest first, a page at a time', async () => {
    let clockMs = Date.parse('2026-03-01T00:00:00.000Z');
    const references = await AudioReferences.open(busA, () => (clockMs += 1000));
    const existing = (await (await busA.kv(BUCKETS.audioReferences)).keys()).length;
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) ids.push((await references.add({ frames: frames(50, index), title: `Track ${index}`, owner: null, notes: null, createdBy: 'admin' })).id);

    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await references.page({ limit: 2, ...(after ? { after } : {}) });
      pages += 1;
      for (const summary of page.references) assert.equal('fingerprint' in summary, false);
      seen.push(...page.references.map((reference) => reference.id));
      after = page.next_after ?? undefined;
    } while (after);
    assert.deepEqual(seen.slice(existing), ids);
    assert.equal(pages, Math.ceil((existing + 5) / 2));
    for (const id of ids) await references.remove(id);
  });

  it('refuses bad ids and empty fingerprints without touching the bucket', async () => {
    const references = await AudioReferences.open(busA);
    for (const id of ['', '../etc', 'x'.repeat(26), '01J*', '01JABCDEFGHJKMNPQRSTVWXYZ0.']) {
      assert.equal(await references.remove(id), false);
      assert.equal(await references.get(id), undefined);
    }
    await assert.rejects(references.add({ frames: new Uint32Array(0), title: 'Nothing', owner: null, notes: null, createdBy: 'admin' }), RangeError);
  });
});
