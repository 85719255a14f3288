import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createEventSubSender } from '../../../test/fakes/twitch/eventsub.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { pipelineEventsHandled } from '../../../test/support/pipeline-progress.js';
import { TEST_BROADCASTER, TEST_CHANNEL, TEST_SECRET, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { SUBJECTS } from '../bus/index.js';
import { encodeRawEvent, type RawProviderEvent } from '../provider-adapter/index.js';

/** A raw Twitch event as the webhook publishes it, with `body` as given. */
function rawTwitch(messageId: string, body: string, type = 'channel.update', version = '2'): RawProviderEvent {
  const now = new Date().toISOString();
  return {
    provider: 'twitch',
    message_id: messageId,
    message_type: 'notification',
    subscription_type: type,
    subscription_version: version,
    message_timestamp: now,
    received_at: now,
    body,
  };
}

describeEachBus('live pipeline: one batch of raw events, hostile ones among them', (bus) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), coalesceMs: 0 });
  });
  after(async () => {
    await server.close();
  });

  async function outcomes(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const sample of (await server.running.metrics.pipelineEvents.get()).values) {
      const outcome = String(sample.labels['outcome']);
      counts[outcome] = (counts[outcome] ?? 0) + sample.value;
    }
    return counts;
  }

  it('settles each message on its own: poison terminated, the unreadable and unlinked ignored, the good one applied, none redelivered', async () => {
    const sender = createEventSubSender({ secret: TEST_SECRET, broadcaster: TEST_BROADCASTER });
    const good = JSON.parse(sender.channelUpdate({ title: 'Through the hostile batch' }).body) as { event: Record<string, unknown> };
    const stranger = JSON.parse(
      createEventSubSender({ secret: TEST_SECRET, broadcaster: { id: '9999', login: 'stranger', name: 'Stranger' } }).channelUpdate({ title: 'Not ours' }).body,
    ) as unknown;
    const misshapen = { ...good, event: { ...good.event, title: 42 } };
    const noBroadcaster = { ...good, event: { title: 'Whose?' } };
    const run = Date.now().toString(36);
    const batch: Array<[string, Uint8Array]> = [
      ['poison', new TextEncoder().encode('neither an envelope line nor JSON')],
      ['not-json', encodeRawEvent(rawTwitch(`not-json-${run}`, '{"event": {"broadcaster_user_id": "4242", '))],
      ['no-broadcaster', encodeRawEvent(rawTwitch(`no-broadcaster-${run}`, JSON.stringify(noBroadcaster)))],
      ['unlinked', encodeRawEvent(rawTwitch(`unlinked-${run}`, JSON.stringify(stranger)))],
      ['misshapen', encodeRawEvent(rawTwitch(`misshapen-${run}`, JSON.stringify(misshapen)))],
      ['unmapped version', encodeRawEvent(rawTwitch(`v99-${run}`, JSON.stringify(good), 'channel.update', '99'))],
      ['good', encodeRawEvent(rawTwitch(`good-${run}`, JSON.stringify(good)))],
    ];
    const handledBefore = await pipelineEventsHandled(server.running.metrics);
    const before = await outcomes();
    // Published in one turn, so the consumer takes them up as one batch.
    await Promise.all(batch.map(([name, data]) => server.running.bus.publish(SUBJECTS.liveRaw('twitch'), data, { msgId: `${name}-${run}` })));

    const deadline = Date.now() + 10_000;
    while ((await pipelineEventsHandled(server.running.metrics)) < handledBefore + batch.length) {
      assert.ok(Date.now() < deadline, 'the pipeline did not take up the batch');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Long enough for a nak'ed batch to come back (the bus's first redelivery delay is shorter).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const after = await outcomes();
    const grew = (outcome: string): number => (after[outcome] ?? 0) - (before[outcome] ?? 0);
    assert.deepEqual(
      { malformed: grew('malformed'), ignored: grew('ignored'), applied: grew('applied'), unchanged: grew('unchanged') },
      { malformed: 1, ignored: 5, applied: 1, unchanged: 0 },
      'each message counted once: nothing was redelivered',
    );
    const status = (await (await server.request(`/api/v1/channels/${TEST_CHANNEL}/status`)).json()) as { title: string };
    assert.equal(status.title, 'Through the hostile batch');
  });
});
