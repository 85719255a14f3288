import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors/index.js';
import { PublisherGrantError, type PublisherCapability, type PublisherGrants } from './publisher-grant.js';

/** Who acted as the channel's publisher, as the audit trail names them. */
export interface PublisherActor {
  /** `admin`, or `publisher:{grant id}` (a grant id, never the token). */
  readonly actor: string;
  /** The grant presented; absent for the admin token. */
  readonly grantId?: string;
}

export interface AuthorizePublisherDeps {
  readonly grants: PublisherGrants;
  /** The admin token acts as any channel's publisher. */
  readonly adminToken: () => string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Checks an `Authorization` header for the right to act as `channel`'s publisher with
 * `capability`: the admin token, or a publisher grant for that channel carrying it. A missing or
 * expired grant is a 401 (with `WWW-Authenticate`), anything else refused a 403, each with a
 * message that says what to do and never echoes the token.
 */
export async function authorizePublisher(
  deps: AuthorizePublisherDeps,
  authorization: string | undefined,
  required: { readonly channel: string; readonly capability: PublisherCapability },
): Promise<PublisherActor> {
  const token = /^bearer +([\x21-\x7e]{1,4096})$/i.exec(authorization ?? '')?.[1];
  if (token !== undefined && timingSafeEqual(digest(token), digest(deps.adminToken()))) return { actor: 'admin' };
  try {
    const grant = await deps.grants.verify(token, required);
    return { actor: `publisher:${grant.grantId}`, grantId: grant.grantId };
  } catch (error) {
    if (!(error instanceof PublisherGrantError)) throw error;
    const challenge = { headers: { 'WWW-Authenticate': 'Bearer realm="live-upload publisher"' } };
    switch (error.problem) {
      case 'missing':
        throw new AppError('unauthorized', `a publisher grant for ${required.channel} is required (Authorization: Bearer <grant>)`, challenge);
      case 'expired':
        throw new AppError('unauthorized', 'the publisher grant has expired; ask the page for a fresh one', challenge);
      case 'out-of-scope':
        throw new AppError('forbidden', error.message);
      case 'invalid':
        throw new AppError('forbidden', 'the bearer token is not a publisher grant this server issued');
    }
  }
}
