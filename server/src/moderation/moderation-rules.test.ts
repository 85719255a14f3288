import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtInModerationRules, moderationRulesSchema, scoreBand } from './moderation-rules.js';

describe('moderation rules', () => {
  it('the built-in rules are valid and take their approval from MODERATION_POLICY', () => {
    assert.equal(moderationRulesSchema.parse(builtInModerationRules()).approval, 'review');
    assert.equal(builtInModerationRules('auto').approval, 'auto');
  });

  it('refuses bands upside down, unknown fields and out-of-range sampling', () => {
    const rules = builtInModerationRules();
    for (const hostile of [
      { ...rules, nudity: { enabled: true, bands: { review: 0.9, block: 0.5 } } },
      { ...rules, sampling: { ...rules.sampling, max_frames: 10_000 } },
      { ...rules, extra: true },
      { ...rules, faces: { ...rules.faces, min_confidence: -1 } },
    ]) {
      assert.equal(moderationRulesSchema.safeParse(hostile).success, false, JSON.stringify(hostile).slice(0, 120));
    }
  });

  it('puts a score in its band: block at or above block, review at or above review', () => {
    const bands = { review: 0.5, block: 0.9 };
    assert.deepEqual([0.49, 0.5, 0.89, 0.9, 1].map((score) => scoreBand(score, bands)), ['pass', 'review', 'review', 'fail', 'fail']);
    assert.equal(scoreBand(1, { review: 0.5, block: 1.01 }), 'review', 'block above 1 never blocks');
  });
});
