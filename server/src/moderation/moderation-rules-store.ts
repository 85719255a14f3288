import { parseChannelRef } from '@live-upload/schema';
import { z } from 'zod';
import { BUCKETS, KvContentionError, SKIP, jsonCodec, typedKv, type Bus, type TypedKv } from '../bus/index.js';
import { moderationRulesSchema, type ModerationRules, type ModerationRulesSource, type ResolvedModerationRules } from './moderation-rules.js';

/** The key of the rules every channel without its own runs with. Channel keys are `publisher/slug`, so none is `default`. */
export const DEFAULT_RULES_SCOPE = 'default';

/**
 * A rules document as stored: the rules, and who wrote them when (shown by the admin API and the
 * audit trail). `rules: null` is a channel's document removed: its jobs run with the default. A
 * removal is a compare-and-set write like any other (the bus has no compare-and-delete), so it
 * cannot remove a document written after the version its admin read.
 */
export const storedModerationRulesSchema = z.object({
  rules: moderationRulesSchema.nullable(),
  updated_by: z.string(),
  updated_at: z.string(),
});
export type StoredModerationRules = z.infer<typeof storedModerationRulesSchema>;

/** One scope's document as the admin API shows it: `version` is its KV revision, 0 for the built-in default (nothing stored). */
export interface ModerationRulesDocument extends ResolvedModerationRules {
  readonly updated_by: string | null;
  readonly updated_at: string | null;
}

/** The version a writer read is no longer the stored one: another admin wrote (or deleted) the document since. */
export class StaleModerationRulesError extends Error {
  constructor(
    readonly scope: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(`the ${scope} moderation rules are at version ${currentVersion}, not ${expectedVersion}: read them again and reapply the change`);
    this.name = 'StaleModerationRulesError';
  }
}

/** What a write changed, for the answer and the audit record: `previous` is undefined when the scope had no document. */
export interface ModerationRulesChange {
  readonly previous: ModerationRulesDocument | undefined;
  readonly current: ModerationRulesDocument;
}

/**
 * The moderation rules on the bus (`moderation-rules` KV bucket, issue 22): key `default` and
 * one key per channel that has its own document (`publisher/slug`); a document's version is its
 * KV revision, and every write is a compare-and-set against the version the writer read, so two
 * admins editing at once cannot silently overwrite each other.
 *
 * Replica-safe by reading the bucket for every job (`forChannel`: the channel's key, then
 * `default` when it has none), not a cache: a write acknowledged on replica A is stored in
 * JetStream before the admin's answer, so a job any replica starts after that reads it. Two KV
 * gets per job cost nothing next to the checks' ffmpeg runs, and a cache fed by a watch would
 * only be as fresh as its last event, with no bound a job could check. The one window left:
 * KV gets are JetStream direct gets, which on a replicated bucket (`NATS_REPLICAS` 3) any
 * replica may answer, and the replica outside the write's quorum can be behind by its
 * replication delay; a job started within that delay of a write may run with the previous
 * version. Its decision then names that version (record and audit), so it is never hidden.
 */
export class ModerationRulesStore implements ModerationRulesSource {
  private constructor(
    private readonly kv: TypedKv<StoredModerationRules>,
    private readonly builtIn: ModerationRules,
  ) {}

  /** `builtIn`: the rules while no `default` document is stored (`builtInModerationRules(config.moderationPolicy)`), version 0. */
  static async open(bus: Bus, builtIn: ModerationRules): Promise<ModerationRulesStore> {
    const bucket = await bus.kv(BUCKETS.moderationRules);
    return new ModerationRulesStore(typedKv(bucket, jsonCodec(storedModerationRulesSchema, { validateWrites: true })), moderationRulesSchema.parse(builtIn));
  }

  /** The rules a job of `channel` runs with: the channel's own document, else the default. */
  async forChannel(channel: string): Promise<ResolvedModerationRules> {
    const own = await this.channelRules(channel);
    if (own) return { rules: own.rules, version: own.version, scope: own.scope };
    const fallback = await this.defaultRules();
    return { rules: fallback.rules, version: fallback.version, scope: fallback.scope };
  }

  /** The default document; the built-in rules at version 0 while none is stored. */
  async defaultRules(): Promise<ModerationRulesDocument> {
    return (await this.read(DEFAULT_RULES_SCOPE)) ?? { rules: this.builtIn, version: 0, scope: DEFAULT_RULES_SCOPE, updated_by: null, updated_at: null };
  }

  /** The channel's own document, undefined when it runs with the default. */
  async channelRules(channel: string): Promise<ModerationRulesDocument | undefined> {
    return this.read(channelScope(channel));
  }

  /**
   * Writes the document of `scope` (`default` or a channel) if it is still at `expectedVersion`
   * (0: nothing stored yet); throws `StaleModerationRulesError` otherwise.
   */
  async write(scope: string, rules: ModerationRules, expectedVersion: number, by: { actor: string; atIso: string }): Promise<ModerationRulesChange> {
    const key = scopeKey(scope);
    const next: StoredModerationRules & { rules: ModerationRules } = { rules: moderationRulesSchema.parse(rules), updated_by: by.actor, updated_at: by.atIso };
    let seen: ModerationRulesDocument | undefined;
    try {
      const result = await this.kv.update(
        key,
        (current, entry) => {
          // A removed document is no document: it is created again from version 0.
          seen = current && entry ? toDocument(key, current, entry.revision) : undefined;
          const seenVersion = seen?.version ?? 0;
          if (seenVersion !== expectedVersion) throw new StaleModerationRulesError(key, expectedVersion, seenVersion);
          return next;
        },
        // One attempt: a lost compare-and-set means someone wrote after the version the client read.
        { maxAttempts: 1 },
      );
      return { previous: seen, current: { rules: next.rules, version: result.revision ?? 0, scope: key, updated_by: next.updated_by, updated_at: next.updated_at } };
    } catch (error) {
      if (error instanceof KvContentionError) throw new StaleModerationRulesError(key, expectedVersion, (await this.read(key))?.version ?? 0);
      throw error;
    }
  }

  /**
   * Removes a channel's own document if it is still at `expectedVersion`, so the channel runs
   * with the default again: a compare-and-set of a removal marker (`rules: null`), so a write
   * since the admin's read is never removed unseen (`StaleModerationRulesError`). Undefined when
   * the channel had no document of its own.
   */
  async removeChannelRules(channel: string, expectedVersion: number, by: { actor: string; atIso: string }): Promise<ModerationRulesDocument | undefined> {
    const key = channelScope(channel);
    let removed: ModerationRulesDocument | undefined;
    try {
      await this.kv.update(
        key,
        (current, entry) => {
          removed = current && entry ? toDocument(key, current, entry.revision) : undefined;
          if (!removed) return SKIP;
          if (removed.version !== expectedVersion) throw new StaleModerationRulesError(key, expectedVersion, removed.version);
          return { rules: null, updated_by: by.actor, updated_at: by.atIso };
        },
        { maxAttempts: 1 },
      );
    } catch (error) {
      if (error instanceof KvContentionError) throw new StaleModerationRulesError(key, expectedVersion, (await this.read(key))?.version ?? 0);
      throw error;
    }
    return removed;
  }

  private async read(key: string): Promise<ModerationRulesDocument | undefined> {
    const entry = await this.kv.get(key);
    return entry ? toDocument(key, entry.value, entry.revision) : undefined;
  }
}

/** The document of a stored entry; undefined for a removal marker. */
function toDocument(scope: string, stored: StoredModerationRules, version: number): ModerationRulesDocument | undefined {
  return stored.rules ? { rules: stored.rules, version, scope, updated_by: stored.updated_by, updated_at: stored.updated_at } : undefined;
}

/** A channel's key (`publisher/slug`); anything else is refused before it reaches the bucket. */
function channelScope(channel: string): string {
  if (!parseChannelRef(channel)) throw new RangeError(`not a channel: ${JSON.stringify(channel)}`);
  return channel;
}

function scopeKey(scope: string): string {
  return scope === DEFAULT_RULES_SCOPE ? scope : channelScope(scope);
}
