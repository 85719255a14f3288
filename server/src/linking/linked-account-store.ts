import { BUCKETS, KvConflictError, decodeJson, encodeJson, type Bus, type KvBucket, type KvEntry } from '../bus/index.js';
import {
  SECRET_FIELDS,
  accountKey,
  linkedAccountRecordSchema,
  viewOf,
  type LinkProvider,
  type LinkSecrets,
  type LinkedAccountRecord,
  type LinkedAccountView,
  type SecretField,
} from './linked-account.js';
import type { TokenVault } from './token-vault.js';

export interface SaveLinkedAccount {
  readonly provider: LinkProvider;
  readonly accountId: string;
  readonly displayName: string;
  readonly channel: string;
  readonly scopes: readonly string[];
  readonly secrets: Partial<LinkSecrets>;
  /** When the access token expires; null when it does not (or is unknown). */
  readonly expiresAtMs: number | null;
}

export interface RefreshedTokens {
  readonly accessToken: string;
  /** A rotated refresh token; null keeps the current one. */
  readonly refreshToken: string | null;
  readonly expiresAtMs: number | null;
  readonly scopes: readonly string[];
}

/** A refresh lease won: the plaintext refresh token and the revision to write back at. */
export interface RefreshClaim {
  readonly record: LinkedAccountRecord;
  readonly refreshToken: string;
  readonly revision: number;
}

const MAX_ATTEMPTS = 5;

/**
 * Linked provider accounts in the `linked-accounts` KV bucket, credentials sealed by the
 * token vault. Reads give views without credentials; plaintext leaves only through
 * `withSecrets`, into a callback.
 */
export class LinkedAccountStore {
  private constructor(
    private readonly bucket: KvBucket,
    private readonly vault: TokenVault,
    private readonly now: () => number,
  ) {}

  static async open(bus: Bus, vault: TokenVault, now: () => number = Date.now): Promise<LinkedAccountStore> {
    return new LinkedAccountStore(await bus.kv(BUCKETS.linkedAccounts), vault, now);
  }

  /** Creates or replaces the account's record, sealing its secrets; the link is active again. */
  async save(input: SaveLinkedAccount): Promise<LinkedAccountView> {
    const nowIso = this.iso();
    const existing = await this.read(input.provider, input.accountId);
    const seal = (field: SecretField) => {
      const value = input.secrets[field];
      return value === undefined || value === null ? null : this.vault.seal(value, { provider: input.provider, accountId: input.accountId, field });
    };
    const record: LinkedAccountRecord = {
      provider: input.provider,
      account_id: input.accountId,
      display_name: input.displayName,
      channel: input.channel,
      scopes: [...input.scopes],
      access_token: seal('access_token'),
      refresh_token: seal('refresh_token'),
      app_password: seal('app_password'),
      expires_at: input.expiresAtMs === null ? null : new Date(input.expiresAtMs).toISOString(),
      status: 'active',
      status_reason: null,
      linked_at: existing?.record.channel === input.channel ? existing.record.linked_at : nowIso,
      updated_at: nowIso,
      refresh_lease_until: null,
    };
    await this.bucket.put(accountKey(input.provider, input.accountId), encodeJson(record));
    return viewOf(record);
  }

  async get(provider: LinkProvider, accountId: string): Promise<LinkedAccountView | undefined> {
    const found = await this.read(provider, accountId);
    return found && viewOf(found.record);
  }

  /** Every linked account, without credentials. */
  async list(): Promise<LinkedAccountView[]> {
    return (await this.readAll()).map(({ record }) => viewOf(record));
  }

  /**
   * Runs `use` with the account's plaintext credentials: the one way out of the vault.
   * Throws `TokenVaultError` when a sealed value does not open (tampered, unknown key).
   */
  async withSecrets<T>(provider: LinkProvider, accountId: string, use: (secrets: LinkSecrets, account: LinkedAccountView) => Promise<T> | T): Promise<T | undefined> {
    const found = await this.read(provider, accountId);
    if (!found) return undefined;
    return use(this.openAll(found.record), viewOf(found.record));
  }

  async delete(provider: LinkProvider, accountId: string): Promise<void> {
    await this.bucket.delete(accountKey(provider, accountId));
  }

  /** Marks the link as needing the publisher to link again; drops any refresh lease. */
  async markNeedsReauth(provider: LinkProvider, accountId: string, reason: string): Promise<LinkedAccountView | undefined> {
    return this.modify(provider, accountId, (record) => ({ ...record, status: 'needs_reauth', status_reason: reason, refresh_lease_until: null }));
  }

  /** Gives a refresh lease back without changing the tokens (a transient failure). */
  async releaseRefresh(provider: LinkProvider, accountId: string): Promise<void> {
    await this.modify(provider, accountId, (record) => ({ ...record, refresh_lease_until: null }));
  }

  /**
   * Takes the refresh lease of an active OAuth account with compare-and-set, so of several
   * instances one refreshes. Undefined when another holds it, the link is not active, or it
   * has no refresh token. Throws `TokenVaultError` when the refresh token does not open.
   */
  async claimRefresh(provider: LinkProvider, accountId: string, leaseMs: number): Promise<RefreshClaim | undefined> {
    const found = await this.read(provider, accountId);
    if (!found || found.record.status !== 'active' || found.record.refresh_token === null) return undefined;
    const { record, entry } = found;
    if (record.refresh_lease_until !== null && Date.parse(record.refresh_lease_until) > this.now()) return undefined;
    const refreshToken = this.vault.open(record.refresh_token!, { provider, accountId, field: 'refresh_token' });
    const leased: LinkedAccountRecord = { ...record, refresh_lease_until: new Date(this.now() + leaseMs).toISOString() };
    try {
      const revision = await this.bucket.update(entry.key, encodeJson(leased), entry.revision);
      return { record: leased, refreshToken, revision };
    } catch (error) {
      if (error instanceof KvConflictError) return undefined;
      throw error;
    }
  }

  /** Writes refreshed tokens at the claim's revision; false when the record changed meanwhile (unlinked, relinked). */
  async completeRefresh(claim: RefreshClaim, tokens: RefreshedTokens): Promise<boolean> {
    const { record } = claim;
    const context = { provider: record.provider, accountId: record.account_id };
    const updated: LinkedAccountRecord = {
      ...record,
      access_token: this.vault.seal(tokens.accessToken, { ...context, field: 'access_token' }),
      refresh_token: tokens.refreshToken === null ? record.refresh_token : this.vault.seal(tokens.refreshToken, { ...context, field: 'refresh_token' }),
      expires_at: tokens.expiresAtMs === null ? null : new Date(tokens.expiresAtMs).toISOString(),
      scopes: tokens.scopes.length > 0 ? [...tokens.scopes] : record.scopes,
      updated_at: this.iso(),
      refresh_lease_until: null,
    };
    try {
      await this.bucket.update(accountKey(record.provider, record.account_id), encodeJson(updated), claim.revision);
      return true;
    } catch (error) {
      if (error instanceof KvConflictError) return false;
      throw error;
    }
  }

  /**
   * Re-seals every stored secret that is under an older key with the current one (after a
   * key was prepended to TOKEN_ENCRYPTION_KEYS). Records that do not open are left alone and
   * counted. Safe to run on several instances at once (compare-and-set per record).
   */
  async rotate(): Promise<{ resealed: number; current: number; unreadable: number }> {
    const summary = { resealed: 0, current: 0, unreadable: 0 };
    for (const { entry, record } of await this.readAll()) {
      const stale = SECRET_FIELDS.filter((field) => record[field] !== null && this.vault.needsReseal(record[field]!));
      if (stale.length === 0) {
        summary.current++;
        continue;
      }
      let updated: LinkedAccountRecord;
      try {
        updated = { ...record };
        for (const field of stale) updated[field] = this.vault.reseal(record[field]!, { provider: record.provider, accountId: record.account_id, field });
      } catch {
        summary.unreadable++;
        continue;
      }
      try {
        await this.bucket.update(entry.key, encodeJson(updated), entry.revision);
        summary.resealed++;
      } catch (error) {
        // Changed meanwhile: whoever wrote it sealed with the current key.
        if (!(error instanceof KvConflictError)) throw error;
        summary.current++;
      }
    }
    return summary;
  }

  private openAll(record: LinkedAccountRecord): LinkSecrets {
    const open = (field: SecretField) => {
      const sealed = record[field];
      return sealed === null ? null : this.vault.open(sealed, { provider: record.provider, accountId: record.account_id, field });
    };
    return { access_token: open('access_token'), refresh_token: open('refresh_token'), app_password: open('app_password') };
  }

  private async modify(provider: LinkProvider, accountId: string, change: (record: LinkedAccountRecord) => LinkedAccountRecord): Promise<LinkedAccountView | undefined> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const found = await this.read(provider, accountId);
      if (!found) return undefined;
      const updated = { ...change(found.record), updated_at: this.iso() };
      try {
        await this.bucket.update(found.entry.key, encodeJson(updated), found.entry.revision);
        return viewOf(updated);
      } catch (error) {
        if (!(error instanceof KvConflictError)) throw error;
      }
    }
    throw new Error(`linked account ${provider}/${accountId} kept changing; gave up after ${MAX_ATTEMPTS} attempts`);
  }

  private async read(provider: LinkProvider, accountId: string): Promise<{ entry: KvEntry; record: LinkedAccountRecord } | undefined> {
    const entry = await this.bucket.get(accountKey(provider, accountId));
    if (!entry) return undefined;
    const record = decodeJson(entry.value, linkedAccountRecordSchema);
    // A record under another account's key (moved in KV) is not this account's.
    if (record.provider !== provider || record.account_id !== accountId) return undefined;
    return { entry, record };
  }

  private async readAll(): Promise<Array<{ entry: KvEntry; record: LinkedAccountRecord }>> {
    const found: Array<{ entry: KvEntry; record: LinkedAccountRecord }> = [];
    for (const key of await this.bucket.keys()) {
      const entry = await this.bucket.get(key);
      if (!entry) continue;
      try {
        found.push({ entry, record: decodeJson(entry.value, linkedAccountRecordSchema) });
      } catch {
        // Not a record (written by hand or by a newer version): skipped, never fatal to a sweep.
      }
    }
    return found;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}
