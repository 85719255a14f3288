import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { withTimeout } from '../../support/with-timeout.js';
import { startFakeJetstream, type FakeJetstream } from './jetstream.js';

const ALICE = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
const BOB = 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb';

/** A raw Jetstream subscriber: the frames it got, and a way to wait for the n-th. */
async function subscribe(jetstream: FakeJetstream, query: string) {
  const frames: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  const socket = new WebSocket(`${jetstream.url}/subscribe?${query}`);
  socket.on('message', (data: unknown) => {
    frames.push(JSON.parse(String(data)) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  await once(socket, 'open');
  return {
    socket,
    frames,
    async waitFor(count: number) {
      await withTimeout(
        (async () => {
          while (frames.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
        })(),
        5_000,
        () => `${count} frames (got ${frames.length})`,
      );
    },
  };
}

describe('fake Jetstream', () => {
  let jetstream: FakeJetstream;
  before(async () => {
    jetstream = await startFakeJetstream();
  });
  after(async () => {
    await jetstream.close();
  });

  it('filters by wantedDids and wantedCollections (prefixes too); identity events by DID only', async () => {
    const subscriber = await subscribe(jetstream, `wantedDids=${ALICE}&wantedCollections=app.bsky.actor.status&wantedCollections=app.bsky.graph.*`);
    jetstream.emitCommit(BOB, { operation: 'create', collection: 'app.bsky.actor.status', rkey: 'self', record: {} });
    jetstream.emitCommit(ALICE, { operation: 'create', collection: 'app.bsky.feed.like', rkey: '1', record: {} });
    jetstream.emitCommit(ALICE, { operation: 'create', collection: 'app.bsky.graph.follow', rkey: '2', record: {} });
    jetstream.emitIdentity(ALICE, 'alice.test');
    jetstream.emitCommit(ALICE, { operation: 'delete', collection: 'app.bsky.actor.status', rkey: 'self' });
    await subscriber.waitFor(3);
    assert.deepEqual(
      subscriber.frames.map((frame) => [frame['kind'], (frame['commit'] as { collection?: string } | undefined)?.collection]),
      [['commit', 'app.bsky.graph.follow'], ['identity', undefined], ['commit', 'app.bsky.actor.status']],
    );
    subscriber.socket.close();
  });

  it('replays from a cursor (time_us, inclusive) and applies options_update', async () => {
    const first = jetstream.emitCommit(ALICE, { operation: 'create', collection: 'app.bsky.feed.post', rkey: 'p1', record: { text: 'one' } });
    jetstream.emitCommit(BOB, { operation: 'create', collection: 'app.bsky.feed.post', rkey: 'p2', record: { text: 'two' } });
    const subscriber = await subscribe(jetstream, `wantedDids=${ALICE}&wantedCollections=app.bsky.feed.post&cursor=${first.time_us}`);
    await subscriber.waitFor(1);
    assert.equal((subscriber.frames[0]?.['commit'] as { rkey: string }).rkey, 'p1');
    const updated = jetstream.nextOptionsUpdate();
    subscriber.socket.send(JSON.stringify({ type: 'options_update', payload: { wantedCollections: ['app.bsky.feed.post'], wantedDids: [BOB] } }));
    await updated;
    jetstream.emitCommit(ALICE, { operation: 'create', collection: 'app.bsky.feed.post', rkey: 'p3', record: {} });
    jetstream.emitCommit(BOB, { operation: 'create', collection: 'app.bsky.feed.post', rkey: 'p4', record: {} });
    await subscriber.waitFor(2);
    assert.equal((subscriber.frames[1]?.['commit'] as { rkey: string }).rkey, 'p4');
    subscriber.socket.close();
  });

  it('refuses connections while told to, and rejects a bad filter', async () => {
    jetstream.refuseConnections();
    const refused = new WebSocket(`${jetstream.url}/subscribe`);
    const [error] = (await once(refused, 'error')) as [Error];
    assert.match(error.message, /503/);
    jetstream.acceptConnections();
    const bad = new WebSocket(`${jetstream.url}/subscribe?wantedDids=not-a-did`);
    const [badError] = (await once(bad, 'error')) as [Error];
    assert.match(badError.message, /400/);
    assert.equal(jetstream.refusedCount(), 1);
  });
});
