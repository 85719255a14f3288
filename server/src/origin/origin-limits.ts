import type { WhipSessionLimits } from './whip-session.js';

/**
 * A channel's own origin limits as its record on the bus keeps them (`origin_limits` of the
 * channel config): each optional, each meant to lower the server-wide one.
 */
export interface ChannelOriginLimits {
  readonly max_bitrate_kbps?: number | undefined;
  readonly max_short_side_px?: number | undefined;
}

/** The server-wide ceiling a channel's limits are held under (`ORIGIN_MAX_BITRATE_KBPS`, `ORIGIN_MAX_SHORT_SIDE_PX`). */
export interface OriginLimitCeiling {
  readonly maxBitrateKbps: number;
  readonly maxShortSidePx: number;
}

/**
 * The limits one session of a channel runs under: the server's, lowered by the channel's where
 * it sets a lower one. Never raised: the server's limit is the ceiling even when a channel's
 * record holds more (the server's may have been lowered after the channel was written, or the
 * record written by a replica with another configuration). Read when an offer is answered,
 * from the channel record just read from the bus, so every replica answers a channel's offers
 * with its current limits; a change while a session runs applies to its next session.
 */
export function effectiveOriginLimits(server: WhipSessionLimits, channel: ChannelOriginLimits | null | undefined): WhipSessionLimits {
  return {
    ...server,
    maxBitrateKbps: lowerOf(server.maxBitrateKbps, channel?.max_bitrate_kbps),
    maxShortSidePx: lowerOf(server.maxShortSidePx, channel?.max_short_side_px),
  };
}

function lowerOf(ceiling: number, requested: number | undefined): number {
  return requested === undefined ? ceiling : Math.min(ceiling, requested);
}

/**
 * Why `requested` does not fit under `ceiling` (the admin API's 400 message, naming the field
 * and the server's setting), or undefined when each limit it sets is at most the server's.
 */
export function originLimitsAboveCeiling(requested: ChannelOriginLimits | null | undefined, ceiling: OriginLimitCeiling): string | undefined {
  const problems: string[] = [];
  if (requested?.max_bitrate_kbps !== undefined && requested.max_bitrate_kbps > ceiling.maxBitrateKbps) {
    problems.push(`origin_limits.max_bitrate_kbps: ${requested.max_bitrate_kbps} is above this server's maximum of ${ceiling.maxBitrateKbps} (ORIGIN_MAX_BITRATE_KBPS)`);
  }
  if (requested?.max_short_side_px !== undefined && requested.max_short_side_px > ceiling.maxShortSidePx) {
    problems.push(`origin_limits.max_short_side_px: ${requested.max_short_side_px} is above this server's maximum of ${ceiling.maxShortSidePx} (ORIGIN_MAX_SHORT_SIDE_PX)`);
  }
  return problems.length === 0 ? undefined : `${problems.join('; ')}: a channel can lower the origin limits, not raise them`;
}
