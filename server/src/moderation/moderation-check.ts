import type { MediaProbe } from '../media/index.js';
import type { UploadCheck, UploadRecord } from '../uploads/index.js';
import type { ResolvedModerationRules } from './moderation-rules.js';
import type { SampledFrame } from './vision/frame-sampler.js';

/**
 * What a check concluded. `review`: it found something a human must look at (a score in the
 * review band, a face); `error`: it could not decide (a tool failed or timed out, a model did
 * not load). Both send the upload to review, never to approval.
 */
export const CHECK_OUTCOMES = ['pass', 'review', 'fail', 'error'] as const;
export type CheckOutcome = (typeof CHECK_OUTCOMES)[number];

/** One check's result, recorded on the upload and in the audit log. `reason` is shown to moderators. */
export interface CheckResult {
  readonly name: string;
  readonly result: CheckOutcome;
  readonly reason?: string;
  readonly details?: Record<string, unknown>;
  readonly duration_ms: number;
}

/** Facts one check learns and a later one may use (the probe, so the hash check need not probe again). */
export interface CheckFacts {
  probe?: MediaProbe;
  /** The frames the vision checks look at, decoded once per job by the first of them (see `sharedFrames`). */
  sampledFrames?: Promise<readonly SampledFrame[]>;
}

export interface ModerationCheckInput {
  /** Absolute path of the quarantined file (named after the upload id; nothing the client chose). */
  readonly path: string;
  readonly upload: UploadRecord;
  readonly facts: CheckFacts;
  /** The rules this job runs with (read once when the job started): thresholds and which checks are on. */
  readonly rules: ResolvedModerationRules;
  /**
   * Aborted when the worker stops (SIGTERM, a deploy): a long check (ffmpeg, a model) stops
   * waiting and the job goes back to the queue for another replica, undecided.
   */
  readonly signal?: AbortSignal;
}

/**
 * A moderation check, and the classifier interface: anything that looks at a quarantined upload
 * and says pass / fail / error. The worker runs its `checks` list in order and stops at the
 * first `fail` (so a hostile file never reaches the later, heavier tools); a check that throws
 * is recorded as `error` and the upload goes to human review. To plug in a classifier (a nudity
 * or violence model, a remote API), implement this interface and append it to the list given
 * to `ModerationWorker` (see `defaultModerationChecks`): its name must be unique in the list.
 */
export interface ModerationCheck {
  readonly name: string;
  run(input: ModerationCheckInput): Promise<CheckResult>;
}

/** What a check's body returns; `timedCheck` adds the name and the duration. */
export type CheckVerdict = Omit<CheckResult, 'name' | 'duration_ms'>;

/** Runs `body` and times it: the usual way to write `run`. */
export async function timedCheck(name: string, body: () => Promise<CheckVerdict>): Promise<CheckResult> {
  const startedAt = performance.now();
  const verdict = await body();
  return { name, ...verdict, duration_ms: Math.round(performance.now() - startedAt) };
}

/** Runs one check; a throw becomes an `error` result instead of failing the job. */
export async function runModerationCheck(check: ModerationCheck, input: ModerationCheckInput): Promise<CheckResult> {
  const startedAt = performance.now();
  try {
    return await check.run(input);
  } catch (error) {
    return {
      name: check.name,
      result: 'error',
      reason: `the check could not run: ${error instanceof Error ? error.message : String(error)}`.split(input.path).join('input'),
      duration_ms: Math.round(performance.now() - startedAt),
    };
  }
}

/** The result as kept on the upload record. */
export function toUploadCheck(result: CheckResult, atIso: string): UploadCheck {
  return {
    name: result.name,
    result: result.result,
    ...(result.reason === undefined ? {} : { detail: result.reason }),
    at: atIso,
    duration_ms: result.duration_ms,
    ...(result.details === undefined ? {} : { details: result.details }),
  };
}
