import assert from 'node:assert/strict';
import { afterEach, it } from 'node:test';
import { createCanonicalId } from '@live-upload/schema';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { STREAMS, createMemoryBus, createNatsBus, decodeJson, type Bus } from '../bus/index.js';
import { enqueueVodJob } from './enqueue-vod-job.js';
import { vodJobSchema, type VodJob } from './vod-job.js';
import { VodStore, vodRecordKey } from './vod-store.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const ref = { publisher: 'acme', slug: 'news' };

function jobAt(startMs: number, channel = ref): VodJob {
  const canonical_id = createCanonicalId(channel, startMs);
  return {
    canonical_id,
    channel: `${channel.publisher}/${channel.slug}`,
    source: { kind: 'live-archive', archive_prefix: `vod-archives/${channel.publisher}/${channel.slug}/x/` },
    started_at: new Date(startMs).toISOString(),
    ended_at: new Date(startMs + 60_000).toISOString(),
    title: 'Evening news',
    requested_at: new Date(startMs + 61_000).toISOString(),
  };
}

describeEachBus('VodStore and enqueueVodJob', (under) => {
  let bus: Bus;
  const open = async () => {
    const url = under.natsUrl();
    bus = url ? await createNatsBus({ url, name: 'vod-store-test' }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    return VodStore.open(bus);
  };
  afterEach(async () => {
    await bus.close();
  });

  it('enqueue writes a queued record once and publishes one job (a repeat is a duplicate)', async () => {
    const vods = await open();
    const job = jobAt(T0);
    await enqueueVodJob(bus, job, { vods, now: () => T0 + 62_000 });
    await enqueueVodJob(bus, job, { vods, now: () => T0 + 99_000 });
    const record = await vods.get(job.canonical_id);
    assert.equal(record?.state, 'queued');
    assert.equal(record?.title, 'Evening news');
    assert.equal(record?.updated_at, new Date(T0 + 62_000).toISOString());
    const stored = await bus.readLatest(STREAMS.vodJobs.name, { limit: 10 }).catch(() => []);
    if (bus.kind === 'memory' || stored.length > 0) {
      assert.equal(stored.length, 1);
      assert.deepEqual(decodeJson(stored[0]!.data, vodJobSchema), job);
    }
  });

  it('refuses a malformed job before writing anything', async () => {
    const vods = await open();
    const job = { ...jobAt(T0, { publisher: 'bad', slug: 'job' }), canonical_id: 'stream:bad:job:nope' };
    await assert.rejects(enqueueVodJob(bus, job, { vods }));
    assert.deepEqual((await vods.list('bad/job')).vods, []);
  });

  it('lists a channel newest first, in pages, and no other channel', async () => {
    const vods = await open();
    const listed = { publisher: 'list', slug: 'news' };
    for (let i = 0; i < 5; i++) await enqueueVodJob(bus, jobAt(T0 + i * 3_600_000, listed), { vods });
    await enqueueVodJob(bus, jobAt(T0, { publisher: 'list', slug: 'news-2' }), { vods });
    const first = await vods.list('list/news', { limit: 2 });
    assert.deepEqual(first.vods.map((v) => v.started_at), [4, 3].map((i) => new Date(T0 + i * 3_600_000).toISOString()));
    assert.ok(first.next_cursor);
    const second = await vods.list('list/news', { limit: 2, cursor: first.next_cursor });
    assert.deepEqual(second.vods.map((v) => v.started_at), [2, 1].map((i) => new Date(T0 + i * 3_600_000).toISOString()));
    const third = await vods.list('list/news', { limit: 2, cursor: second.next_cursor });
    assert.equal(third.vods.length, 1);
    assert.equal(third.next_cursor, undefined);
    assert.equal((await vods.list('list/news-2')).vods.length, 1);
  });

  it('cancel moves a queued replay to cancelled and leaves an ended one', async () => {
    const vods = await open();
    const job = jobAt(T0 + 7);
    await enqueueVodJob(bus, job, { vods });
    assert.equal((await vods.cancel(job.canonical_id))?.state, 'cancelled');
    await vods.update(job.canonical_id, (current) => current && { ...current, state: 'published' });
    assert.equal((await vods.cancel(job.canonical_id))?.state, 'published');
    assert.equal(await vods.cancel('stream:nope'), undefined);
    assert.equal(vodRecordKey(job.canonical_id), `acme.news.${job.canonical_id.split(':')[3]}`);
  });
});
