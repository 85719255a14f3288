import Router from '@koa/router';
import { formatChannelRef } from '@live-upload/schema';
import type { Context } from 'koa';
import { AUDIT_ACTIONS, type AuditLog } from '../audit/index.js';
import { AppError } from '../errors/index.js';
import {
  DEFAULT_RULES_SCOPE,
  StaleModerationRulesError,
  moderationRulesChanges,
  moderationRulesSchema,
  type ModerationRules,
  type ModerationRulesDocument,
  type ModerationRulesStore,
} from '../moderation/index.js';
import type { AppState } from './app-state.js';
import { channelFromParams } from './middleware/channel-param.js';
import { moderatorActor, type ModeratorTokens } from './middleware/moderator-actor.js';
import { readJsonBody } from './middleware/read-body.js';

export interface ModerationRulesRouteDeps {
  readonly rules: ModerationRulesStore;
  readonly audit: AuditLog;
  readonly tokens: ModeratorTokens;
  readonly now: () => number;
}

/** A version as an entity tag: `"3"`. */
const etagOf = (version: number) => `"${version}"`;

/**
 * The version the writer read, from `If-Match: "N"` (the ETag of its GET), or 0 from
 * `If-None-Match: *` (nothing stored yet). A write without either is refused: the API never
 * overwrites rules its writer has not seen.
 */
function expectedVersion(ctx: Context): number {
  const ifMatch = ctx.get('If-Match').trim();
  const ifNoneMatch = ctx.get('If-None-Match').trim();
  if (ifMatch !== '') {
    const match = /^"?(\d{1,15})"?$/.exec(ifMatch);
    if (!match) throw new AppError('bad_request', 'If-Match: must be the ETag of the rules you read, a version in quotes ("3")');
    return Number(match[1]);
  }
  if (ifNoneMatch === '*') return 0;
  throw new AppError('bad_request', 'If-Match: required: the ETag of the rules you read (GET), or If-None-Match: * to create them');
}

/** The answer to a stale write: 412 with the version now stored, so the client reads again. */
function staleWrite(error: StaleModerationRulesError): AppError {
  return new AppError('precondition_failed', error.message, { headers: { ETag: etagOf(error.currentVersion) } });
}

function sendDocument(ctx: Context, document: ModerationRulesDocument): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('ETag', etagOf(document.version));
  ctx.body = { scope: document.scope, version: document.version, rules: document.rules, updated_by: document.updated_by, updated_at: document.updated_at };
}

/**
 * The moderation rules API (issue 22): `GET/PUT /api/v1/moderation/rules` (the default every
 * channel runs with) and `GET/PUT/DELETE /api/v1/moderation/rules/:publisher/:slug` (a channel's
 * own, which replaces the default whole). Moderators read, the admin writes. Writes are
 * optimistic: `If-Match` with the ETag read (412 with the current ETag when someone wrote
 * since); every change is audited with the old and new version and what changed. Jobs started
 * after a write run with it, on every replica, without a restart.
 */
export function moderationRulesRoutes(deps: ModerationRulesRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/moderation/rules' });
  const reader = (ctx: Context) => moderatorActor(ctx.get('authorization'), deps.tokens);
  const writer = (ctx: Context) => moderatorActor(ctx.get('authorization'), deps.tokens, { adminOnly: true });

  /** Writes `rules` as `scope`'s document and audits it against what applied before (the built-in or default rules when it is new). */
  const write = async (ctx: Context, actor: string, scope: string, rules: ModerationRules, applied: () => Promise<ModerationRulesDocument>): Promise<void> => {
    const expected = expectedVersion(ctx);
    const before = await applied();
    let change;
    try {
      change = await deps.rules.write(scope, rules, expected, { actor, atIso: new Date(deps.now()).toISOString() });
    } catch (error) {
      if (error instanceof StaleModerationRulesError) throw staleWrite(error);
      throw error;
    }
    const current = change.current;
    const previous = change.previous ?? before;
    await deps.audit.record({
      actor,
      action: AUDIT_ACTIONS.moderationRulesChanged,
      target: scope,
      reason: null,
      details: {
        old_version: change.previous?.version ?? 0,
        new_version: current.version,
        ...(change.previous ? {} : { replaced: { scope: before.scope, version: before.version } }),
        changes: moderationRulesChanges(previous.rules, current.rules),
        rules: current.rules,
      },
    });
    ctx.status = change.previous ? 200 : 201;
    sendDocument(ctx, current);
  };

  router.get('/', async (ctx) => {
    reader(ctx);
    sendDocument(ctx, await deps.rules.defaultRules());
  });

  router.put('/', async (ctx) => {
    const actor = writer(ctx);
    const rules = await readJsonBody(ctx, moderationRulesSchema);
    await write(ctx, actor, DEFAULT_RULES_SCOPE, rules, () => deps.rules.defaultRules());
  });

  router.get('/:publisher/:slug', async (ctx) => {
    reader(ctx);
    const channel = formatChannelRef(channelFromParams(ctx.params));
    const own = await deps.rules.channelRules(channel);
    if (!own) {
      const fallback = await deps.rules.defaultRules();
      throw new AppError('not_found', `${channel} has no rules of its own: its jobs run with the default rules (version ${fallback.version})`);
    }
    sendDocument(ctx, own);
  });

  router.put('/:publisher/:slug', async (ctx) => {
    const actor = writer(ctx);
    const channel = formatChannelRef(channelFromParams(ctx.params));
    const rules = await readJsonBody(ctx, moderationRulesSchema);
    await write(ctx, actor, channel, rules, () => deps.rules.defaultRules());
  });

  router.delete('/:publisher/:slug', async (ctx) => {
    const actor = writer(ctx);
    const channel = formatChannelRef(channelFromParams(ctx.params));
    const expected = expectedVersion(ctx);
    let removed;
    try {
      removed = await deps.rules.removeChannelRules(channel, expected, { actor, atIso: new Date(deps.now()).toISOString() });
    } catch (error) {
      if (error instanceof StaleModerationRulesError) throw staleWrite(error);
      throw error;
    }
    if (!removed) throw new AppError('not_found', `${channel} has no rules of its own`);
    const fallback = await deps.rules.defaultRules();
    await deps.audit.record({
      actor,
      action: AUDIT_ACTIONS.moderationRulesDeleted,
      target: channel,
      reason: null,
      details: {
        old_version: removed.version,
        new_version: fallback.version,
        replaced: { scope: fallback.scope, version: fallback.version },
        changes: moderationRulesChanges(removed.rules, fallback.rules),
      },
    });
    ctx.status = 204;
  });

  return router;
}
