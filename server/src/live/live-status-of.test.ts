import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, it } from 'node:test';
import { createCanonicalId } from '@live-upload/schema';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { eventually } from '../../../test/support/eventually.js';
import { STREAMS, SUBJECTS, createMemoryBus, createNatsBus, encodeJson, type Bus, type BusMessage } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { initialChannelState } from '../pipeline/index.js';
import { liveStatusOf } from './live-status-of.js';

/** Real LIVE_STATUS messages through a real consumer: records come out decoded, anything else is terminated with one log line. */
describeEachBus('liveStatusOf', (busUnderTest) => {
  let bus: Bus;
  before(async () => {
    const url = busUnderTest.natsUrl();
    bus = url ? await createNatsBus({ url, name: 'live-status-of-test' }) : createMemoryBus();
    await bus.ensureStreams([STREAMS.liveStatus]);
  });
  after(async () => {
    await bus.close();
  });

  it('decodes a record, and terms and logs once what is not JSON or not a record', async () => {
    const lines: Array<{ msg: string; seq: number; subject: string }> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number]);
        done();
      },
    });
    const logger = createLogger({ level: 'warn', destination });
    const ref = { publisher: 'acme', slug: 'decode-show' };
    const record = { ...initialChannelState('acme/decode-show', Date.UTC(2026, 0, 1)).record, canonical_id: createCanonicalId(ref, Date.UTC(2026, 0, 1)), seq: 3 };

    const decoded: Array<{ seq: number; canonicalId: string | null }> = [];
    const termed: number[] = [];
    const consumer = await bus.consume({ stream: STREAMS.liveStatus.name, durable: 'live-status-of-test' }, (message: BusMessage) => {
      // The real message, its term() also noted: the helper must end the undecodable ones for good.
      const watched: BusMessage = Object.create(message, { term: { value: () => (termed.push(message.seq), message.term()) } }) as BusMessage;
      const found = liveStatusOf(watched, logger, 'nothing done with it');
      if (found) decoded.push({ seq: message.seq, canonicalId: found.canonical_id });
    });
    try {
      const notJson = await bus.publish(SUBJECTS.liveStatus(ref), new TextEncoder().encode('{"status":'));
      const notRecord = await bus.publish(SUBJECTS.liveStatus(ref), encodeJson({ ...record, status: 'sleeping' }));
      const good = await bus.publish(SUBJECTS.liveStatus(ref), encodeJson(record));
      await eventually(() => decoded.length === 1 && termed.length === 2, 'the record decoded and the two others terminated');
      assert.deepEqual(decoded, [{ seq: good.seq, canonicalId: record.canonical_id }]);
      assert.deepEqual(termed.sort((a, b) => a - b), [notJson.seq, notRecord.seq]);
      await eventually(() => lines.length >= 2, 'the two log lines');
      assert.deepEqual(
        lines.map((line) => [line.seq, line.subject, line.msg]),
        [
          [notJson.seq, SUBJECTS.liveStatus(ref), 'malformed live status terminated; nothing done with it'],
          [notRecord.seq, SUBJECTS.liveStatus(ref), 'malformed live status terminated; nothing done with it'],
        ],
      );
    } finally {
      await consumer.stop();
    }
  });
});
