import type { UploadRecord } from '../uploads/index.js';
import type { CheckResult } from './moderation-check.js';
import type { ModerationPolicy } from './moderation-rules.js';

export { MODERATION_POLICIES, type ModerationPolicy } from './moderation-rules.js';

/**
 * The approval that applies to `upload`: a `broadcast` upload is the channel's publisher's own
 * recording (asked for with a publisher grant or the admin token), trusted for their own channel,
 * so passing every check approves it (`auto`) whatever the channel's approval; a `fail` still
 * rejects it and a `review` or `error` still sends it to a human (`decideModeration`).
 */
export function approvalFor(upload: Pick<UploadRecord, 'source'>, approval: ModerationPolicy): ModerationPolicy {
  return upload.source === 'broadcast' ? 'auto' : approval;
}

/** Where the checks leave an upload. */
export type ModerationOutcome = 'rejected' | 'in_review' | 'approved';

export interface ModerationDecision {
  readonly outcome: ModerationOutcome;
  /** Why, for the audit record (the failed check's reason on a rejection). */
  readonly reason: string;
}

/**
 * The decision from the check results. Pure. Any `fail` rejects; a check that asks for a human
 * (`review`), one that could not decide (`error`) or no checks at all send the upload to a human
 * whatever the policy; otherwise the policy approves (`auto`) or asks for review.
 */
export function decideModeration(results: readonly CheckResult[], policy: ModerationPolicy): ModerationDecision {
  const failed = results.find((result) => result.result === 'fail');
  if (failed) return { outcome: 'rejected', reason: `${failed.name}: ${failed.reason ?? 'failed'}` };
  const flagged = results.filter((result) => result.result === 'review');
  const errored = results.filter((result) => result.result === 'error');
  if (flagged.length > 0 || errored.length > 0) {
    const reasons = [
      ...flagged.map((result) => `${result.name}: ${result.reason ?? 'flagged'}`),
      ...(errored.length > 0 ? [`could not decide: ${errored.map((result) => result.name).join(', ')}`] : []),
    ];
    return { outcome: 'in_review', reason: reasons.join('; ') };
  }
  if (results.length === 0) return { outcome: 'in_review', reason: 'no checks ran' };
  if (policy === 'auto') return { outcome: 'approved', reason: 'every check passed; policy auto' };
  return { outcome: 'in_review', reason: 'every check passed; policy review' };
}
