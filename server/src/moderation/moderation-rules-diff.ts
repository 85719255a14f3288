import type { ModerationRules } from './moderation-rules.js';

/** One setting that differs between two rules documents: its dotted path, and the value before and after. */
export interface ModerationRulesChangeEntry {
  readonly path: string;
  readonly from: unknown;
  readonly to: unknown;
}

/**
 * What changed from `before` to `after`, setting by setting (`nudity.bands.review: 0.5 -> 0.3`),
 * for the audit record of a rules change: a reader sees what an admin did without diffing two
 * documents by eye. Both are whole documents of the same schema, so every leaf is on both sides.
 */
export function moderationRulesChanges(before: ModerationRules, after: ModerationRules): ModerationRulesChangeEntry[] {
  const changes: ModerationRulesChangeEntry[] = [];
  const walk = (from: unknown, to: unknown, path: string): void => {
    if (isObject(from) && isObject(to)) {
      for (const key of new Set([...Object.keys(from), ...Object.keys(to)])) walk(from[key], to[key], path === '' ? key : `${path}.${key}`);
    } else if (from !== to) {
      changes.push({ path, from: from ?? null, to: to ?? null });
    }
  };
  walk(before, after, '');
  return changes;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
