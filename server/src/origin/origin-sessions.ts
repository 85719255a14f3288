import { BUCKETS, SKIP, jsonCodec, typedKv, type Bus, type TypedKv } from '../bus/index.js';
import { originPlaylistPath, originSessionSchema, type OriginSession } from './origin-session.js';

/** The bus bucket of WHIP sessions, one key per channel (`{publisher}.{slug}`). */
export const ORIGIN_SESSIONS_BUCKET = BUCKETS.originSessions;
/** Ended records stay this long (for `GET`-style look-ups and the replay); a live one is rewritten by every heartbeat. */
export const ORIGIN_SESSION_RECORD_TTL_MS = 24 * 60 * 60 * 1000;

/** The channel already has a session that has not ended (on this replica or another). */
export class ChannelAlreadyLiveError extends Error {
  constructor(readonly existing: OriginSession) {
    super(`the channel ${existing.channel} already has a live session (${existing.state}) from another publisher connection`);
    this.name = 'ChannelAlreadyLiveError';
  }
}

/** `{publisher}/{slug}` as a KV key. */
export function originSessionKey(channel: string): string {
  return channel.replace('/', '.');
}

export interface ClaimRequest {
  readonly channel: string;
  readonly sessionId: string;
  readonly replica: string;
  readonly grantId: string;
  readonly nowMs: number;
}

/**
 * The sessions of our origin on the bus: one record per channel, written only by compare-and-set,
 * so two offers for one channel on two replicas cannot both win (`claim`), and a change by the
 * terminating replica never overwrites an end decided elsewhere (a reaper on another replica, a
 * relayed DELETE): every change names the session it is for and leaves an ended record alone.
 */
export class OriginSessions {
  private constructor(private readonly kv: TypedKv<OriginSession>) {}

  static async open(bus: Bus): Promise<OriginSessions> {
    const bucket = await bus.kv(ORIGIN_SESSIONS_BUCKET, { ttlMs: ORIGIN_SESSION_RECORD_TTL_MS });
    return new OriginSessions(typedKv(bucket, jsonCodec(originSessionSchema, { validateWrites: true })));
  }

  /** Creates the channel's session in `connecting`, or throws `ChannelAlreadyLiveError` when one has not ended. */
  async claim(request: ClaimRequest): Promise<OriginSession> {
    const at = new Date(request.nowMs).toISOString();
    const fresh: OriginSession = {
      session_id: request.sessionId,
      channel: request.channel,
      replica: request.replica,
      state: 'connecting',
      grant_id: request.grantId,
      created_at: at,
      playlist_path: originPlaylistPath(request.channel, request.sessionId),
      heartbeat_at: at,
    };
    let occupant: OriginSession | undefined;
    const result = await this.kv.update(originSessionKey(request.channel), (current) => {
      occupant = current && current.state !== 'ended' ? current : undefined;
      return occupant ? SKIP : fresh;
    });
    if (occupant) throw new ChannelAlreadyLiveError(occupant);
    return result.value!;
  }

  async get(channel: string): Promise<OriginSession | undefined> {
    return (await this.kv.get(originSessionKey(channel)))?.value;
  }

  /** The session with this id, wherever it is (one read per channel with a record: only for a DELETE this replica does not terminate). */
  async findById(sessionId: string): Promise<OriginSession | undefined> {
    for (const session of await this.list()) if (session.session_id === sessionId) return session;
    return undefined;
  }

  async list(): Promise<OriginSession[]> {
    const keys = await this.kv.bucket.keys();
    const entries = await Promise.all(keys.map((key) => this.kv.get(key).catch(() => undefined)));
    return entries.flatMap((entry) => (entry ? [entry.value] : []));
  }

  /**
   * Applies `change` to the session `sessionId` of `channel` while it has not ended; answers the
   * record written, or undefined when the key holds another session or an ended one.
   */
  async change(channel: string, sessionId: string, change: (session: OriginSession) => OriginSession | typeof SKIP): Promise<OriginSession | undefined> {
    let applied = false;
    const result = await this.kv.update(originSessionKey(channel), (current) => {
      applied = false;
      if (!current || current.session_id !== sessionId || current.state === 'ended') return SKIP;
      const next = change(current);
      applied = next !== SKIP;
      return next;
    });
    return applied ? result.value : undefined;
  }

  /** The first stored segment: the broadcast's start as viewers see it. */
  markLive(channel: string, sessionId: string, nowMs: number, media: Pick<OriginSession, 'video' | 'audio'>): Promise<OriginSession | undefined> {
    const at = new Date(nowMs).toISOString();
    return this.change(channel, sessionId, (session) =>
      session.state === 'connecting' ? { ...session, ...media, state: 'live', live_at: at, heartbeat_at: at } : SKIP,
    );
  }

  heartbeat(channel: string, sessionId: string, nowMs: number): Promise<OriginSession | undefined> {
    return this.change(channel, sessionId, (session) => ({ ...session, heartbeat_at: new Date(nowMs).toISOString() }));
  }

  /**
   * Ends the session with `reason` (the channel is free again). Answers the ended record when
   * this call ended it, undefined when it had already ended or was replaced: so whoever gets the
   * record is the one caller that signals the end.
   */
  end(channel: string, sessionId: string, reason: string, nowMs: number): Promise<OriginSession | undefined> {
    const at = new Date(nowMs).toISOString();
    return this.change(channel, sessionId, (session) => ({ ...session, state: 'ended', ended_at: at, ended_reason: reason.slice(0, 64) }));
  }
}
