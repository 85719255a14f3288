import { createHash } from 'node:crypto';
import { AppError } from '../../errors/index.js';
import { presentedBearer, tokenMatches } from './require-bearer.js';

/** The admin token and the moderators' tokens, read when a request comes in. */
export interface ModeratorTokens {
  readonly admin: () => string;
  readonly moderators: () => readonly string[];
}

/**
 * Who is acting, from `Authorization: Bearer <token>`: `admin` for the admin token,
 * `moderator:<first 6 hex of sha256(token)>` for a moderator token (stable, and no secret in
 * the audit log). Throws 401 for anything else. Every token is compared, in constant time.
 */
export function moderatorActor(authorization: string, tokens: ModeratorTokens, options: { adminOnly?: boolean } = {}): string {
  const presented = presentedBearer(authorization);
  let actor: string | undefined;
  if (presented !== undefined) {
    if (tokenMatches(presented, tokens.admin())) actor = 'admin';
    if (!options.adminOnly) {
      for (const token of tokens.moderators()) {
        if (tokenMatches(presented, token) && actor === undefined) actor = `moderator:${createHash('sha256').update(token).digest('hex').slice(0, 6)}`;
      }
    }
  }
  if (actor === undefined) {
    throw new AppError('unauthorized', 'a valid bearer token is required', { headers: { 'WWW-Authenticate': 'Bearer realm="live-upload"' } });
  }
  return actor;
}
