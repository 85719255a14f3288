import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckResult } from './moderation-check.js';
import { approvalFor, decideModeration } from './moderation-policy.js';

const check = (name: string, result: CheckResult['result'], reason?: string): CheckResult => ({ name, result, duration_ms: 1, ...(reason ? { reason } : {}) });

describe('decideModeration', () => {
  it('rejects on any failed check, whatever the policy, naming the check', () => {
    for (const policy of ['review', 'auto'] as const) {
      const decision = decideModeration([check('text', 'pass'), check('magic-bytes', 'fail', 'the content is text/html'), check('x', 'error')], policy);
      assert.deepEqual(decision, { outcome: 'rejected', reason: 'magic-bytes: the content is text/html' });
    }
  });

  it('approves only under auto and only when every check passed; errors and no checks go to a human', () => {
    const passed = [check('magic-bytes', 'pass'), check('media-probe', 'pass')];
    assert.equal(decideModeration(passed, 'review').outcome, 'in_review');
    assert.equal(decideModeration(passed, 'auto').outcome, 'approved');
    assert.equal(decideModeration([...passed, check('classifier', 'error')], 'auto').outcome, 'in_review');
    assert.equal(decideModeration([], 'auto').outcome, 'in_review');
  });

  it('sends a flagged check (review) to a human even under auto, naming each flag and each check that could not decide', () => {
    const flagged = [check('magic-bytes', 'pass'), check('faces', 'review', '2 faces at 3.5 s'), check('nudity', 'error')];
    assert.deepEqual(decideModeration(flagged, 'auto'), { outcome: 'in_review', reason: 'faces: 2 faces at 3.5 s; could not decide: nudity' });
    assert.equal(decideModeration([...flagged, check('audio-fingerprint', 'fail', 'matches reference r1')], 'auto').outcome, 'rejected');
  });
});

describe('approvalFor', () => {
  it("approves a publisher's broadcast recording that passes, whatever the channel's approval; a viewer's upload keeps it", () => {
    assert.equal(approvalFor({ source: 'broadcast' }, 'review'), 'auto');
    for (const source of ['clip', 'recording', 'file'] as const) assert.equal(approvalFor({ source }, 'review'), 'review');
    const flagged = [check('magic-bytes', 'pass'), check('classifier', 'error')];
    assert.equal(decideModeration(flagged, approvalFor({ source: 'broadcast' }, 'review')).outcome, 'in_review');
  });
});
