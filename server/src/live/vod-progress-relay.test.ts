import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createCanonicalId } from '@live-upload/schema';
import { eventually } from '../../../test/support/eventually.js';
import { STREAMS, SUBJECTS, createMemoryBus, encodeJson } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { VodProgressRelay } from './vod-progress-relay.js';

const frameData = (frame: Buffer) => {
  const text = frame.toString('utf8');
  assert.match(text, /^event: vod-progress\ndata: [^\n]+\n\n$/, 'one event, no id');
  return JSON.parse(text.slice(text.indexOf('data: ') + 6)) as Record<string, unknown>;
};

it('relays a channel\'s progress to its followers only, checked, once encoded, and forgets a channel nobody follows', async () => {
  const bus = createMemoryBus();
  await bus.ensureStreams([STREAMS.vodProgress]);
  const relay = new VodProgressRelay(bus, createLogger({ level: 'silent' }));
  relay.start();
  try {
    const ref = { publisher: 'acme', slug: 'show' };
    const canonicalId = createCanonicalId(ref, Date.UTC(2026, 0, 1));
    const mine: Buffer[] = [];
    const alsoMine: Buffer[] = [];
    const others: Buffer[] = [];
    const stopMine = relay.listen('acme/show', (frame) => mine.push(frame));
    const stopAlso = relay.listen('acme/show', (frame) => alsoMine.push(frame));
    const stopOthers = relay.listen('acme/other', (frame) => others.push(frame));
    assert.equal(relay.followedChannels, 2);

    const at = '2026-01-01T01:00:00.000Z';
    // Malformed, an extra field, and one under another channel's subject: none but the valid one shown as sent.
    await bus.publish(SUBJECTS.vodProgress(ref), new TextEncoder().encode('{not json'));
    await bus.publish(SUBJECTS.vodProgress(ref), encodeJson({ canonical_id: canonicalId, state: 'transcoding', percent: 140, at }));
    await bus.publish(SUBJECTS.vodProgress({ publisher: 'acme', slug: 'other' }), encodeJson({ canonical_id: canonicalId, state: 'transcoding', percent: 10, at }));
    await bus.publish(SUBJECTS.vodProgress(ref), encodeJson({ canonical_id: canonicalId, state: 'transcoding', percent: 42.5, speed: 3.1, at, worker: 'w-1' }));
    await eventually(() => mine.length >= 1, 'the first progress frame');
    assert.equal(mine.length, 1, 'the malformed, out-of-range and misplaced ones were dropped');
    assert.deepEqual(frameData(mine[0]!), { canonical_id: canonicalId, state: 'transcoding', percent: 42.5, speed: 3.1, at });
    assert.equal(alsoMine[0], mine[0], 'one Buffer for every follower');
    await bus.publish(SUBJECTS.vodProgress(ref), encodeJson({ canonical_id: canonicalId, state: 'published', at }));
    await eventually(() => mine.length >= 2, 'the second progress frame');
    assert.deepEqual(frameData(mine[1]!), { canonical_id: canonicalId, state: 'published', at });
    assert.equal(others.length, 0, 'never shown on a channel it is not of');

    stopMine();
    stopAlso();
    stopOthers();
    assert.equal(relay.followedChannels, 0);
  } finally {
    relay.stop();
    await bus.close();
  }
});
