import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJson, encodeJson } from '../bus/index.js';
import { attemptedRecord, deliveryIdFor, deliveryJobSchema, deliveryRecordSchema, encodeRecordOverJob, pendingRecord, type DeliveryJob } from './delivery.js';

describe('delivery records', () => {
  const webhookId = 'msg_0123456789abcdef0123456789abcdef';
  const subscriberId = 'sub_01HZY3Q9W8K6P1V0X2M4N7R5T3';
  const job: DeliveryJob = {
    delivery_id: deliveryIdFor(webhookId, subscriberId),
    webhook_id: webhookId,
    subscriber_id: subscriberId,
    event_type: 'clip.published',
    channel: 'alice/main',
    body: JSON.stringify({ type: 'clip.published', data: { title: 'quote " backslash \\ newline \n emoji 🎉 \u2028' } }),
    created_at: '2026-12-07T08:00:00.000Z',
    replay_of: null,
  };
  const jobJson = new TextDecoder().decode(encodeJson(job));

  it('an attempt changes only the attempt fields and the update time', () => {
    const record = attemptedRecord(pendingRecord(job), {
      status: 'retrying',
      attempts: 1,
      last_attempt_at: '2026-12-07T08:00:02.000Z',
      last_response_status: 503,
      last_error: 'http_503',
      next_attempt_at: '2026-12-07T08:00:07.000Z',
    });
    assert.deepEqual(record, {
      ...pendingRecord(job),
      status: 'retrying',
      attempts: 1,
      last_attempt_at: '2026-12-07T08:00:02.000Z',
      last_response_status: 503,
      last_error: 'http_503',
      next_attempt_at: '2026-12-07T08:00:07.000Z',
      updated_at: '2026-12-07T08:00:02.000Z',
    });
    assert.deepEqual(Object.keys(record), Object.keys(pendingRecord(job)), 'one key order: the records encode alike');
  });

  it('a record written over its job JSON reads back as the record', () => {
    for (const status of ['delivered', 'retrying'] as const) {
      const record = attemptedRecord(pendingRecord(job), {
        status,
        attempts: 2,
        last_attempt_at: '2026-12-07T08:00:02.000Z',
        last_response_status: status === 'delivered' ? 204 : null,
        last_error: status === 'delivered' ? null : 'timeout',
        next_attempt_at: status === 'delivered' ? null : '2026-12-07T08:01:00.000Z',
      });
      const bytes = encodeRecordOverJob(jobJson, record);
      assert.deepEqual(decodeJson(bytes, deliveryRecordSchema), record);
      assert.deepEqual(decodeJson(bytes, deliveryJobSchema), job, 'and still as its job');
    }
  });

  it('the record keys win over anything else the job JSON held', () => {
    const record = attemptedRecord(pendingRecord(job), {
      status: 'delivered',
      attempts: 1,
      last_attempt_at: '2026-12-07T08:00:02.000Z',
      last_response_status: 204,
      last_error: null,
      next_attempt_at: null,
    });
    const padded = `${jobJson.slice(0, -1)},"status":"dead","attempts":99} \n`;
    assert.deepEqual(decodeJson(encodeRecordOverJob(padded, record), deliveryRecordSchema), record);
    assert.throws(() => encodeRecordOverJob('[]', record), SyntaxError);
  });
});
