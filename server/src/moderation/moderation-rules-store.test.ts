import assert from 'node:assert/strict';
import { after, afterEach, before, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { BUCKETS, createMemoryBus, createNatsBus, type Bus } from '../bus/index.js';
import { builtInModerationRules, type ModerationRules } from './moderation-rules.js';
import { ModerationRulesStore, StaleModerationRulesError } from './moderation-rules-store.js';

const BY = { actor: 'admin', atIso: '2026-12-07T01:00:00.000Z' };
const CHANNEL = 'acme/morning-show';

/** The built-in rules with the nudity bands moved: a document that is visibly not the default. */
function stricter(review: number): ModerationRules {
  const rules = builtInModerationRules('review');
  return { ...rules, nudity: { ...rules.nudity, bands: { review, block: 0.95 } } };
}

describeEachBus('the moderation rules store', (busUnderTest) => {
  /** Two connections, as two replicas have: a write through one is read through the other. */
  let busA: Bus;
  let busB: Bus;
  let replicaA: ModerationRulesStore;
  let replicaB: ModerationRulesStore;

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    busA = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    // The memory bus is one process's: both "replicas" share it, as they share the NATS server.
    busB = natsUrl ? await createNatsBus({ url: natsUrl }) : busA;
    replicaA = await ModerationRulesStore.open(busA, builtInModerationRules('auto'));
    replicaB = await ModerationRulesStore.open(busB, builtInModerationRules('auto'));
  });
  afterEach(async () => {
    const bucket = await busA.kv(BUCKETS.moderationRules);
    for (const key of await bucket.keys()) await bucket.delete(key);
  });
  after(async () => {
    if (busB !== busA) await busB.close();
    await busA.close();
  });

  it('answers the built-in rules at version 0 while nothing is stored, for the default and every channel', async () => {
    const fallback = await replicaA.defaultRules();
    assert.deepEqual(fallback, { rules: builtInModerationRules('auto'), version: 0, scope: 'default', updated_by: null, updated_at: null });
    assert.deepEqual(await replicaA.forChannel(CHANNEL), { rules: builtInModerationRules('auto'), version: 0, scope: 'default' });
    assert.equal(await replicaA.channelRules(CHANNEL), undefined);
  });

  it('versions each write by its revision; a job started on the other replica right after the write reads it', async () => {
    const created = await replicaA.write('default', stricter(0.3), 0, BY);
    assert.equal(created.previous, undefined);
    assert.ok(created.current.version > 0, 'a stored document has a version above the built-in 0');
    // No wait, no watch: the next job on replica B reads the bucket.
    const seenByB = await replicaB.forChannel(CHANNEL);
    assert.deepEqual(seenByB, { rules: stricter(0.3), version: created.current.version, scope: 'default' });

    const updated = await replicaB.write('default', stricter(0.2), created.current.version, { actor: 'moderator:abc123', atIso: BY.atIso });
    assert.ok(updated.current.version > created.current.version);
    assert.deepEqual(updated.previous?.rules, stricter(0.3));
    assert.equal((await replicaA.defaultRules()).updated_by, 'moderator:abc123');
    assert.equal((await replicaA.forChannel(CHANNEL)).version, updated.current.version);
  });

  it('refuses a write at a stale version, naming the current one, and keeps what was stored', async () => {
    const first = await replicaA.write('default', stricter(0.3), 0, BY);
    await assert.rejects(replicaB.write('default', stricter(0.1), 0, BY), (error: unknown) => {
      assert.ok(error instanceof StaleModerationRulesError);
      assert.equal(error.currentVersion, first.current.version);
      return true;
    });
    await assert.rejects(replicaB.write('default', stricter(0.1), first.current.version + 7, BY), StaleModerationRulesError);
    assert.deepEqual((await replicaA.defaultRules()).rules, stricter(0.3));
  });

  it('two admins writing from the same version at once: exactly one wins', async () => {
    const outcomes = await Promise.allSettled([replicaA.write('default', stricter(0.3), 0, BY), replicaB.write('default', stricter(0.4), 0, BY)]);
    assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
    const lost = outcomes.find((outcome) => outcome.status === 'rejected');
    assert.ok(lost?.status === 'rejected' && lost.reason instanceof StaleModerationRulesError);
  });

  it("a channel's own document replaces the default for its jobs only; deleting it falls back to the default", async () => {
    const fallback = await replicaA.write('default', stricter(0.3), 0, BY);
    const own = await replicaA.write(CHANNEL, stricter(0.1), 0, BY);
    assert.deepEqual(await replicaB.forChannel(CHANNEL), { rules: stricter(0.1), version: own.current.version, scope: CHANNEL });
    assert.deepEqual(await replicaB.forChannel('acme/other'), { rules: stricter(0.3), version: fallback.current.version, scope: 'default' });

    await assert.rejects(replicaB.removeChannelRules(CHANNEL, own.current.version - 1, BY), StaleModerationRulesError);
    const removed = await replicaB.removeChannelRules(CHANNEL, own.current.version, BY);
    assert.equal(removed?.version, own.current.version);
    assert.equal(await replicaA.removeChannelRules(CHANNEL, own.current.version, BY), undefined, 'nothing left to delete');
    assert.equal(await replicaA.channelRules(CHANNEL), undefined);
    assert.deepEqual(await replicaA.forChannel(CHANNEL), { rules: stricter(0.3), version: fallback.current.version, scope: 'default' });
    // Written again after the delete: created from version 0.
    assert.ok((await replicaA.write(CHANNEL, stricter(0.2), 0, BY)).current.version > own.current.version);
  });

  it('a removal at a version someone wrote after never removes the newer document', async () => {
    const own = await replicaA.write(CHANNEL, stricter(0.1), 0, BY);
    const newer = await replicaB.write(CHANNEL, stricter(0.2), own.current.version, BY);
    await assert.rejects(replicaA.removeChannelRules(CHANNEL, own.current.version, BY), (error: unknown) => {
      assert.ok(error instanceof StaleModerationRulesError);
      assert.equal(error.currentVersion, newer.current.version);
      return true;
    });
    assert.deepEqual((await replicaA.forChannel(CHANNEL)).rules, stricter(0.2));
    // A removal and a write from the same version at once: one of them lands, the other is stale.
    const outcomes = await Promise.allSettled([replicaA.removeChannelRules(CHANNEL, newer.current.version, BY), replicaB.write(CHANNEL, stricter(0.3), newer.current.version, BY)]);
    assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1, JSON.stringify(outcomes));
  });

  it('refuses a scope that is neither the default nor a channel, and rules the schema refuses, before the bucket', async () => {
    await assert.rejects(replicaA.write('../etc', stricter(0.3), 0, BY), RangeError);
    await assert.rejects(replicaA.write('Acme/Show', stricter(0.3), 0, BY), RangeError);
    await assert.rejects(replicaA.forChannel('acme.show'), RangeError);
    await assert.rejects(replicaA.write('default', { ...stricter(0.3), nudity: { enabled: true, bands: { review: 0.9, block: 0.5 } } }, 0, BY));
    assert.deepEqual(await (await busA.kv(BUCKETS.moderationRules)).keys(), []);
  });
});
