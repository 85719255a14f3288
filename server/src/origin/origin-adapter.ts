import type { ChannelAccountEventAdapter, RawProviderEvent } from '../provider-adapter/index.js';
import { originSessionSchema, type OriginSession } from './origin-session.js';

/** The raw event types our origin publishes (`subscription_type` on `live.raw.origin`). */
export const ORIGIN_EVENT_TYPES = { online: 'stream.online', offline: 'stream.offline' } as const;

/**
 * Our origin as a provider (issue 23): raw events `provider: 'origin'` whose body is the WHIP
 * session record (`OriginSession`) become the channel's canonical online and offline, with
 * provenance `origin`, like a Twitch `stream.online`. There is no account to link: the session
 * names its channel, and the pipeline maps the event when that channel is configured.
 *
 * The online carries the player: `playback.hls` is the session's master playlist on our public
 * origin, absolute (a badge or landing page on another site loads it). `publicUrl` is read per
 * event because a server listening on port 0 learns its URL after the pipeline is built.
 */
export function originEventAdapter(publicUrl: () => string): ChannelAccountEventAdapter<OriginSession> {
  return {
    provider: 'origin',
    accountIsChannel: true,
    needsChannelConfig: false,
    read: (raw) => originSessionSchema.parse(JSON.parse(raw.body)),
    accountOf: (session) => session.channel,
    map(raw, session, channel) {
      const kind = kindOf(raw);
      if (kind === undefined) return undefined;
      if (session.channel !== channel) throw new RangeError(`origin session of ${session.channel} mapped for ${channel}`);
      const base = { channel, provider: 'origin' as const, eventId: raw.message_id, verified: true, providerStreamId: session.session_id };
      if (kind === 'online') {
        const startedAt = session.live_at ?? raw.message_timestamp;
        return {
          ...base,
          kind,
          eventTimeMs: Date.parse(startedAt),
          fields: { started_at: startedAt, playback: { hls: `${publicUrl().replace(/\/+$/, '')}${session.playlist_path}` } },
        };
      }
      return { ...base, kind, eventTimeMs: Date.parse(session.ended_at ?? raw.message_timestamp), fields: {} };
    },
  };
}

function kindOf(raw: RawProviderEvent): 'online' | 'offline' | undefined {
  if (raw.subscription_type === ORIGIN_EVENT_TYPES.online) return 'online';
  if (raw.subscription_type === ORIGIN_EVENT_TYPES.offline) return 'offline';
  return undefined;
}
