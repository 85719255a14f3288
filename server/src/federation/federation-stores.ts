import { createHash, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { ChannelRef } from '@live-upload/schema';
import { KvConflictError, decodeJson, encodeJson, type Bus, type KvBucket } from '../bus/index.js';
import { DeadLetters } from './dead-letters.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** KV buckets of federation (kept here: nothing outside federation reads them). */
export const FEDERATION_BUCKETS = {
  /** Per channel (`{publisher}.{slug}`): its RSA key pair, created once (create-only write). The private key is never served. */
  actorKeys: 'federation-actor-keys',
  /** Per follow (`{publisher}.{slug}.{hash of the follower's actor id}`): the follower's actor id and inbox. */
  followers: 'federation-followers',
  /** Per block (`domain.{hash}` / `actor.{hash}`): a domain or an actor the admin blocked. */
  blocks: 'federation-blocks',
  /** Per channel (`{publisher}.{slug}`): the broadcast announced last and whether it ended (the outbox). */
  announcements: 'federation-announcements',
  /** Per delivery id: deliveries that gave up after their retries, until the admin retries or discards them. */
  deadLetters: 'federation-dead-letters',
} as const;

function channelKey(ref: ChannelRef): string {
  return `${ref.publisher}.${ref.slug}`;
}

/** 32 hex of SHA-256: a KV-safe key for any text (actor ids, domains). */
export function hashKey(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

const actorKeySchema = z.object({ public_key_pem: z.string(), private_key_pem: z.string(), created_at: z.string() });
export type ActorKeyPair = z.infer<typeof actorKeySchema>;

/**
 * The channels' key pairs. Replica-safe: the first replica to need a channel's key creates it
 * with a create-only write; a replica that lost the race reads the winner's, so every replica
 * signs with the key the actor document serves.
 */
export class ActorKeys {
  private readonly cache = new Map<string, Promise<ActorKeyPair>>();
  constructor(private readonly kv: KvBucket) {}

  get(ref: ChannelRef): Promise<ActorKeyPair> {
    const key = channelKey(ref);
    let pending = this.cache.get(key);
    if (!pending) {
      pending = this.load(key);
      this.cache.set(key, pending);
      pending.catch(() => this.cache.delete(key));
    }
    return pending;
  }

  private async load(key: string): Promise<ActorKeyPair> {
    const stored = await this.kv.get(key);
    if (stored) return decodeJson(stored.value, actorKeySchema);
    const pair = await generateKeyPairAsync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const record: ActorKeyPair = { public_key_pem: pair.publicKey, private_key_pem: pair.privateKey, created_at: new Date().toISOString() };
    try {
      await this.kv.create(key, encodeJson(record));
      return record;
    } catch (error) {
      if (!(error instanceof KvConflictError)) throw error;
      const winner = await this.kv.get(key);
      if (!winner) throw error;
      return decodeJson(winner.value, actorKeySchema);
    }
  }
}

const followerSchema = z.object({
  actor: z.string(),
  inbox: z.string(),
  shared_inbox: z.string().nullable().default(null),
  followed_at: z.string(),
  /** The id of the `Follow` (a `Reject` of it names it); null for follows stored before it was kept. */
  follow_id: z.string().nullable().default(null),
});
export type Follower = z.output<typeof followerSchema>;

/** A follower's id in the admin API: the hash its record is keyed by (32 hex), not the actor URL. */
export const FOLLOWER_ID_PATTERN = /^[0-9a-f]{32}$/;

/** A follower as the admin lists it: its id and record. */
export type ListedFollower = Follower & { readonly id: string };

/** Who follows each channel, by the follower's actor id. */
export class Followers {
  constructor(private readonly kv: KvBucket) {}

  async add(ref: ChannelRef, follower: Follower): Promise<void> {
    await this.kv.put(`${channelKey(ref)}.${hashKey(follower.actor)}`, encodeJson(follower));
  }

  async remove(ref: ChannelRef, actor: string): Promise<void> {
    await this.kv.delete(`${channelKey(ref)}.${hashKey(actor)}`);
  }

  /** One follower by its id (see `FOLLOWER_ID_PATTERN`); undefined for anything else. */
  async get(ref: ChannelRef, id: string): Promise<Follower | undefined> {
    if (!FOLLOWER_ID_PATTERN.test(id)) return undefined;
    const entry = await this.kv.get(`${channelKey(ref)}.${id}`);
    return entry ? decodeJson(entry.value, followerSchema) : undefined;
  }

  /** A page of a channel's followers in id order; `after` is the `next_after` of the page before. */
  async page(ref: ChannelRef, options: { limit: number; after?: string }): Promise<{ followers: ListedFollower[]; next_after: string | null }> {
    const prefix = `${channelKey(ref)}.`;
    const ids = (await this.kv.keys(prefix)).map((key) => key.slice(prefix.length)).sort();
    const rest = options.after === undefined ? ids : ids.filter((id) => id > options.after!);
    const chosen = rest.slice(0, options.limit);
    const entries = await Promise.all(chosen.map(async (id) => ({ id, entry: await this.kv.get(`${prefix}${id}`) })));
    const followers = entries.flatMap(({ id, entry }) => (entry ? [{ id, ...decodeJson(entry.value, followerSchema) }] : []));
    return { followers, next_after: rest.length > options.limit ? chosen[chosen.length - 1]! : null };
  }

  async list(ref: ChannelRef): Promise<Follower[]> {
    const keys = await this.kv.keys(`${channelKey(ref)}.`);
    const entries = await Promise.all(keys.map((key) => this.kv.get(key)));
    return entries.flatMap((entry) => (entry ? [decodeJson(entry.value, followerSchema)] : []));
  }
}

export const blockInputSchema = z.strictObject({
  kind: z.enum(['domain', 'actor']),
  /** A host name (`bad.example`) or an actor id (an absolute URL). */
  value: z.string().min(1).max(2048),
});
const blockSchema = blockInputSchema.extend({ id: z.string(), created_at: z.string() });
export type Block = z.infer<typeof blockSchema>;

/** What the admin blocked: a blocked domain or actor is refused at the inbox and gets no deliveries. */
export class Blocks {
  constructor(private readonly kv: KvBucket) {}

  static normalize(input: z.infer<typeof blockInputSchema>): z.infer<typeof blockInputSchema> {
    return { kind: input.kind, value: input.kind === 'domain' ? input.value.trim().toLowerCase() : input.value.trim() };
  }

  async add(input: z.infer<typeof blockInputSchema>): Promise<Block> {
    const normal = Blocks.normalize(input);
    const block: Block = { ...normal, id: `${normal.kind}.${hashKey(normal.value)}`, created_at: new Date().toISOString() };
    await this.kv.put(block.id, encodeJson(block));
    return block;
  }

  /** Removes a block; the removed block, or undefined when there was none. */
  async remove(id: string): Promise<Block | undefined> {
    if (!/^(domain|actor)\.[0-9a-f]{32}$/.test(id)) return undefined;
    const entry = await this.kv.get(id);
    if (!entry) return undefined;
    await this.kv.delete(id);
    return decodeJson(entry.value, blockSchema);
  }

  async list(): Promise<Block[]> {
    const entries = await Promise.all((await this.kv.keys()).map((key) => this.kv.get(key)));
    return entries.flatMap((entry) => (entry ? [decodeJson(entry.value, blockSchema)] : []));
  }

  /** True when the URL's host (or a parent domain of it) or the actor id itself is blocked. */
  async isBlocked(urlText: string): Promise<boolean> {
    let host: string;
    try {
      host = new URL(urlText).hostname.toLowerCase();
    } catch {
      return true;
    }
    const labels = host.split('.');
    const domains = labels.map((_, index) => labels.slice(index).join('.'));
    const keys = [`actor.${hashKey(urlText)}`, ...domains.map((domain) => `domain.${hashKey(domain)}`)];
    const found = await Promise.all(keys.map((key) => this.kv.get(key)));
    return found.some((entry) => entry !== undefined);
  }
}

const announcementSchema = z.object({
  /** The newest status record (`seq`, per channel) this channel's announcements were decided on: an older one is stale. */
  seq: z.number().int(),
  /** The broadcast announced last; null before the first. */
  canonical_id: z.string().nullable(),
  ended: z.boolean(),
  activity: z.record(z.string(), z.unknown()).nullable(),
});
export type Announcement = z.infer<typeof announcementSchema>;

/**
 * The broadcast each channel announced last: what decides Create vs Delete, and the outbox.
 * Written by compare-and-set, so two status records handled at once (the consumer runs
 * several, and every replica shares it) cannot both announce; the loser is retried.
 */
export class Announcements {
  constructor(private readonly kv: KvBucket) {}

  async get(ref: ChannelRef): Promise<Announcement | undefined> {
    return (await this.read(ref))?.value;
  }

  async read(ref: ChannelRef): Promise<{ value: Announcement; revision: number } | undefined> {
    const entry = await this.kv.get(channelKey(ref));
    return entry ? { value: decodeJson(entry.value, announcementSchema), revision: entry.revision } : undefined;
  }

  /** Writes if the record is still at `revision` (undefined: not there yet); `KvConflictError` otherwise. */
  async write(ref: ChannelRef, announcement: Announcement, revision: number | undefined): Promise<void> {
    if (revision === undefined) await this.kv.create(channelKey(ref), encodeJson(announcement));
    else await this.kv.update(channelKey(ref), encodeJson(announcement), revision);
  }
}

/** Opens the federation buckets. */
export async function openFederationStores(bus: Bus): Promise<{ keys: ActorKeys; followers: Followers; blocks: Blocks; announcements: Announcements; deadLetters: DeadLetters }> {
  const [keys, followers, blocks, announcements, deadLetters] = await Promise.all([
    bus.kv(FEDERATION_BUCKETS.actorKeys),
    bus.kv(FEDERATION_BUCKETS.followers),
    bus.kv(FEDERATION_BUCKETS.blocks),
    bus.kv(FEDERATION_BUCKETS.announcements),
    bus.kv(FEDERATION_BUCKETS.deadLetters),
  ]);
  return {
    keys: new ActorKeys(keys),
    followers: new Followers(followers),
    blocks: new Blocks(blocks),
    announcements: new Announcements(announcements),
    deadLetters: new DeadLetters(deadLetters),
  };
}
