import { BUCKETS, KvContentionError, SKIP, jsonCodec, typedKv, type Bus, type TypedKv, type TypedKvEntry } from '../bus/index.js';
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

/** Compare-and-sets `modify` tries before giving up (`KvContentionError`). */
const MAX_ATTEMPTS = 5;

type StoredAccount = TypedKvEntry<LinkedAccountRecord>;

const accountCodec = jsonCodec(linkedAccountRecordSchema);

/** A record under another account's key (moved in KV) is not this account's. */
function isAccount(record: LinkedAccountRecord, provider: LinkProvider, accountId: string): boolean {
  return record.provider === provider && record.account_id === accountId;
}

/**
 * Linked provider accounts in the `linked-accounts` KV bucket, credentials sealed by the
 * token vault. Reads give views without credentials; plaintext leaves only through
 * `withSecrets`, into a callback.
 */
export class LinkedAccountStore {
  private constructor(
    private readonly accounts: TypedKv<LinkedAccountRecord>,
    private readonly vault: TokenVault,
    private readonly now: () => number,
  ) {}

  static async open(bus: Bus, vault: TokenVault, now: () => number = Date.now): Promise<LinkedAccountStore> {
    return new LinkedAccountStore(typedKv(await bus.kv(BUCKETS.linkedAccounts), accountCodec, { maxAttempts: MAX_ATTEMPTS }), vault, now);
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
      linked_at: existing?.value.channel === input.channel ? existing.value.linked_at : nowIso,
      updated_at: nowIso,
      refresh_lease_until: null,
    };
    await this.accounts.bucket.put(accountKey(input.provider, input.accountId), accountCodec.encode(record));
    return viewOf(record);
  }

  async get(provider: LinkProvider, accountId: string): Promise<LinkedAccountView | undefined> {
    const found = await this.read(provider, accountId);
    return found && viewOf(found.value);
  }

  /** Every linked account, without credentials. */
  async list(): Promise<LinkedAccountView[]> {
    return (await this.readAll()).map(({ value }) => viewOf(value));
  }

  /**
   * Runs `use` with the account's plaintext credentials: the one way out of the vault.
   * Throws `TokenVaultError` when a sealed value does not open (tampered, unknown key).
   */
  async withSecrets<T>(provider: LinkProvider, accountId: string, use: (secrets: LinkSecrets, account: LinkedAccountView) => Promise<T> | T): Promise<T | undefined> {
    const found = await this.read(provider, accountId);
    if (!found) return undefined;
    return use(this.openAll(found.value), viewOf(found.value));
  }

  async delete(provider: LinkProvider, accountId: string): Promise<void> {
    await this.accounts.bucket.delete(accountKey(provider, accountId));
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
    let claimed: Omit<RefreshClaim, 'revision'> | undefined;
    try {
      // One compare-and-set on one read: a lost race means another instance took the lease (or the link changed).
      const { revision } = await this.accounts.update(
        accountKey(provider, accountId),
        (record) => {
          claimed = undefined;
          if (!record || !isAccount(record, provider, accountId) || record.status !== 'active' || record.refresh_token === null) return SKIP;
          if (record.refresh_lease_until !== null && Date.parse(record.refresh_lease_until) > this.now()) return SKIP;
          const refreshToken = this.vault.open(record.refresh_token, { provider, accountId, field: 'refresh_token' });
          const leased: LinkedAccountRecord = { ...record, refresh_lease_until: new Date(this.now() + leaseMs).toISOString() };
          claimed = { record: leased, refreshToken };
          return leased;
        },
        { maxAttempts: 1 },
      );
      return claimed && { ...claimed, revision: revision! };
    } catch (error) {
      if (error instanceof KvContentionError) return undefined;
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
      // One compare-and-set at the claim's revision, no read.
      const key = accountKey(record.provider, record.account_id);
      await this.accounts.update(key, () => updated, { assumed: { key, value: record, revision: claim.revision }, maxAttempts: 1 });
      return true;
    } catch (error) {
      if (error instanceof KvContentionError) return false;
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
    for (const { key, value: record, revision } of await this.readAll()) {
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
        await this.accounts.update(key, () => updated, { assumed: { key, value: record, revision }, maxAttempts: 1 });
        summary.resealed++;
      } catch (error) {
        // Changed meanwhile: whoever wrote it sealed with the current key.
        if (!(error instanceof KvContentionError)) throw error;
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
    const { outcome, value } = await this.accounts.update(accountKey(provider, accountId), (record) =>
      record && isAccount(record, provider, accountId) ? { ...change(record), updated_at: this.iso() } : SKIP,
    );
    return outcome === 'unchanged' ? undefined : viewOf(value!);
  }

  private async read(provider: LinkProvider, accountId: string): Promise<StoredAccount | undefined> {
    const found = await this.accounts.get(accountKey(provider, accountId));
    return found && isAccount(found.value, provider, accountId) ? found : undefined;
  }

  private async readAll(): Promise<StoredAccount[]> {
    const found: StoredAccount[] = [];
    for (const key of await this.accounts.bucket.keys()) {
      const entry = await this.accounts.bucket.get(key);
      if (!entry) continue;
      try {
        found.push({ key, value: accountCodec.decode(entry.value), revision: entry.revision });
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
