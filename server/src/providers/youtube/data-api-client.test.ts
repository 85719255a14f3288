import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { startFakeYouTubeDataApi, type FakeYouTubeDataApi } from '../../../../test/fakes/youtube/data-api.js';
import { createMemoryBus, type Bus } from '../../bus/index.js';
import { YouTubeDataApi } from './data-api-client.js';
import { QuotaBudget } from './quota-budget.js';
import { createYouTubeMetrics } from './youtube-metrics.js';

const API_KEY = 'data-api-test-key-0123456789';
const CHANNEL = 'UCdatadatadatadatadata01';

describe('YouTubeDataApi against the Data API fake', () => {
  let fake: FakeYouTubeDataApi;
  const buses: Bus[] = [];
  before(async () => {
    fake = await startFakeYouTubeDataApi({ apiKey: API_KEY });
    fake.addChannel(CHANNEL);
  });
  after(async () => {
    await fake.close();
    for (const bus of buses) await bus.close();
  });

  /** Each client a fleet of its own: its own bus, so budgets do not share a ledger across tests. */
  async function client(options: { key?: string; limit?: number } = {}) {
    const bus = createMemoryBus();
    buses.push(bus);
    const quota = await QuotaBudget.open(bus, { dailyLimitUnits: options.limit ?? 10_000 });
    const metrics = createYouTubeMetrics(new Registry(), quota);
    return { quota, api: new YouTubeDataApi({ baseUrl: fake.baseUrl, apiKey: options.key ?? API_KEY, quota, metrics }) };
  }

  it('reads live details from videos.list, and the uploads playlist through channels.list and playlistItems.list', async () => {
    const { api, quota } = await client();
    const live = fake.goLive(CHANNEL, { title: 'On air', viewers: 3 });
    const playlist = await api.uploadsPlaylist(CHANNEL);
    assert.ok(playlist.ok);
    assert.equal(playlist.value, `UU${CHANNEL.slice(2)}`);
    const recent = await api.recentPlaylistVideos(playlist.value!, 5);
    assert.ok(recent.ok);
    assert.deepEqual(recent.value, [live]);
    const videos = await api.listVideos([live, 'aaaaaaaaaaa']);
    assert.ok(videos.ok);
    assert.equal(videos.value.length, 1, 'an unknown id is simply absent');
    assert.equal(videos.value[0]?.liveStreamingDetails?.concurrentViewers, '3');
    assert.equal(videos.value[0]?.snippet.liveBroadcastContent, 'live');
    assert.equal(quota.snapshot(Date.now()).spentUnits, 3);
  });

  it('reports a wrong API key as an error without the key in the message, and spends no quota for it at Google', async () => {
    const { api, quota } = await client({ key: 'wrong-key' });
    const result = await api.listVideos(['aaaaaaaaaaa']);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.outcome === 'error');
    assert.ok(!result.ok && !result.message.includes('wrong-key'));
    assert.equal(quota.snapshot(Date.now()).exhausted, false);
  });

  it('marks the budget spent on 403 quotaExceeded and then makes no call at all', async () => {
    const { api, quota } = await client();
    fake.setDailyQuota(fake.quotaUsed());
    try {
      const refused = await api.listVideos(['aaaaaaaaaaa']);
      assert.ok(!refused.ok && refused.outcome === 'quota_exceeded');
      assert.equal(quota.snapshot(Date.now()).exhausted, true);
      const calls = fake.calls.length;
      const skipped = await api.listVideos(['aaaaaaaaaaa']);
      assert.ok(!skipped.ok && skipped.outcome === 'over_budget');
      assert.equal(fake.calls.length, calls);
    } finally {
      fake.setDailyQuota(10_000);
    }
  });

  it('refuses calls beyond its own daily budget before Google has to', async () => {
    const { api } = await client({ limit: 1 });
    assert.ok((await api.listVideos(['aaaaaaaaaaa'])).ok);
    const calls = fake.calls.length;
    const second = await api.listVideos(['aaaaaaaaaaa']);
    assert.ok(!second.ok && second.outcome === 'over_budget');
    assert.equal(fake.calls.length, calls);
  });
});
