import type { Registry } from 'prom-client';
import type { ChannelRef, LiveMetadata } from '@live-upload/schema';
import type { AuditLog } from '../audit/index.js';
import { DEFAULT_RETRY_SCHEDULE_MS, type ResolveHost } from '../outbound/index.js';
import type { Bus } from '../bus/index.js';
import { AppError } from '../errors/index.js';
import { createFederationMetrics, type FederationInboxRefusal, type FederationMetrics, type Logger } from '../observability/index.js';
import { actorUrls } from './actor-urls.js';
import { FederationDelivery, FEDERATION_STREAM } from './delivery-queue.js';
import { FederationAdmin } from './federation-admin.js';
import { openFederationStores, type ActorKeys, type Announcements, type Blocks, type Followers } from './federation-stores.js';
import type { FederationNetworkPolicy } from './guarded-http.js';
import { InboxRefusedError, SignerGoneError, verifyInboxPost, type IncomingPost } from './inbox-verifier.js';
import { handleInboxActivity, type InboxOutcome } from './inbox.js';
import { LiveAnnouncer } from './live-announcer.js';
import { livePreviewUrl } from './preview-image.js';
import { fetchRemoteActor, type RemoteActor } from './remote-actor.js';
import { RemoteActorCache } from './remote-actor-cache.js';

export interface FederationSettings {
  readonly requireHttps: boolean;
  /** Hosts allowed to resolve to private ranges: the outbound webhooks' list. */
  readonly allowPrivateHosts: readonly string[];
  readonly timeoutMs: number;
  readonly retryScheduleMs?: readonly number[];
}

export interface FederationOptions {
  readonly bus: Bus;
  readonly logger: Logger;
  /** The app's metrics registry: federation's metrics (`createFederationMetrics`) register on it. */
  readonly registry: Registry;
  /** The admin's changes (blocks, follower removals, dead letters) are audited here. */
  readonly audit: AuditLog;
  readonly settings: FederationSettings;
  readonly publicUrl: () => string;
  /** Whether a channel exists (unknown handles are 404s, never actors). */
  readonly channelExists: (ref: ChannelRef) => Promise<boolean>;
  /** A preview image of a live broadcast; default: the provider's live thumbnail (`livePreviewUrl`). */
  readonly previewUrl?: (ref: ChannelRef, record: LiveMetadata) => string | undefined;
  /** Run the announcer and the delivery worker in this process (default true). */
  readonly workers?: boolean;
  readonly resolve?: ResolveHost;
  readonly now?: () => number;
}

/**
 * A deleted account's `Delete` of itself: Mastodon sends it to every server the account dealt
 * with, signed by a key whose actor now answers 410. It cannot be verified, changes nothing
 * here, and is answered 202 so the sender stops retrying it.
 */
function isOwnAccountDelete(value: unknown, actorUrl: string): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { type, actor, object } = value as { type?: unknown; actor?: unknown; object?: unknown };
  const objectId = typeof object === 'string' ? object : typeof object === 'object' && object !== null ? (object as { id?: unknown }).id : undefined;
  return type === 'Delete' && actor === actorUrl && objectId === actorUrl;
}

/** Why an inbox POST was refused, from what was thrown; undefined for errors that are ours, not the request's. */
function inboxRefusalOf(error: unknown): FederationInboxRefusal | undefined {
  if (error instanceof InboxRefusedError) return error.reason;
  if (!(error instanceof AppError)) return undefined;
  if (error.code === 'payload_too_large') return 'too_large';
  if (['invalid_json', 'invalid_body', 'unprocessable', 'bad_request', 'unsupported_media_type'].includes(error.code)) return 'invalid';
  return undefined;
}

/**
 * ActivityPub for channels (issue 27): each channel is an actor (`@{publisher}.{slug}@host`),
 * followed from Mastodon and other servers, announcing its broadcasts.
 *
 * Written on small pieces rather than `@fedify/fedify`: fedify 1.5.9 (the last 1.x declaring
 * Node >= 20; later 1.x and 2.x declare Node >= 22, and 2.x's install failed on a missing
 * `@fedify/vocab` version) imports and runs here, but it would bring its own KV store, message
 * queue and document loader: each would need an adapter to our bus KV, our work queue with the
 * outbound retry schedule, and the outbound SSRF guard with a pinned address, plus a
 * fetch-to-Koa bridge, for what is here four activity types. The protocol parts that must be
 * exact (draft-cavage signatures, Digest, WebFinger, actor documents) are pure functions checked
 * against an implementation that is not ours (Joyent's `http-signature`) in the tests.
 */
export class Federation {
  private constructor(
    private readonly options: FederationOptions,
    readonly keys: ActorKeys,
    readonly followers: Followers,
    readonly blocks: Blocks,
    readonly announcements: Announcements,
    readonly announcer: LiveAnnouncer,
    /** The admin API's side: blocks, followers, dead letters, each change audited. */
    readonly admin: FederationAdmin,
    readonly metrics: FederationMetrics,
    private readonly delivery: FederationDelivery,
    private readonly policy: FederationNetworkPolicy,
    private readonly remoteActors: RemoteActorCache,
  ) {}

  static async open(options: FederationOptions): Promise<Federation> {
    await options.bus.ensureStreams([FEDERATION_STREAM]);
    const stores = await openFederationStores(options.bus);
    const { settings } = options;
    const policy: FederationNetworkPolicy = {
      requireHttps: settings.requireHttps,
      allowPrivateHosts: new Set(settings.allowPrivateHosts.map((host) => host.toLowerCase().replace(/^\[|\]$/g, ''))),
      timeoutMs: settings.timeoutMs,
      ...(options.resolve ? { resolve: options.resolve } : {}),
    };
    const metrics = createFederationMetrics(options.registry);
    const announcer = new LiveAnnouncer({ bus: options.bus, ...stores, publicUrl: options.publicUrl, logger: options.logger, previewUrl: options.previewUrl ?? ((_ref, record) => livePreviewUrl(record)) });
    const delivery = new FederationDelivery({
      bus: options.bus,
      keys: stores.keys,
      blocks: stores.blocks,
      policy,
      retryScheduleMs: settings.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS,
      publicUrl: options.publicUrl,
      logger: options.logger,
      metrics,
      deadLetters: stores.deadLetters,
      ...(options.now ? { now: options.now } : {}),
    });
    const admin = new FederationAdmin({ bus: options.bus, blocks: stores.blocks, followers: stores.followers, deadLetters: stores.deadLetters, audit: options.audit, metrics, publicUrl: options.publicUrl });
    return new Federation(options, stores.keys, stores.followers, stores.blocks, stores.announcements, announcer, admin, metrics, delivery, policy, new RemoteActorCache(options.now));
  }

  get publicUrl(): string {
    return this.options.publicUrl();
  }

  channelExists(ref: ChannelRef): Promise<boolean> {
    return this.options.channelExists(ref);
  }

  /**
   * An inbox POST: the signature is verified first (401 otherwise), then a blocked signer is
   * refused (403), then the activity is applied. Follows and unfollows are counted.
   */
  async receive(ref: ChannelRef, post: IncomingPost, activity: () => unknown): Promise<InboxOutcome> {
    const now = this.options.now ?? Date.now;
    let signer;
    try {
      signer = await this.verify(ref, post);
    } catch (error) {
      if (error instanceof SignerGoneError) {
        let value: unknown;
        try {
          value = activity();
        } catch {
          throw error;
        }
        if (isOwnAccountDelete(value, error.actorUrl)) return 'ignored';
      }
      throw error;
    }
    if ((await this.blocks.isBlocked(signer.id)) || (await this.blocks.isBlocked(signer.inbox))) {
      throw new InboxRefusedError('blocked', `${ref.publisher}.${ref.slug} does not take activities from this actor`);
    }
    const outcome = await handleInboxActivity({ bus: this.options.bus, followers: this.followers, publicUrl: this.publicUrl, now }, ref, signer, activity());
    if (outcome !== 'ignored') this.metrics.follows.inc({ change: outcome });
    return outcome;
  }

  /**
   * Counts a refused inbox POST by why (`live_upload_federation_inbox_refusals_total`); the route
   * calls it with whatever its reading and `receive` threw. Errors that are not a refusal of the
   * request (a bus outage) are not counted.
   */
  countInboxRefusal(error: unknown): void {
    const reason = inboxRefusalOf(error);
    if (reason) this.metrics.inboxRefusals.inc({ reason });
  }

  private async verify(ref: ChannelRef, post: IncomingPost): Promise<RemoteActor> {
    const now = this.options.now ?? Date.now;
    const ours = await this.keys.get(ref);
    const fetchSigner = { keyId: actorUrls(this.publicUrl, ref).keyId, privateKeyPem: ours.private_key_pem };
    return verifyInboxPost(
      post,
      async (keyId, fresh) => {
        const cached = fresh ? undefined : this.remoteActors.get(keyId);
        if (cached) return { actor: cached, cached: true };
        const actor = await fetchRemoteActor(keyId, this.policy, fetchSigner);
        this.remoteActors.set(actor);
        return { actor, cached: false };
      },
      now(),
    );
  }

  async start(): Promise<void> {
    if (this.options.workers === false) return;
    await this.announcer.start();
    await this.delivery.start();
  }

  async stop(): Promise<void> {
    await this.announcer.stop();
    await this.delivery.stop();
  }
}
