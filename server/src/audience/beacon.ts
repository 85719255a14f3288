import { createHash } from 'node:crypto';
import {
  BEACON_EVENTS,
  BEACON_SURFACES,
  VIEWING_SESSION_PATTERN,
  formatChannelRef,
  originOf,
  parseCanonicalId,
  parseChannelRef,
  referralSourceOf,
  type BeaconEvent,
  type BeaconSurface,
} from '@live-upload/schema';
import { z } from 'zod';

/** The largest beacon body taken: a beacon is a few hundred bytes; anything near this is not one. */
export const MAX_BEACON_BODY_BYTES = 2048;

/** Clips and uploads numbered per viewing session (1, 2, ...); a page making more than this is not a viewer. */
const MAX_EVENT_NUMBER = 10_000;

/**
 * What `navigator.sendBeacon` posts (issue 27). `referrer` may be a full URL or an already
 * reduced source: either way only `referralSourceOf` of it is kept. `n` numbers a session's
 * clips and uploads, so a beacon delivered twice counts once.
 */
export const beaconBodySchema = z
  .object({
    canonical_id: z.string().max(128),
    channel: z.string().max(80),
    event: z.enum(BEACON_EVENTS),
    surface: z.enum(BEACON_SURFACES),
    /** The page embedding the element (`embed`, `oembed`, `badge`): its origin. */
    host_origin: z.string().max(512).optional(),
    referrer: z.string().max(2048).optional(),
    session: z.string().regex(VIEWING_SESSION_PATTERN, 'must be 16 to 64 random URL-safe characters, one per page view'),
    n: z.number().int().min(0).max(MAX_EVENT_NUMBER).optional(),
  })
  .strict();
export type BeaconBody = z.infer<typeof beaconBodySchema>;

/**
 * A beacon as it goes on the bus: reduced and stamped by the server. Nothing here names a
 * viewer: no address, no cookie, the session id only as a short hash, the referrer only as a
 * provider or an origin, the time only as the server's minute.
 */
export const audienceBeaconSchema = z.object({
  canonical_id: z.string(),
  channel: z.string(),
  event: z.enum(BEACON_EVENTS),
  surface: z.enum(BEACON_SURFACES),
  /** The embedding page's origin; null on our landing page or when unknown. */
  host: z.string().nullable(),
  source: z.string(),
  /** Short hash of the viewing session id. */
  session: z.string(),
  /** For `clip` and `upload`: the session's number of it; 0 otherwise. */
  n: z.number().int().nonnegative(),
  /** Server time the beacon arrived, ms since the epoch. */
  at: z.number().int().nonnegative(),
});
export type AudienceBeacon = z.infer<typeof audienceBeaconSchema>;

/** Why a well-formed beacon is refused before the channel is looked up. */
export type BeaconProblem = 'channel' | 'canonical_id' | 'foreign_canonical_id' | 'future_canonical_id';

export interface BeaconContext {
  /** Server time now (ms). */
  readonly now: number;
  /** Our public origin: the landing page's own, so moving within it is `direct`. */
  readonly publicOrigin: string;
  /** The request's `Origin` header, when the browser sent one: it wins over the body's `host_origin`. */
  readonly requestOrigin: string | undefined;
}

/** Canonical ids from a start later than this past now are refused (clock skew between replicas, no more). */
const FUTURE_SLACK_MS = 5 * 60 * 1000;

/** A short, fixed-size stand-in for a viewing session id: enough to count distinct sessions, nothing to look one up by. */
export function sessionHash(session: string): string {
  return createHash('sha256').update(session).digest('base64url').slice(0, 12);
}

/**
 * A validated body as the bus carries it, or the problem with it. Pure: the referrer is
 * reduced again here (a full URL sent by hand is never kept), the host origin is taken from the
 * browser's `Origin` header when present, and the canonical id must be a broadcast of the
 * channel named (a beacon cannot count toward another channel's numbers).
 */
export function reduceBeacon(body: BeaconBody, context: BeaconContext): { ok: true; beacon: AudienceBeacon } | { ok: false; problem: BeaconProblem } {
  const ref = parseChannelRef(body.channel);
  if (!ref) return { ok: false, problem: 'channel' };
  const parsed = parseCanonicalId(body.canonical_id);
  if (!parsed) return { ok: false, problem: 'canonical_id' };
  if (parsed.publisher !== ref.publisher || parsed.slug !== ref.slug) return { ok: false, problem: 'foreign_canonical_id' };
  if (parsed.startedAtMs > context.now + FUTURE_SLACK_MS) return { ok: false, problem: 'future_canonical_id' };
  // An embed's beacon comes from the host page (its Origin header is the host); the oEmbed iframe's
  // comes from our own page, so only the body can name who embeds it.
  const fromHeader = body.surface === 'embed' || body.surface === 'badge' ? originOf(context.requestOrigin) : undefined;
  const host = body.surface === 'landing' ? null : (fromHeader ?? originOf(body.host_origin) ?? null);
  const pageOrigin = body.surface === 'landing' ? context.publicOrigin : (host ?? undefined);
  const counted: BeaconEvent[] = ['clip', 'upload'];
  return {
    ok: true,
    beacon: {
      canonical_id: body.canonical_id,
      channel: formatChannelRef(ref),
      event: body.event,
      surface: body.surface as BeaconSurface,
      host,
      source: referralSourceOf(body.referrer, pageOrigin),
      session: sessionHash(body.session),
      n: counted.includes(body.event) ? (body.n ?? 0) : 0,
      at: context.now,
    },
  };
}
