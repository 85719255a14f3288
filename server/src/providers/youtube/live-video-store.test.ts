import assert from 'node:assert/strict';
import { afterEach, beforeEach, it } from 'node:test';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { createMemoryBus, createNatsBus, type Bus } from '../../bus/index.js';
import type { LiveVideoRecord } from './decide-observation.js';
import { LiveVideoStore } from './live-video-store.js';

const record = (videoId: string, title: string): LiveVideoRecord => ({
  video_id: videoId,
  channel_id: 'UC1234567890123456789012',
  actual_start_time: '2026-12-06T20:00:00Z',
  title,
  concurrent_viewers: null,
  checked_at_ms: 1,
});

let ids = 0;
/** A video id of YouTube's shape, fresh per test (the NATS run shares one bucket). */
const freshVideoId = () => `vid${process.pid.toString(36).slice(-3)}${(ids++).toString().padStart(5, '0')}`.slice(0, 11).padEnd(11, '0');

describeEachBus('LiveVideoStore.replace: one compare-and-set from what the caller read', (under) => {
  let bus: Bus;
  let store: LiveVideoStore;
  beforeEach(async () => {
    const url = under.natsUrl();
    bus = url ? await createNatsBus({ url, name: 'live-video-store-test' }) : createMemoryBus();
    store = await LiveVideoStore.open(bus);
  });
  afterEach(async () => {
    await bus.close();
  });

  it('creates from nothing once: a second writer that also read nothing loses', async () => {
    const videoId = freshVideoId();
    assert.equal(await store.replace(videoId, undefined, record(videoId, 'first')), true);
    assert.equal(await store.replace(videoId, undefined, record(videoId, 'second')), false);
    assert.equal((await store.get(videoId))?.record.title, 'first');
  });

  it('writes over the revision it read, not over a newer one', async () => {
    const videoId = freshVideoId();
    await store.replace(videoId, undefined, record(videoId, 'v1'));
    const read = await store.get(videoId);
    assert.equal(await store.replace(videoId, read, record(videoId, 'v2')), true);
    assert.equal(await store.replace(videoId, read, record(videoId, 'stale writer')), false);
    assert.equal((await store.get(videoId))?.record.title, 'v2');
  });

  it('deletes only the revision it read; a video already gone, or never read, is done', async () => {
    const videoId = freshVideoId();
    await store.replace(videoId, undefined, record(videoId, 'v1'));
    const stale = await store.get(videoId);
    await store.replace(videoId, stale, record(videoId, 'v2'));
    assert.equal(await store.replace(videoId, stale, null), false, 'a stale read does not delete');
    assert.equal((await store.get(videoId))?.record.title, 'v2');
    const current = await store.get(videoId);
    assert.equal(await store.replace(videoId, current, null), true);
    assert.equal(await store.get(videoId), undefined);
    assert.equal(await store.replace(videoId, current, null), true, 'already gone');
    assert.equal(await store.replace(freshVideoId(), undefined, null), true, 'nothing read, nothing to delete');
  });

  it('refuses a record that is not one before writing it', async () => {
    const videoId = freshVideoId();
    await assert.rejects(store.replace(videoId, undefined, { ...record(videoId, 'x'), checked_at_ms: 'soon' } as unknown as LiveVideoRecord));
    assert.equal(await store.get(videoId), undefined);
  });
});
