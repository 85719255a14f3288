import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DiscardPolicy, connect, headers, type NatsConnection } from 'nats';
import { startNatsServer, type NatsServerHandle } from '../../../test/support/nats-server.js';
import { JetStreamPublishError, JetStreamPublisher, readPublishReply } from './nats-publisher.js';

const bytes = (value: string): Uint8Array => new TextEncoder().encode(value);

describe('readPublishReply', () => {
  it('reads a PubAck, duplicate or not', () => {
    assert.deepEqual(readPublishReply({ data: bytes('{"stream":"S","seq":7}'), headers: undefined }, 'a.b'), { stream: 'S', seq: 7, duplicate: false });
    assert.deepEqual(readPublishReply({ data: bytes('{"stream":"S","seq":7,"duplicate":true}'), headers: undefined }, 'a.b'), { stream: 'S', seq: 7, duplicate: true });
  });

  it('names the subject and JetStream\'s own description for an API error', () => {
    const error = readPublishReply({ data: bytes('{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}}'), headers: undefined }, 'a.b');
    assert.ok(error instanceof JetStreamPublishError);
    assert.equal(error.reason, 'api_error');
    assert.match(error.message, /a\.b.*maximum messages exceeded.*10077/);
    assert.equal(error.apiErrorCode, 10077);
  });

  it('reads the server\'s empty 503 as "no stream captures the subject"', () => {
    const noResponders = headers(503, 'No Responders');
    const error = readPublishReply({ data: new Uint8Array(), headers: noResponders }, 'nowhere.x');
    assert.ok(error instanceof JetStreamPublishError);
    assert.equal(error.reason, 'no_stream');
    assert.match(error.message, /nowhere\.x/);
  });

  for (const [name, body] of [
    ['not JSON', '<html>'],
    ['not an object', '42'],
    ['null', 'null'],
    ['without a sequence', '{"stream":"S"}'],
    ['a string sequence', '{"stream":"S","seq":"7"}'],
    ['without a stream', '{"seq":7}'],
    ['empty, without a status', ''],
  ] as const) {
    it(`refuses a reply: ${name}`, () => {
      const error = readPublishReply({ data: bytes(body), headers: undefined }, 'a.b');
      assert.ok(error instanceof JetStreamPublishError, `${body} should not read as an ack`);
      assert.equal(error.reason, 'api_error');
    });
  }
});

describe('JetStreamPublisher on a real nats-server', { timeout: 120_000 }, () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;

  before(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'PUB', subjects: ['pub.>'], duplicate_window: 60_000_000_000 });
    await jsm.streams.add({ name: 'FULL', subjects: ['full.>'], max_msgs: 1, discard: DiscardPolicy.New });
  });

  after(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('stores a burst asked for in one turn in the order it was asked, each with its own ack', async () => {
    const publisher = new JetStreamPublisher(nc, 5_000);
    try {
      const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => publisher.publish(`pub.order.${i % 3}`, bytes(`m${i}`))));
      assert.ok(acks.every((ack) => ack.stream === 'PUB' && !ack.duplicate));
      for (let i = 1; i < acks.length; i++) assert.equal(acks[i]!.seq, acks[i - 1]!.seq + 1, `ack ${i} follows ack ${i - 1}`);
      const jsm = await nc.jetstreamManager();
      const stored = await jsm.streams.getMessage('PUB', { seq: acks[150]!.seq });
      assert.equal(new TextDecoder().decode(stored.data), 'm150');
      assert.equal(stored.subject, 'pub.order.0');
    } finally {
      publisher.close();
    }
  });

  it('answers a repeated msg id as a duplicate of the first, across turns and inside one', async () => {
    const publisher = new JetStreamPublisher(nc, 5_000);
    try {
      const first = await publisher.publish('pub.dup', bytes('one'), { msgId: 'dup-1' });
      const [again, alsoAgain] = await Promise.all([publisher.publish('pub.dup', bytes('two'), { msgId: 'dup-1' }), publisher.publish('pub.dup', bytes('three'), { msgId: 'dup-1' })]);
      assert.equal(first.duplicate, false);
      assert.deepEqual(again, { stream: 'PUB', seq: first.seq, duplicate: true });
      assert.deepEqual(alsoAgain, { stream: 'PUB', seq: first.seq, duplicate: true });
    } finally {
      publisher.close();
    }
  });

  it('stores the msg id header as sent (UTF-8 too), and refuses a msg id with a line break without taking the burst with it', async () => {
    const publisher = new JetStreamPublisher(nc, 5_000);
    try {
      const [plain, broken, unicode] = await Promise.allSettled([
        publisher.publish('pub.headers', bytes('a'), { msgId: 'twitch:plain-1' }),
        publisher.publish('pub.headers', bytes('b'), { msgId: 'evil\r\nNats-Expected-Stream: other' }),
        publisher.publish('pub.headers', bytes('c'), { msgId: 'bluesky:did:plc:ünï-1' }),
      ]);
      assert.equal(broken.status, 'rejected');
      assert.ok(broken.status === 'rejected' && broken.reason instanceof JetStreamPublishError && /CR or LF/.test(String(broken.reason.message)));
      const jsm = await nc.jetstreamManager();
      for (const [result, msgId] of [[plain, 'twitch:plain-1'], [unicode, 'bluesky:did:plc:ünï-1']] as const) {
        assert.equal(result.status, 'fulfilled');
        if (result.status !== 'fulfilled') continue;
        const stored = await jsm.streams.getMessage('PUB', { seq: result.value.seq });
        assert.equal(stored.header.get('Nats-Msg-Id'), msgId);
      }
      const again = await publisher.publish('pub.headers', bytes('c again'), { msgId: 'bluesky:did:plc:ünï-1' });
      assert.equal(again.duplicate, true, 'JetStream read the UTF-8 msg id as the same one');
    } finally {
      publisher.close();
    }
  });

  it('stores a publish expecting the subject\'s last sequence only while it still is the last, refusing with JetStream\'s code', async () => {
    const publisher = new JetStreamPublisher(nc, 5_000);
    try {
      const first = await publisher.publish('pub.cas', bytes('one'));
      const second = await publisher.publish('pub.cas', bytes('two'), { expectedLastSubjectSequence: first.seq });
      assert.ok(second.seq > first.seq);
      const stale = await publisher.publish('pub.cas', bytes('stale'), { expectedLastSubjectSequence: first.seq }).then(
        () => assert.fail('a stale expected sequence must be refused'),
        (error: unknown) => error,
      );
      assert.ok(stale instanceof JetStreamPublishError && stale.reason === 'api_error');
      assert.equal(stale.apiErrorCode, 10071, 'wrong last sequence');
      const jsm = await nc.jetstreamManager();
      const last = await jsm.streams.getMessage('PUB', { last_by_subj: 'pub.cas' });
      assert.equal(new TextDecoder().decode(last.data), 'two');
    } finally {
      publisher.close();
    }
  });

  it('fails a subject no stream captures with no_stream, at once', async () => {
    const publisher = new JetStreamPublisher(nc, 5_000);
    try {
      const startedAt = performance.now();
      await assert.rejects(publisher.publish('nowhere.at.all', bytes('x')), (error: unknown) => error instanceof JetStreamPublishError && error.reason === 'no_stream');
      assert.ok(performance.now() - startedAt < 2_000, 'the 503 comes back, no timeout is waited for');
    } finally {
      publisher.close();
    }
  });

  it('passes JetStream\'s refusal on, and the publishes around it still get their acks', async () => {
    const publisher = new JetStreamPublisher(nc, 5_000);
    try {
      const [stored, refused, elsewhere] = await Promise.allSettled([
        publisher.publish('full.one', bytes('fits')),
        publisher.publish('full.two', bytes('does not')),
        publisher.publish('pub.after-full', bytes('fine')),
      ]);
      assert.equal(stored.status, 'fulfilled');
      assert.equal(refused.status, 'rejected');
      assert.ok(refused.status === 'rejected' && refused.reason instanceof JetStreamPublishError && refused.reason.reason === 'api_error');
      assert.match((refused as PromiseRejectedResult).reason.message, /maximum messages/);
      assert.equal(elsewhere.status, 'fulfilled');
    } finally {
      publisher.close();
    }
  });

  it('times out a publish nobody acks (a plain subscriber, not a stream), then keeps working', async () => {
    const silent = nc.subscribe('silent.>', { callback: () => {} });
    const publisher = new JetStreamPublisher(nc, 300);
    try {
      const startedAt = performance.now();
      const results = await Promise.allSettled([publisher.publish('silent.one', bytes('x')), publisher.publish('silent.two', bytes('y'))]);
      const waited = performance.now() - startedAt;
      assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof JetStreamPublishError && r.reason.reason === 'timeout'));
      assert.ok(waited >= 290 && waited < 3_000, `timed out after ${waited.toFixed(0)} ms`);
      const ack = await publisher.publish('pub.after-timeout', bytes('z'));
      assert.equal(ack.stream, 'PUB');
    } finally {
      silent.unsubscribe();
      publisher.close();
    }
  });

  it('close fails what is queued or awaiting an ack, and refuses what comes after', async () => {
    const silent = nc.subscribe('silent.close', { callback: () => {} });
    const publisher = new JetStreamPublisher(nc, 60_000);
    try {
      const awaiting = publisher.publish('silent.close', bytes('sent, never acked'));
      await new Promise((resolve) => setImmediate(resolve));
      const queued = publisher.publish('pub.queued', bytes('not sent yet'));
      publisher.close();
      for (const pending of [awaiting, queued, publisher.publish('pub.late', bytes('after close'))]) {
        await assert.rejects(pending, (error: unknown) => error instanceof JetStreamPublishError && error.reason === 'closed');
      }
    } finally {
      silent.unsubscribe();
    }
  });

  it('fails publishes on a closed connection instead of hanging', async () => {
    const own = await connect({ servers: server.url });
    const publisher = new JetStreamPublisher(own, 60_000);
    await own.close();
    await assert.rejects(publisher.publish('pub.closed', bytes('x')), (error: unknown) => error instanceof JetStreamPublishError && error.reason === 'closed');
    publisher.close();
  });
});
