import { z } from 'zod';

/**
 * What happens after every check passed: `review` (a human approves; the default) or `auto` (the
 * checks approve). Here, with the rules that carry it, so the checks and the decision both read
 * it from one place without importing each other.
 */
export const MODERATION_POLICIES = ['review', 'auto'] as const;
export type ModerationPolicy = (typeof MODERATION_POLICIES)[number];

/**
 * Score bands of a classifier, each a score in [0, 1]: at or above `block` the check fails (the
 * upload is rejected), at or above `review` it asks a human, below it passes. `block` above 1
 * never blocks (a channel that wants every hit reviewed, none rejected).
 */
export const scoreBandsSchema = z
  .strictObject({
    review: z.number().min(0).max(1),
    block: z.number().min(0).max(1.01),
  })
  .refine((bands) => bands.review <= bands.block, { message: 'review must not be above block', path: ['review'] });
export type ScoreBands = z.infer<typeof scoreBandsSchema>;

/**
 * What the checks that look and listen do, and how strict they are (issue 22). One document is
 * the default for every channel; a channel may have its own, which replaces the default whole
 * (no merging: what a channel runs is what its document says). Stored versioned on the bus and
 * edited through the admin API: a job reads the rules when it starts, and its decision records
 * the version it used.
 */
export const moderationRulesSchema = z.strictObject({
  /** After every check passed: `review` (a human approves) or `auto` (approved). */
  approval: z.enum(MODERATION_POLICIES),
  /** How frames are taken for the vision checks: scene changes plus a fixed rate, at most `max_frames`. */
  sampling: z.strictObject({
    /** Frames per second taken at a fixed rate (0.5: one every two seconds). */
    fps: z.number().min(0.05).max(5),
    /** ffmpeg's scene score above which a frame is also taken (0..1; 1 turns scene frames off). */
    scene_threshold: z.number().min(0).max(1),
    max_frames: z.number().int().min(1).max(120),
  }),
  nudity: z.strictObject({
    enabled: z.boolean(),
    /** Bands over the frame's worst score of the explicit labels (nsfwjs: `Porn`, `Hentai`; `Sexy` at half weight). */
    bands: scoreBandsSchema,
  }),
  faces: z.strictObject({
    enabled: z.boolean(),
    /** A channel that allows faces (its viewers film each other on purpose): faces are recorded, never a reason for review. */
    allow: z.boolean(),
    /** Detections below this confidence are ignored. */
    min_confidence: z.number().min(0).max(1),
  }),
  audio_fingerprint: z.strictObject({
    enabled: z.boolean(),
    /** Bands over the match score of the best reference (the share of matching fingerprint bits over the matched span). */
    bands: scoreBandsSchema,
    /** A match shorter than this is ignored (seconds). */
    min_match_s: z.number().min(1).max(600),
  }),
});
export type ModerationRules = z.infer<typeof moderationRulesSchema>;

/** The rules a job runs with, and where they came from: `version` is the bus revision of the document, 0 for the built-in default. */
export interface ResolvedModerationRules {
  readonly rules: ModerationRules;
  readonly version: number;
  /** `default`, or the channel `publisher/slug` whose own document applies. */
  readonly scope: string;
}

/**
 * The built-in rules, before an admin writes any: every check on, faces to review, bands that
 * err towards a human looking. `approval` comes from `MODERATION_POLICY` (review unless set).
 */
export function builtInModerationRules(approval: ModerationRules['approval'] = 'review'): ModerationRules {
  return {
    approval,
    sampling: { fps: 0.5, scene_threshold: 0.4, max_frames: 24 },
    nudity: { enabled: true, bands: { review: 0.5, block: 0.9 } },
    faces: { enabled: true, allow: false, min_confidence: 0.6 },
    audio_fingerprint: { enabled: true, bands: { review: 0.6, block: 0.8 }, min_match_s: 5 },
  };
}

/** Where the worker gets the rules for a channel's job. The bus-backed store (versioned, audited) implements it. */
export interface ModerationRulesSource {
  forChannel(channel: string): Promise<ResolvedModerationRules>;
}

/** Rules that never change: the built-in default (tests, and a server before the store existed). */
export function fixedModerationRules(rules: ModerationRules): ModerationRulesSource {
  const resolved: ResolvedModerationRules = { rules, version: 0, scope: 'default' };
  return { forChannel: () => Promise.resolve(resolved) };
}

/** Which band a score falls in. */
export function scoreBand(score: number, bands: ScoreBands): 'pass' | 'review' | 'fail' {
  if (score >= bands.block) return 'fail';
  if (score >= bands.review) return 'review';
  return 'pass';
}
