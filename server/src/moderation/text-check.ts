import { RegExpMatcher, englishDataset, englishRecommendedTransformers } from 'obscenity';
import { timedCheck, type CheckVerdict, type ModerationCheck } from './moderation-check.js';

/**
 * The uploader's words (title and file name) against `obscenity`'s English dataset, with its
 * recommended transformers (leetspeak, repeated and confusable characters). The matched term
 * is not echoed into the reason or the audit log.
 */
export function textCheck(): ModerationCheck {
  const name = 'text';
  const matcher = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });
  return {
    name,
    run: ({ upload }) =>
      timedCheck(name, async (): Promise<CheckVerdict> => {
        const fields = { title: upload.title ?? '', filename: upload.filename };
        const flagged = Object.entries(fields)
          .filter(([, text]) => text !== '' && matcher.hasMatch(text))
          .map(([field]) => field);
        if (flagged.length === 0) return { result: 'pass' };
        return { result: 'fail', reason: `obscene language in the ${flagged.join(' and ')}`, details: { fields: flagged } };
      }),
  };
}
