import { join } from 'node:path';
import { ulid } from 'ulid';
import { z } from 'zod';
import { STREAMS, SUBJECTS, decodeJson, defaultLeaseHolder, encodeJson, type Bus, type Subscription } from '../bus/index.js';
import type { Logger } from '../observability/index.js';
import type { GoLiveGrantLedger } from './go-live-grant-ledger.js';
import type { LiveHlsSink, OriginSession, OriginSignals } from './origin-session.js';
import type { OriginSessions } from './origin-sessions.js';
import { effectiveOriginLimits, type ChannelOriginLimits } from './origin-limits.js';
import type { InspectedOffer } from './whip-offer.js';
import { WhipSession, type LadderShedTime, type WhipSessionLimits } from './whip-session.js';

/** The grant was used before (on this replica or another): a go-live grant opens one session. */
export class GrantAlreadyUsedError extends Error {
  constructor() {
    super('this go-live grant has already opened a session; ask the page for a fresh grant');
    this.name = 'GrantAlreadyUsedError';
  }
}

/**
 * What the origin needs from the rest of the product, plugged in by the composition root:
 * where a session's ladder goes (the ObjectStore mirror) and how its start and end reach the
 * pipeline (the origin provider's signals).
 */
export interface OriginCollaborators {
  readonly sinkFor: (session: OriginSession) => LiveHlsSink;
  readonly signals: OriginSignals;
}

export interface WhipOriginDeps {
  readonly bus: Bus;
  readonly sessions: OriginSessions;
  readonly grants: GoLiveGrantLedger;
  /** The sink a session's ladder goes to (the origin's ObjectStore mirror in production). */
  readonly sinkFor: (session: OriginSession) => LiveHlsSink;
  readonly signals: OriginSignals;
  /** The server-wide limits; a channel's own (`OfferRequest.channelLimits`) can only lower them. */
  readonly limits: WhipSessionLimits;
  /** Local directory under which each session gets its own work directory. */
  readonly workRoot: string;
  /** The terminating replica's heartbeat on each of its sessions. */
  readonly heartbeatMs: number;
  /** A session whose replica has not beaten for this long is ended by any other replica (`replica-stopped`). */
  readonly staleAfterMs: number;
  readonly ffmpegPath?: string;
  /** How long a replica that relayed a DELETE waits for the session to end before ending it itself (its replica presumed gone); default 15 s. */
  readonly relayWaitMs?: number;
  /** This process; default `{host}/{pid}/{ulid}`. */
  readonly replica?: string;
  readonly logger: Logger;
  readonly now?: () => number;
}

const controlSchema = z.strictObject({ action: z.literal('end'), session_id: z.string(), reason: z.string().max(64) });

const DEFAULT_RELAY_WAIT_MS = 15_000;

/** One offer to answer. */
export interface OfferRequest {
  readonly channel: string;
  /** The go-live grant's id; undefined for the admin token. */
  readonly grantId: string | undefined;
  /** The offer, checked by `inspectWhipOffer` (what it read travels with it). */
  readonly offer: InspectedOffer;
  /** The channel's own limits, from its record as just read from the bus (absent: the server's). */
  readonly channelLimits?: ChannelOriginLimits | null | undefined;
}

/** A replica id as one subject token. */
export function replicaToken(replica: string): string {
  return replica.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 200);
}

/**
 * The origin's WHIP sessions on this replica and its part in the fleet's: it answers offers
 * (claim the channel on the bus, spend the single-use grant, answer with werift), beats a
 * heartbeat on each session it terminates, ends sessions on request (a DELETE here, or relayed
 * from another replica over `origin.control.{replica}`), and ends the sessions of replicas that
 * stopped beating (their channel freed, `offline` signalled for those that were live).
 */
export class WhipOrigin {
  readonly replica: string;
  private readonly now: () => number;
  private readonly local = new Map<string, WhipSession>();
  /** Sessions claimed here whose offer is still being answered: theirs, not orphans, though not yet in `local`. */
  private readonly answering = new Set<string>();
  private control: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly shedListeners = new Set<(when: LadderShedTime) => void>();

  private constructor(private readonly deps: WhipOriginDeps) {
    this.replica = deps.replica ?? defaultLeaseHolder();
    this.now = deps.now ?? Date.now;
  }

  static async start(deps: WhipOriginDeps): Promise<WhipOrigin> {
    const origin = new WhipOrigin(deps);
    await deps.bus.ensureStreams([STREAMS.originControl]);
    origin.control = deps.bus.subscribe(SUBJECTS.originControl(replicaToken(origin.replica)), (_subject, data) => {
      let request: z.infer<typeof controlSchema>;
      try {
        request = decodeJson(data, controlSchema);
      } catch {
        return;
      }
      void origin.local.get(request.session_id)?.end(request.reason);
    });
    const beat = () => {
      void origin
        .housekeeping()
        .catch((error: unknown) => deps.logger.warn({ err: error }, 'origin heartbeat round failed'))
        .finally(() => {
          if (!origin.stopped) origin.timer = setTimeout(beat, deps.heartbeatMs);
        });
    };
    origin.timer = setTimeout(beat, deps.heartbeatMs);
    return origin;
  }

  /** Calls `listener` each time a session here replaces a ladder that fell behind real time by a lighter one (before going live, or while live). */
  onLadderShed(listener: (when: LadderShedTime) => void): void {
    this.shedListeners.add(listener);
  }

  /** Sessions this replica terminates (for tests and metrics). */
  get localSessions(): ReadonlyMap<string, WhipSession> {
    return this.local;
  }

  /**
   * Opens a session for `channel`: claims it (`ChannelAlreadyLiveError` when it has one), spends
   * the grant (`GrantAlreadyUsedError`; `grantId` undefined for the admin token), answers the
   * offer (`UnanswerableOfferError`). Nothing is left behind by a refusal: the claim is ended.
   */
  async offer(request: OfferRequest): Promise<{ session: WhipSession; answerSdp: string }> {
    if (this.stopped) throw new Error('the origin is stopping');
    const sessionId = ulid();
    this.answering.add(sessionId);
    try {
      return await this.claimAndAnswer(sessionId, request);
    } finally {
      this.answering.delete(sessionId);
    }
  }

  private async claimAndAnswer(sessionId: string, request: OfferRequest): Promise<{ session: WhipSession; answerSdp: string }> {
    const record = await this.deps.sessions.claim({ channel: request.channel, sessionId, replica: this.replica, grantId: request.grantId ?? 'admin', nowMs: this.now() });
    try {
      if (request.grantId !== undefined && !(await this.deps.grants.spend(request.grantId, { channel: request.channel, sessionId, nowMs: this.now() }))) {
        throw new GrantAlreadyUsedError();
      }
    } catch (error) {
      await this.deps.sessions.end(request.channel, sessionId, error instanceof GrantAlreadyUsedError ? 'grant-used' : 'error', this.now()).catch(() => undefined);
      throw error;
    }
    const { session, answerSdp } = await WhipSession.answer(record, request.offer, {
      sessions: this.deps.sessions,
      sink: this.deps.sinkFor(record),
      signals: this.deps.signals,
      limits: effectiveOriginLimits(this.deps.limits, request.channelLimits),
      workDir: join(this.deps.workRoot, sessionId),
      ...(this.deps.ffmpegPath ? { ffmpegPath: this.deps.ffmpegPath } : {}),
      logger: this.deps.logger,
      now: this.now,
      onEnded: () => this.local.delete(sessionId),
      onLadderShed: (when) => {
        for (const listener of this.shedListeners) listener(when);
      },
    });
    if (!session.ended) this.local.set(sessionId, session);
    return { session, answerSdp };
  }

  /**
   * Ends session `sessionId` for `reason` wherever it runs: here at once; on another replica by
   * a request over the bus, then waiting for its record to end (and ending it from here when
   * that replica does not answer: it is presumed gone). `not-found` when no such session runs,
   * also when this replica's session was already ending (its media timed out, an earlier
   * DELETE): that end is waited for, and its reason stays.
   */
  async end(sessionId: string, reason: string): Promise<'ended' | 'not-found'> {
    const mine = this.local.get(sessionId);
    if (mine) {
      const endingAlready = mine.ended;
      await mine.end(reason);
      return endingAlready ? 'not-found' : 'ended';
    }
    const record = await this.deps.sessions.findById(sessionId);
    if (!record || record.state === 'ended') return 'not-found';
    await this.deps.bus.publish(SUBJECTS.originControl(replicaToken(record.replica)), encodeJson({ action: 'end', session_id: sessionId, reason }));
    const deadline = Date.now() + (this.deps.relayWaitMs ?? DEFAULT_RELAY_WAIT_MS);
    while (Date.now() < deadline) {
      const current = await this.deps.sessions.get(record.channel);
      if (!current || current.session_id !== sessionId || current.state === 'ended') return 'ended';
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.endForeign(record, reason);
    return 'ended';
  }

  /** One round: heartbeats for this replica's sessions, then the sessions of silent replicas ended. */
  async housekeeping(): Promise<void> {
    const nowMs = this.now();
    await Promise.all(
      [...this.local.values()].map(async (session) => {
        if (session.ended) return;
        const beaten = await this.deps.sessions.heartbeat(session.channel, session.sessionId, nowMs);
        // Ended on the bus by someone else (a reaper that thought this replica gone): stop the media too.
        if (!beaten) await session.end('ended-elsewhere');
      }),
    );
    for (const record of await this.deps.sessions.list()) {
      // An offer still being answered here is claimed before it is local: a round that runs meanwhile must not take it for an orphan.
      if (record.state === 'ended' || this.local.has(record.session_id) || this.answering.has(record.session_id)) continue;
      if (record.replica !== this.replica && nowMs - Date.parse(record.heartbeat_at) <= this.deps.staleAfterMs) continue;
      await this.endForeign(record, 'replica-stopped');
    }
  }

  /** Ends a session this replica does not terminate, and signals its end when it had gone live (only the caller whose compare-and-set ended it). */
  private async endForeign(record: OriginSession, reason: string): Promise<void> {
    const ended = await this.deps.sessions.end(record.channel, record.session_id, reason, this.now());
    if (!ended) return;
    this.deps.logger.info({ session_id: record.session_id, channel: record.channel, replica: record.replica, reason }, 'origin session of another replica ended');
    if (record.state === 'live') await this.deps.signals.offline(ended);
  }

  /** Stops taking offers and ends this replica's sessions (`replica-stopped`), each signalled. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.control?.unsubscribe();
    await Promise.all([...this.local.values()].map((session) => session.end('replica-stopped')));
  }
}
