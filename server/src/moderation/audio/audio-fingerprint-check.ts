import { REPLAY_UPLOAD_MAX_DURATION_S } from '../media-probe-check.js';
import { timedCheck, type CheckVerdict, type ModerationCheck } from '../moderation-check.js';
import { scoreBand } from '../moderation-rules.js';
import type { AudioReferences } from './audio-references.js';
import { fingerprintAudioFile } from './fingerprint-audio-file.js';
import { matchAudioReferences } from './match-audio-references.js';

export interface AudioFingerprintCheckOptions {
  /** Seconds of audio listened to, from the start. Default: the longest upload there is (a publisher's broadcast, 12 h). */
  readonly maxDurationS?: number;
  /** ffmpeg's limit; default from the duration (see `fingerprintAudioFile`). */
  readonly timeoutMs?: number;
}

/**
 * The check that listens: the upload's audio is fingerprinted (Chromaprint, by ffmpeg) and
 * matched against the references rights holders and admins added. The best match of at least
 * the rules' `min_match_s` is banded by its score: `fail` (rejected), `review`, or `pass` with the
 * match recorded. The details name the reference and the matched seconds of both, so a
 * moderator can listen to exactly that part. Off in the rules, no references, no audio: `pass`,
 * saying which. ffmpeg failing throws: the job records an `error` and a human reviews.
 */
export function audioFingerprintCheck(references: AudioReferences, options: AudioFingerprintCheckOptions = {}): ModerationCheck {
  const name = 'audio-fingerprint';
  return {
    name,
    run: ({ path, facts, rules }) =>
      timedCheck(name, async (): Promise<CheckVerdict> => {
        const policy = rules.rules.audio_fingerprint;
        const ruleDetails = { rules_version: rules.version, rules_scope: rules.scope };
        if (!policy.enabled) return { result: 'pass', reason: 'audio fingerprint matching is off in the moderation rules', details: ruleDetails };
        const set = await references.matchingSet();
        if (set.references.length === 0) return { result: 'pass', details: { ...ruleDetails, references: 0 } };

        const heard = await fingerprintAudioFile(path, {
          maxDurationS: options.maxDurationS ?? REPLAY_UPLOAD_MAX_DURATION_S,
          ...(facts.probe ? { probe: facts.probe } : {}),
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        });
        if (heard.kind === 'no-audio') return { result: 'pass', reason: 'no audio', details: { ...ruleDetails, references: set.references.length } };
        if (heard.kind === 'too-short') {
          return { result: 'pass', reason: 'the audio is too short to fingerprint', details: { ...ruleDetails, references: set.references.length } };
        }

        const matches = matchAudioReferences(heard.frames, set.index, { minMatchS: policy.min_match_s });
        const details = {
          ...ruleDetails,
          references: set.references.length,
          fingerprinted_s: round(heard.durationS, 1),
          ...(heard.atLimit ? { listened_to_first_s: round(heard.durationS, 1) } : {}),
          matching_references: matches.length,
        };
        const best = matches[0];
        if (!best) return { result: 'pass', details };
        const reference = set.references[best.reference]!;
        const match = {
          reference_id: reference.id,
          title: reference.title,
          owner: reference.owner,
          // Down, never up: a score shown as 0.8 is at least 0.8, in the band 0.8 starts.
          score: Math.floor(best.score * 1000) / 1000,
          clip_from_s: round(best.clipFromS, 1),
          clip_to_s: round(best.clipToS, 1),
          reference_from_s: round(best.referenceFromS, 1),
          reference_to_s: round(best.referenceToS, 1),
        };
        const result = scoreBand(best.score, policy.bands);
        if (result === 'pass') return { result, details: { ...details, match } };
        return {
          result,
          reason:
            `the audio from ${match.clip_from_s} s to ${match.clip_to_s} s matches ${JSON.stringify(reference.title)} (reference ${reference.id}) ` +
            `from ${match.reference_from_s} s to ${match.reference_to_s} s, score ${match.score}`,
          details: { ...details, match },
        };
      }),
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
