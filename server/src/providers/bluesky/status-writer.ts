import type { LiveMetadata } from '@live-upload/schema';
import type { AtpAgent } from '@atproto/api';
import { z } from 'zod';
import { BUCKETS, CONSUMERS, STREAMS, decodeJson, encodeJson, type Bus, type BusMessage, type Consumer, type KvBucket } from '../../bus/index.js';
import { liveStatusOf } from '../../live/index.js';
import type { Logger } from '../../observability/index.js';
import type { BlueskyCredentials, BlueskyCredentialsLookup } from './bluesky-credentials.js';
import type { BlueskyMetrics, StatusWriteAction } from './bluesky-metrics.js';
import { BLUESKY_COLLECTIONS, BLUESKY_STATUS_RKEY } from './jetstream-event.js';
import { blueskyStatusRecord, clampDurationMinutes } from './status-record.js';

export const STATUS_WRITER_DEFAULTS = {
  /** Attempts per status change before it is given up (logged and counted). */
  maxAttempts: 8,
  /** First retry delay; doubled per attempt, capped at `retryMaxMs`. */
  retryBaseMs: 2_000,
  retryMaxMs: 5 * 60 * 1000,
} as const;

/** What the write-back last did for a channel. */
const writeStateSchema = z.object({
  /** Seq of the last status record handled: older ones (replays, redeliveries) change nothing. */
  seq: z.number().int(),
  /** The broadcast whose live status is on Bluesky now, or null when none is. */
  written: z.string().nullable(),
  did: z.string().nullable(),
});
type WriteState = z.infer<typeof writeStateSchema>;

export interface StatusWriterOptions {
  readonly bus: Bus;
  readonly credentials: BlueskyCredentialsLookup;
  readonly metrics: BlueskyMetrics;
  readonly logger: Logger;
  /** Our public base URL: the status embed points at the channel's landing page. */
  readonly publicUrl: string;
  /** How long the live status lasts (clamped to what the app shows: 1..240). */
  readonly durationMinutes?: number;
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly now?: () => number;
  /** For `@atproto/api`'s requests. */
  readonly fetch?: typeof fetch;
}

interface CachedAgent {
  readonly agent: AtpAgent;
  readonly key: string;
}

/**
 * Bluesky status write-back, on its own durable consumer of `live.status.>` so it never
 * blocks the pipeline: when a channel with a Bluesky link starts a broadcast (a new
 * `canonical_id`), the linked account's `app.bsky.actor.status` (key `self`) is set to
 * `#live` with an external embed of the landing page; when the channel goes offline it is
 * deleted. Only transitions act: field updates of the same broadcast do not rewrite. What was
 * written per channel is kept in KV. A failed write is nak'ed with an exponential delay and
 * retried up to `maxAttempts`, then logged and counted. Signs in with the account's app
 * password through `@atproto/api`; the session is cached per DID and an expired one is
 * refreshed (by the agent) or, failing that, signed in again once.
 */
export class StatusWriter {
  private consumer: Consumer | undefined;
  private readonly agents = new Map<string, CachedAgent>();
  /** Channels being handled in this process: their messages run one at a time. */
  private readonly channelLocks = new Map<string, Promise<void>>();
  private readonly now: () => number;

  private constructor(
    private readonly options: StatusWriterOptions,
    private readonly states: KvBucket,
  ) {
    this.now = options.now ?? Date.now;
  }

  static async open(options: StatusWriterOptions): Promise<StatusWriter> {
    return new StatusWriter(options, await options.bus.kv(BUCKETS.blueskyStatus));
  }

  async start(): Promise<void> {
    if (this.consumer) return;
    this.consumer = await this.options.bus.consume(
      { stream: STREAMS.liveStatus.name, durable: CONSUMERS.blueskyStatusWriter, ackWaitMs: 60_000, maxAckPending: 64 },
      (message) => this.handle(message),
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = undefined;
  }

  private async handle(message: BusMessage): Promise<void> {
    const record = liveStatusOf(message, this.options.logger, 'not written back to Bluesky');
    if (!record) return;
    const previous = this.channelLocks.get(record.channel) ?? Promise.resolve();
    const run = previous.then(() => this.handleRecord(message, record));
    const settled = run.catch(() => undefined);
    this.channelLocks.set(record.channel, settled);
    try {
      await run;
    } finally {
      if (this.channelLocks.get(record.channel) === settled) this.channelLocks.delete(record.channel);
    }
  }

  private async handleRecord(message: BusMessage, record: LiveMetadata): Promise<void> {
    const key = stateKey(record.channel);
    const entry = await this.states.get(key);
    const state: WriteState = entry ? decodeJson(entry.value, writeStateSchema) : { seq: 0, written: null, did: null };
    if (record.seq <= state.seq) return;

    const did = record.providers.bluesky?.did ?? null;
    const live = record.status === 'live' && record.canonical_id !== null;
    let action: StatusWriteAction | undefined;
    let target: string | null = null;
    if (live && did && state.written !== record.canonical_id) {
      action = this.isStale(record) ? undefined : 'put';
      target = did;
    } else if (!live && state.written !== null && state.did) {
      action = 'delete';
      target = state.did;
    }
    // What is on Bluesky after this record: the same broadcast stays written; anything else is
    // written only by a successful put (a replay of an old broadcast is not written at all).
    let next: WriteState = live && state.written === record.canonical_id ? { ...state, seq: record.seq } : { seq: record.seq, written: null, did: null };
    if (action && target) {
      const outcome = await this.write(message, action, target, record);
      if (outcome === 'retry') return;
      if (outcome === 'written' && action === 'put') next = { seq: record.seq, written: record.canonical_id, did: target };
    }
    await this.states.put(key, encodeJson(next));
  }

  /** A live record older than a status lasts is a replay: writing it now would be wrong. */
  private isStale(record: LiveMetadata): boolean {
    const ageMs = this.now() - Date.parse(record.updated_at);
    return ageMs > clampDurationMinutes(this.options.durationMinutes) * 60_000;
  }

  private async write(message: BusMessage, action: StatusWriteAction, did: string, record: LiveMetadata): Promise<'written' | 'retry' | 'given_up'> {
    const credentials = await this.options.credentials(did);
    if (!credentials) {
      this.options.metrics.statusWrites.inc({ action, outcome: 'no_credentials' });
      this.options.logger.info({ channel: record.channel, did }, 'no Bluesky credentials for the linked account; status not written');
      return 'given_up';
    }
    try {
      await this.withSession(did, credentials, async (agent) => {
        if (action === 'put') {
          await agent.com.atproto.repo.putRecord({
            repo: did,
            collection: BLUESKY_COLLECTIONS.status,
            rkey: BLUESKY_STATUS_RKEY,
            record: blueskyStatusRecord({ record, publicUrl: this.options.publicUrl, nowMs: this.now(), ...(this.options.durationMinutes ? { durationMinutes: this.options.durationMinutes } : {}) }),
          });
        } else {
          await agent.com.atproto.repo.deleteRecord({ repo: did, collection: BLUESKY_COLLECTIONS.status, rkey: BLUESKY_STATUS_RKEY });
        }
      });
      this.options.metrics.statusWrites.inc({ action, outcome: 'written' });
      return 'written';
    } catch (error) {
      const maxAttempts = this.options.maxAttempts ?? STATUS_WRITER_DEFAULTS.maxAttempts;
      const context = { err: describeXrpcError(error), channel: record.channel, did, action, attempt: message.deliveryCount };
      if (message.deliveryCount >= maxAttempts) {
        this.options.metrics.statusWrites.inc({ action, outcome: 'failed' });
        this.options.logger.error(context, 'Bluesky status write-back gave up');
        return 'given_up';
      }
      this.options.metrics.statusWrites.inc({ action, outcome: 'retry' });
      this.options.logger.warn(context, 'Bluesky status write-back failed; retrying');
      const base = this.options.retryBaseMs ?? STATUS_WRITER_DEFAULTS.retryBaseMs;
      message.nak(Math.min(this.options.retryMaxMs ?? STATUS_WRITER_DEFAULTS.retryMaxMs, base * 2 ** (message.deliveryCount - 1)));
      return 'retry';
    }
  }

  /**
   * Runs `operation` with a signed-in agent for the DID. The agent refreshes an expired
   * access token by itself; when the session is gone anyway (refresh token expired or
   * revoked), the account is signed in again once and the operation repeated.
   */
  private async withSession(did: string, credentials: BlueskyCredentials, operation: (agent: AtpAgent) => Promise<void>): Promise<void> {
    const key = `${credentials.service}\n${credentials.identifier}\n${credentials.password}`;
    let cached = this.agents.get(did);
    if (cached && cached.key !== key) cached = undefined;
    if (!cached?.agent.hasSession) {
      cached = { agent: await this.signIn(credentials), key };
      this.agents.set(did, cached);
      await operation(cached.agent);
      return;
    }
    try {
      await operation(cached.agent);
    } catch (error) {
      if (!isSessionError(error)) throw error;
      this.agents.delete(did);
      const fresh = { agent: await this.signIn(credentials), key };
      this.agents.set(did, fresh);
      await operation(fresh.agent);
    }
  }

  private async signIn(credentials: BlueskyCredentials): Promise<AtpAgent> {
    // Loaded on first use: every process imports this folder, and most never write back.
    const { AtpAgent } = await import('@atproto/api');
    const agent = new AtpAgent({ service: credentials.service, ...(this.options.fetch ? { fetch: this.options.fetch } : {}) });
    await agent.login({ identifier: credentials.identifier, password: credentials.password });
    return agent;
  }
}

function stateKey(channel: string): string {
  return channel.replace(/[^-/_=.a-zA-Z0-9]/g, '_');
}

function isSessionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { status, error: name } = error as { status?: unknown; error?: unknown };
  return status === 401 || name === 'ExpiredToken' || name === 'InvalidToken' || name === 'AuthenticationRequired';
}

/** An XRPC error without anything secret (no headers, no request). */
function describeXrpcError(error: unknown): Record<string, unknown> {
  if (typeof error !== 'object' || error === null) return { message: String(error) };
  const { status, error: name, message } = error as { status?: unknown; error?: unknown; message?: unknown };
  return { status, error: name, message };
}
