import { z } from 'zod';

/** Providers an account can be linked for, and how. */
export const LINK_PROVIDERS = ['twitch', 'youtube', 'bluesky'] as const;
export type LinkProvider = (typeof LINK_PROVIDERS)[number];

/** Providers linked by OAuth authorization code (Bluesky uses an app password this round). */
export const OAUTH_PROVIDERS = ['twitch', 'youtube'] as const;
export type OAuthProviderId = (typeof OAUTH_PROVIDERS)[number];

export const LINK_STATUSES = ['active', 'needs_reauth'] as const;
export type LinkStatus = (typeof LINK_STATUSES)[number];

/** The secret fields of a record; each is sealed under its own AAD. */
export const SECRET_FIELDS = ['access_token', 'refresh_token', 'app_password'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

/** What is stored per account in the `linked-accounts` bucket. Secrets are sealed values, never plaintext. */
export const linkedAccountRecordSchema = z.object({
  provider: z.enum(LINK_PROVIDERS),
  account_id: z.string(),
  display_name: z.string(),
  channel: z.string(),
  scopes: z.array(z.string()),
  access_token: z.string().nullable(),
  refresh_token: z.string().nullable(),
  app_password: z.string().nullable(),
  expires_at: z.string().nullable(),
  status: z.enum(LINK_STATUSES),
  /** Why the link needs the publisher again (refresh refused, credentials unreadable). */
  status_reason: z.string().nullable(),
  linked_at: z.string(),
  updated_at: z.string(),
  /** An instance refreshing the tokens holds this lease, so two never spend one refresh token. */
  refresh_lease_until: z.string().nullable(),
});
export type LinkedAccountRecord = z.infer<typeof linkedAccountRecordSchema>;

/** A link as the API shows it: everything but the credentials. */
export interface LinkedAccountView {
  readonly provider: LinkProvider;
  readonly account_id: string;
  readonly display_name: string;
  readonly channel: string;
  readonly scopes: readonly string[];
  readonly expires_at: string | null;
  readonly status: LinkStatus;
  readonly status_reason: string | null;
  readonly linked_at: string;
}

export function viewOf(record: LinkedAccountRecord): LinkedAccountView {
  return {
    provider: record.provider,
    account_id: record.account_id,
    display_name: record.display_name,
    channel: record.channel,
    scopes: record.scopes,
    expires_at: record.expires_at,
    status: record.status,
    status_reason: record.status_reason,
    linked_at: record.linked_at,
  };
}

/** Plaintext credentials, only ever handed to a callback (`withSecrets`). */
export interface LinkSecrets {
  readonly access_token: string | null;
  readonly refresh_token: string | null;
  readonly app_password: string | null;
}

/**
 * KV key of an account: `{provider}.{id}`. Numeric Twitch ids and YouTube channel ids
 * (`[A-Za-z0-9_-]`) are key-safe; anything else (a DID's `:`) is base64url-encoded, with a
 * `b64-` marker so an encoded id never equals a plain one.
 */
export function accountKey(provider: LinkProvider, accountId: string): string {
  const plain = provider !== 'bluesky' && /^[A-Za-z0-9_-]{1,64}$/.test(accountId) && !accountId.startsWith('b64-');
  return `${provider}.${plain ? accountId : `b64-${Buffer.from(accountId, 'utf8').toString('base64url')}`}`;
}
