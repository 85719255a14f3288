import { isBlueskyDid } from '@live-upload/schema';
import { z } from 'zod';

/**
 * Proves a Bluesky account by signing in with an app password:
 * `POST {service}/xrpc/com.atproto.server.createSession` `{ identifier, password }` answers
 * `{ did, handle, accessJwt, refreshJwt }` (lexicon `com.atproto.server.createSession`).
 * The service is configuration (`BLUESKY_SERVICE_URL`), never a URL a user supplies. The
 * session itself is not kept: only the DID, handle and (sealed) app password are.
 */

/** App passwords are `xxxx-xxxx-xxxx-xxxx`; asking for that shape keeps account passwords out. */
export const APP_PASSWORD_PATTERN = /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/;

const HANDLE = /^(?=.{3,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/** A handle (domain name) or a DID. */
export const blueskyIdentifierSchema = z
  .string()
  .trim()
  .max(253)
  .refine(
    (value: string) => HANDLE.test(value.replace(/^@/, '')) || isBlueskyDid(value),
    'must be a Bluesky handle (name.bsky.social) or a DID',
  )
  .transform((value) => (value.startsWith('did:') ? value : value.replace(/^@/, '').toLowerCase()));

export const blueskyLinkInputSchema = z.strictObject({
  identifier: blueskyIdentifierSchema,
  app_password: z.string().regex(APP_PASSWORD_PATTERN, 'must be a Bluesky app password (xxxx-xxxx-xxxx-xxxx), not the account password'),
});
export type BlueskyLinkInput = z.infer<typeof blueskyLinkInputSchema>;

const sessionSchema = z.object({
  did: z.string().startsWith('did:').max(2048),
  handle: z.string().max(253),
  accessJwt: z.string(),
});

/** Why a sign-in failed: the credentials (the publisher's to fix) or the service (try later). */
export class BlueskySignInError extends Error {
  constructor(
    readonly kind: 'refused' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'BlueskySignInError';
  }
}

export interface BlueskyAccount {
  readonly did: string;
  readonly handle: string;
}

export class BlueskyAppPasswords {
  constructor(
    /** `https://bsky.social` by default. */
    readonly service: string,
    private readonly options: { timeoutMs?: number; fetch?: typeof fetch } = {},
  ) {}

  /** Signs in; the account the app password belongs to. */
  async verify(identifier: string, appPassword: string): Promise<BlueskyAccount> {
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(new URL('/xrpc/com.atproto.server.createSession', this.service), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ identifier, password: appPassword }),
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new BlueskySignInError('unavailable', `Bluesky service unreachable: ${(error as Error).name}`);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.status === 401 || response.status === 400) {
      const error = (json as { error?: unknown } | undefined)?.error;
      throw new BlueskySignInError('refused', `Bluesky refused the sign-in (${typeof error === 'string' ? error.slice(0, 60) : response.status})`);
    }
    if (!response.ok) throw new BlueskySignInError('unavailable', `Bluesky createSession answered ${response.status}`);
    const session = sessionSchema.safeParse(json);
    if (!session.success) throw new BlueskySignInError('unavailable', 'Bluesky createSession answered without a DID');
    // A DID we cannot follow (did:key, a did:web with a path or port) is the account's trait, not an outage.
    if (!isBlueskyDid(session.data.did)) throw new BlueskySignInError('refused', unsupportedDidMessage(session.data.did));
    // A full account password gets `com.atproto.access`; an app password `com.atproto.appPass`.
    if (jwtScope(session.data.accessJwt) === 'com.atproto.access') throw new BlueskySignInError('refused', 'that is the account password; create an app password instead');
    return { did: session.data.did, handle: session.data.handle.toLowerCase() };
  }
}

/** Names the DID method the account uses, and what we accept instead. */
function unsupportedDidMessage(did: string): string {
  const method = /^did:([a-z0-9]{1,32}):/.exec(did)?.[1] ?? 'unknown';
  const why = method === 'web' ? 'a did:web with a path or port' : `did:${method}`;
  return `the account's DID method is not supported (${why}); only did:plc and host-level did:web accounts can be linked`;
}

/** The `scope` claim of a JWT, read without verifying (it only routes a refusal). */
function jwtScope(jwt: string): string | undefined {
  const payload = jwt.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const scope = (claims as { scope?: unknown } | null)?.scope;
    return typeof scope === 'string' ? scope : undefined;
  } catch {
    return undefined;
  }
}
