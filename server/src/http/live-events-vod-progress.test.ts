import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createCanonicalId, parseChannelRef } from '@live-upload/schema';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { openSse } from '../../../test/support/sse-client.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { SUBJECTS, encodeJson } from '../bus/index.js';

/** The channel's live events carry its replays' transcode progress as the VOD worker publishes it (issue 21). */
describeEachBus('GET /api/v1/live/events: vod-progress', (bus) => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), env: { WORKERS: 'moderation' } });
    const other = await server.request('/api/v1/channels/acme/other', {
      method: 'PUT',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Other', providers: {} }),
    });
    assert.equal(other.status, 201);
  });
  after(() => server.close());

  const publishProgress = async (channel: string, body: unknown) => {
    await server.running.bus.publish(SUBJECTS.vodProgress(parseChannelRef(channel)!), encodeJson(body));
  };

  it('relays the channel\'s progress without an event id, and only to connections following that channel', async () => {
    const mine = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
    const theirs = await openSse(`${server.url}/api/v1/live/events?channel=acme/other`);
    try {
      await mine.next((event) => event.event === 'snapshot');
      await theirs.next((event) => event.event === 'snapshot');
      const canonicalId = createCanonicalId(parseChannelRef(TEST_CHANNEL)!, Date.UTC(2026, 0, 1));
      const progress = { canonical_id: canonicalId, state: 'transcoding', percent: 37.5, speed: 4.2, at: '2026-01-01T01:00:00.000Z' };
      await publishProgress(TEST_CHANNEL, { ...progress, percent: -3 });
      await publishProgress(TEST_CHANNEL, progress);
      const event = await mine.next((candidate) => candidate.event === 'vod-progress');
      assert.deepEqual(JSON.parse(event.data), progress);
      assert.equal(event.id, undefined, 'progress is not replayed and does not move the status cursor');
      assert.equal(mine.events.filter((candidate) => candidate.event === 'vod-progress').length, 1, 'the out-of-range one was dropped');

      const done = { canonical_id: canonicalId, state: 'published', percent: 100, at: '2026-01-01T01:05:00.000Z' };
      await publishProgress(TEST_CHANNEL, done);
      const published = await mine.next((candidate) => candidate.event === 'vod-progress' && JSON.parse(candidate.data).state === 'published');
      assert.deepEqual(JSON.parse(published.data), done);

      // Published after the others, in order: once the other connection has its own channel's
      // event, it has had every earlier frame that was ever going to reach it.
      const theirsId = createCanonicalId({ publisher: 'acme', slug: 'other' }, Date.UTC(2026, 0, 2));
      await publishProgress('acme/other', { canonical_id: theirsId, state: 'queued', at: '2026-01-02T00:00:00.000Z' });
      await theirs.next((candidate) => candidate.event === 'vod-progress');
      assert.deepEqual(
        theirs.events.filter((candidate) => candidate.event === 'vod-progress').map((candidate) => JSON.parse(candidate.data).canonical_id),
        [theirsId],
        'never another channel\'s progress',
      );
    } finally {
      mine.close();
      theirs.close();
    }
  });
});
