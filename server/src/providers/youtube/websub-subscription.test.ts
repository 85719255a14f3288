import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLeaseFresh, leaseExpiresAtMs, leaseRenewAtMs, subscribeRetryDelayMs } from './lease-schedule.js';
import { answerWebSubVerification, type WebSubSubscription } from './websub-subscription.js';
import { youTubeFeedTopic } from './youtube-ids.js';

const CHANNEL = 'UCuAXFkgsw1L7xaCfnd5JJOw';
const TOPIC = youTubeFeedTopic(CHANNEL);
const NOW = Date.UTC(2026, 2, 1, 12, 0);
const DAY = 24 * 60 * 60 * 1000;

function record(overrides: Partial<WebSubSubscription> = {}): WebSubSubscription {
  return {
    channel_id: CHANNEL,
    topic: TOPIC,
    secret: 'a-secret-of-sixteen-or-more',
    pending: { mode: 'subscribe', requested_at_ms: NOW - 1000, lease_seconds: 432_000 },
    lease: null,
    denied_reason: null,
    failures: 0,
    next_attempt_at_ms: NOW + 600_000,
    ...overrides,
  };
}

const query = (overrides: Record<string, unknown> = {}) => ({
  mode: 'subscribe',
  topic: TOPIC,
  challenge: '1234567890abcdef',
  leaseSeconds: '432000',
  reason: undefined,
  ...overrides,
});

describe('lease schedule', () => {
  it('renews 10 % before expiry, between a minute and a day ahead, at most half-way', () => {
    const fiveDays = { verified_at_ms: NOW, lease_seconds: 5 * 86_400 };
    assert.equal(leaseExpiresAtMs(fiveDays), NOW + 5 * DAY);
    assert.equal(leaseRenewAtMs(fiveDays), NOW + 5 * DAY - 12 * 3_600_000);
    const thirtyDays = { verified_at_ms: NOW, lease_seconds: 30 * 86_400 };
    assert.equal(leaseRenewAtMs(thirtyDays), NOW + 29 * DAY, 'at most a day ahead');
    const tenMinutes = { verified_at_ms: NOW, lease_seconds: 600 };
    assert.equal(leaseRenewAtMs(tenMinutes), NOW + 540_000, 'at least a minute ahead');
    const oneMinute = { verified_at_ms: NOW, lease_seconds: 60 };
    assert.equal(leaseRenewAtMs(oneMinute), NOW + 30_000, 'never later than half-way');
  });

  it('calls a lease fresh only between its verification and its end', () => {
    const lease = { verified_at_ms: NOW, lease_seconds: 100 };
    assert.equal(isLeaseFresh(lease, NOW), true);
    assert.equal(isLeaseFresh(lease, NOW + 99_999), true);
    assert.equal(isLeaseFresh(lease, NOW + 100_000), false);
    assert.equal(isLeaseFresh(lease, NOW - 1), true, 'a clock slightly behind the verifier still counts it');
    assert.equal(isLeaseFresh(null, NOW), false);
  });

  it('backs off failed subscribes from 30 s to an hour', () => {
    assert.deepEqual([1, 2, 3, 4].map(subscribeRetryDelayMs), [30_000, 60_000, 120_000, 240_000]);
    assert.equal(subscribeRetryDelayMs(50), 3_600_000);
  });
});

describe('answerWebSubVerification', () => {
  it('confirms the subscribe we asked for and records the granted lease and renewal time', () => {
    const answer = answerWebSubVerification(record({ failures: 3 }), query({ leaseSeconds: '864000' }), NOW);
    assert.equal(answer.kind, 'confirm');
    assert.ok(answer.kind === 'confirm');
    assert.equal(answer.challenge, '1234567890abcdef');
    assert.deepEqual(answer.record?.lease, { verified_at_ms: NOW, lease_seconds: 864_000 });
    assert.equal(answer.record?.pending, null);
    assert.equal(answer.record?.failures, 0);
    assert.equal(answer.record?.next_attempt_at_ms, NOW + 10 * DAY - DAY);
  });

  it('confirms the unsubscribe we asked for by dropping the record', () => {
    const answer = answerWebSubVerification(record({ pending: { mode: 'unsubscribe', requested_at_ms: NOW, lease_seconds: 1 } }), query({ mode: 'unsubscribe', leaseSeconds: undefined }), NOW);
    assert.deepEqual(answer, { kind: 'confirm', mode: 'unsubscribe', challenge: '1234567890abcdef', record: null });
  });

  it('refuses (unknown) a topic we did not ask for, another topic, or no record', () => {
    assert.equal(answerWebSubVerification(undefined, query(), NOW).kind, 'unknown');
    assert.equal(answerWebSubVerification(record(), query({ topic: youTubeFeedTopic('UCaaaaaaaaaaaaaaaaaaaaaa') }), NOW).kind, 'unknown');
    assert.equal(answerWebSubVerification(record(), query({ topic: 'https://evil.example/feed' }), NOW).kind, 'unknown');
    assert.equal(answerWebSubVerification(record(), query({ topic: `${TOPIC}&x=1` }), NOW).kind, 'unknown');
  });

  it('refuses (unknown) a mode we did not ask for', () => {
    assert.equal(answerWebSubVerification(record(), query({ mode: 'unsubscribe' }), NOW).kind, 'unknown');
    assert.equal(answerWebSubVerification(record({ pending: null, lease: { verified_at_ms: NOW, lease_seconds: 10 } }), query(), NOW).kind, 'unknown');
  });

  it('calls a missing mode, topic, challenge or lease malformed', () => {
    for (const overrides of [
      { mode: undefined },
      { mode: 'publish' },
      { topic: undefined },
      { challenge: undefined },
      { challenge: '' },
      { challenge: 'x'.repeat(1025) },
      { leaseSeconds: undefined },
      { leaseSeconds: '-5' },
      { leaseSeconds: '0' },
      { leaseSeconds: '1e6' },
      { leaseSeconds: '99999999999' },
    ]) {
      assert.equal(answerWebSubVerification(record(), query(overrides), NOW).kind, 'malformed', JSON.stringify(overrides));
    }
  });

  it('records a denial of our pending subscribe and schedules a retry', () => {
    const answer = answerWebSubVerification(record(), query({ mode: 'denied', challenge: undefined, leaseSeconds: undefined, reason: 'topic not allowed' }), NOW);
    assert.equal(answer.kind, 'denied');
    assert.ok(answer.kind === 'denied');
    assert.equal(answer.record.denied_reason, 'topic not allowed');
    assert.equal(answer.record.pending, null);
    assert.equal(answer.record.next_attempt_at_ms, NOW + 30_000);
    assert.equal(answerWebSubVerification(undefined, query({ mode: 'denied' }), NOW).kind, 'unknown');
  });
});
