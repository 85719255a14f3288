import type { ChannelRef } from '@live-upload/schema';
import type { StreamConfig } from './bus.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Subjects on the bus. A channel becomes two tokens: `live.status.{publisher}.{slug}`. */
export const SUBJECTS = {
  /** Verified provider events, exactly as received: `live.raw.{provider}`. */
  liveRaw: (provider: string) => `live.raw.${provider}`,
  liveRawAll: 'live.raw.>',
  /** Canonical status changes of a channel. */
  liveStatus: (ref: ChannelRef) => `live.status.${ref.publisher}.${ref.slug}`,
  liveStatusAll: 'live.status.>',
  /** Channel timers (offline grace, coalesced flush), delivered when due through nak delays. */
  liveTimer: (ref: ChannelRef) => `live.timers.${ref.publisher}.${ref.slug}`,
  liveTimerAll: 'live.timers.>',
  /** Append-only audit records. */
  audit: (action: string) => `audit.${action}`,
  auditAll: 'audit.>',
  /** A tus upload finished: one moderation job per upload (msg id = upload id). */
  uploadsCompleted: 'uploads.completed',
  /** Moderation approved an upload (auto policy or a moderator): one promotion job (msg id `approved:{upload id}`). */
  uploadsApproved: 'uploads.approved',
  /** A promoted upload is public under /media/: `clips.published.{publisher}.{slug}` (msg id = upload id). */
  clipPublished: (ref: ChannelRef) => `clips.published.${ref.publisher}.${ref.slug}`,
  clipPublishedAll: 'clips.published.>',
  /** One outbound webhook delivery job per subscriber and event: `outbound.deliveries.{subscriber id}` (msg id = delivery id). */
  outboundDelivery: (subscriberId: string) => `outbound.deliveries.${subscriberId}`,
  outboundDeliveryAll: 'outbound.deliveries.>',
  /** A YouTube WebSub notification named a video: confirm it with the Data API (msg id = the hint's key). */
  youtubeHints: 'youtube.hints',
  /** One replay job per broadcast (issue 21): the VOD worker's work queue (msg id `vod:{canonical_id}`). */
  vodJobs: 'vod.jobs',
  /** A replay's transcode progress, throttled: `vod.progress.{publisher}.{slug}` (for SSE relays; losing one is harmless). */
  vodProgress: (ref: ChannelRef) => `vod.progress.${ref.publisher}.${ref.slug}`,
  vodProgressAll: 'vod.progress.>',
  /** Our origin (issue 23): a request to the replica terminating a WHIP session (`origin.control.{replica token}`), e.g. a DELETE another replica received. */
  originControl: (replicaToken: string) => `origin.control.${replicaToken}`,
  originControlAll: 'origin.control.>',
  /** Audience beacons (issue 27), reduced by the beacon route: `audience.beacons.{publisher}.{slug}`; aggregated, then gone. */
  audienceBeacons: (ref: ChannelRef) => `audience.beacons.${ref.publisher}.${ref.slug}`,
  audienceBeaconsAll: 'audience.beacons.>',
} as const;

/** Streams the server creates at start. */
export const STREAMS = {
  liveRaw: {
    name: 'LIVE_RAW',
    subjects: [SUBJECTS.liveRawAll],
    retention: 'limits',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: 10 * 60 * 1000,
  },
  liveStatus: {
    name: 'LIVE_STATUS',
    subjects: [SUBJECTS.liveStatusAll],
    retention: 'limits',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: 2 * 60 * 1000,
  },
  liveTimers: {
    name: 'LIVE_TIMERS',
    subjects: [SUBJECTS.liveTimerAll],
    retention: 'workqueue',
    maxAgeMs: DAY_MS,
    duplicateWindowMs: 2 * 60 * 1000,
  },
  audit: {
    name: 'AUDIT',
    subjects: [SUBJECTS.auditAll],
    retention: 'limits',
    maxAgeMs: 0,
    duplicateWindowMs: 2 * 60 * 1000,
  },
  /** Moderation work queue: an acked job is gone. The long window makes a repeated completion a no-op. */
  uploads: {
    name: 'UPLOADS',
    subjects: [SUBJECTS.uploadsCompleted, SUBJECTS.uploadsApproved],
    retention: 'workqueue',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: DAY_MS,
  },
  /** Published clips with their provenance, for outbound webhooks and cross-posting. Kept 30 days. */
  clips: {
    name: 'CLIPS',
    subjects: [SUBJECTS.clipPublishedAll],
    retention: 'limits',
    maxAgeMs: 30 * DAY_MS,
    duplicateWindowMs: DAY_MS,
  },
  /**
   * Outbound webhook deliveries: a work queue; a failed attempt is nak'ed with the retry delay
   * (about three days in all), so jobs must outlive the schedule. A re-fanned event is a duplicate.
   */
  outbound: {
    name: 'OUTBOUND',
    subjects: [SUBJECTS.outboundDeliveryAll],
    retention: 'workqueue',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: DAY_MS,
  },
  /** Work queue of YouTube hints; an acked hint is gone. Hub retries of one notification dedupe by msg id. */
  youtubeHints: {
    name: 'YOUTUBE_HINTS',
    subjects: [SUBJECTS.youtubeHints],
    retention: 'workqueue',
    maxAgeMs: DAY_MS,
    duplicateWindowMs: 10 * 60 * 1000,
  },
  /**
   * Work queue of replay jobs, one per broadcast: an acked job is gone. The day-long window makes
   * a second enqueue of the same broadcast (a repeated OFFLINE) a duplicate.
   */
  vodJobs: {
    name: 'VOD_JOBS',
    subjects: [SUBJECTS.vodJobs],
    retention: 'workqueue',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: DAY_MS,
  },
  /** Replay transcode progress, for relays that join late; kept an hour. */
  vodProgress: {
    name: 'VOD_PROGRESS',
    subjects: [SUBJECTS.vodProgressAll],
    retention: 'limits',
    maxAgeMs: 60 * 60 * 1000,
    duplicateWindowMs: 60 * 1000,
  },
  /** Requests between origin replicas (end this WHIP session): read by a live subscription, so kept only a minute. */
  originControl: {
    name: 'ORIGIN_CONTROL',
    subjects: [SUBJECTS.originControlAll],
    retention: 'limits',
    maxAgeMs: 60 * 1000,
    duplicateWindowMs: 60 * 1000,
  },
  /**
   * Audience beacons (issue 27): a work queue, so an aggregated beacon is removed at once; one
   * not aggregated within an hour is dropped too (raw beacons are never kept). The short window
   * dedupes a beacon a client sent twice (msg id from its session, event and number).
   */
  audienceBeacons: {
    name: 'AUDIENCE_BEACONS',
    subjects: [SUBJECTS.audienceBeaconsAll],
    retention: 'workqueue',
    maxAgeMs: 60 * 60 * 1000,
    duplicateWindowMs: 2 * 60 * 1000,
  },
} as const satisfies Record<string, StreamConfig>;

/** KV buckets. */
export const BUCKETS = {
  /** Per channel: admin config and provider links (`{publisher}/{slug}`). */
  channelConfig: 'channel-config',
  /** Per provider account: which channel it links to (`{provider}.{account id}`). */
  providerLinks: 'provider-links',
  /**
   * Per channel: the state machine's state, including the canonical record and its seen set
   * (the provider message ids applied there, TTL'd, behind the raw stream's dup window).
   */
  channelState: 'channel-state',
  /** Per upload id: the upload record (channel, grant, status, checks). */
  uploads: 'uploads',
  /** Per blocklist entry id: perceptual hashes of a known bad clip, added by an admin. */
  hashBlocklist: 'hash-blocklist',
  /** Per audio reference id: the Chromaprint fingerprint of audio a rights holder or admin added (never the file), its title and owner. */
  audioReferences: 'audio-references',
  /**
   * The moderation rules (issue 22): key `default`, and `{publisher}/{slug}` for a channel with its
   * own; `{ rules, updated_by, updated_at }`, versioned by the KV revision, written by compare-and-set.
   */
  moderationRules: 'moderation-rules',
  /** Per subscriber id: an outbound webhook subscriber (URL, filters, secrets). */
  outboundSubscribers: 'outbound-subscribers',
  /** Per delivery id: the state of an outbound webhook delivery (TTL'd). */
  outboundDeliveries: 'outbound-deliveries',
  /** Per delivery id: deliveries that exhausted their retries or could not be sent; kept until replayed or removed. */
  outboundDeadLetters: 'outbound-dead-letters',
  /** Per YouTube channel id: our WebSub subscription (secret, pending request, verified lease). */
  youtubeWebsub: 'youtube-websub',
  /** Per video id: videos we last saw live (what was published for them), to detect changes and the end. */
  youtubeLiveVideos: 'youtube-live-videos',
  /** Bluesky Jetstream consumer: the cursor (`time_us` of the last frame published), key `cursor`. */
  blueskyJetstream: 'bluesky-jetstream',
  /** Per channel: what the Bluesky status write-back last wrote (canonical id, seq, record present). */
  blueskyStatus: 'bluesky-status',
  /** Per provider account (`{provider}.{account id}`): a linked account with its sealed credentials and link status. */
  linkedAccounts: 'linked-accounts',
  /** Per OAuth `state`: a pending authorization (channel, provider, PKCE verifier, return_to); one use, TTL'd. */
  oauthStates: 'oauth-states',
  /** Per fleet-wide role (`youtube-poller`, `bluesky-jetstream`, `twitch-subscriptions`): the process holding it, `{ holder, expires_at }`, renewed with compare-and-set. */
  leases: 'leases',
  /** Per Pacific day (`quota.{YYYY-MM-DD}`): the YouTube Data API units the fleet claimed, and Google's `quotaExceeded`. */
  youtubeQuota: 'youtube-quota',
  /**
   * Per upload id: the tus lock of the request writing it, `{ token, expires_at_ms, release_requested }`,
   * shared by every replica; renewed while held, TTL'd so a dead holder's key goes.
   */
  uploadLocks: 'upload-locks',
  /**
   * Per upload id of an incomplete upload on S3: the multipart parts stored so far (number, ETag,
   * size), written by the replica that stored each; gone once the upload completes or expires.
   */
  uploadParts: 'upload-parts',
  /** Per broadcast (`{publisher}.{slug}.{ulid}`): its replay record (state, progress, renditions, URLs), newest ulid first per channel. */
  vods: 'vods',
  /** Per publisher (`{publisher}`): the VOD jobs transcoding for it across the fleet (slots with expiry), for the per-account cap. */
  vodSlots: 'vod-slots',
  /**
   * Per broadcast being archived (`{publisher}.{slug}.{ulid}`): the live capture's record (HLS URL,
   * following or ending), written from `live.status.>`, watched by every replica; gone once its job is enqueued.
   */
  vodCaptures: 'vod-captures',
  /** Per broadcast Twitch carried (`{publisher}.{slug}.{ulid}`): the Twitch user and stream ids its LIVE records named, for the archive look-up at OFFLINE; TTL'd. */
  twitchBroadcasts: 'twitch-broadcasts',
  /** Per channel (`{publisher}.{slug}`): its WHIP session of our origin (issue 23, `originSessionSchema`), claimed and ended by compare-and-set; TTL'd a day after the last write. */
  originSessions: 'origin-sessions',
  /** Per go-live grant id: the grant opened a session (create-only: a grant goes live once, fleet-wide); TTL'd past every grant's life. */
  originUsedGrants: 'origin-used-grants',
  /** Per broadcast minute (`{publisher}.{slug}.{ulid}.{epoch minute}`): our viewers by source and surface, clips, uploads, providers' viewer counts (issue 27); TTL'd. */
  audienceMinutes: 'audience-minutes',
  /** Per broadcast (`{publisher}.{slug}.{ulid}`): its running engagement (watch time, clips, uploads, viewers now) for trending (issue 27); TTL'd. */
  audienceTotals: 'audience-totals',
} as const;

/** Durable consumer names. */
export const CONSUMERS = {
  pipeline: 'pipeline',
  timers: 'channel-timers',
  /** The moderation worker: `uploads.completed` only (work-queue consumers must not overlap). */
  moderation: 'moderation',
  /** The promotion worker: `uploads.approved` only. */
  promotion: 'promotion',
  /** Fans `live.status.>` out into outbound delivery jobs. */
  outboundLiveStatus: 'outbound-live-status',
  /** Fans `clips.published.>` out into outbound delivery jobs. */
  outboundClips: 'outbound-clips',
  /** Sends outbound webhook deliveries (the OUTBOUND work queue). */
  outboundDelivery: 'outbound-delivery',
  /** Confirms YouTube hints through the Data API. */
  youtubeConfirmer: 'youtube-confirmer',
  /** Writes the linked Bluesky account's `app.bsky.actor.status` from `live.status.>`. */
  blueskyStatusWriter: 'bluesky-status-writer',
  /** The VOD worker: `vod.jobs` (VOD_JOBS). */
  vodWorker: 'vod-worker',
  /** The live capture: `live.status.>` into capture records (which broadcasts to archive, which ended). */
  vodCapture: 'vod-capture',
  /** Looks up the Twitch archive (Helix Get Videos) of a broadcast that went OFFLINE from `live.status.>`. */
  twitchArchiveLookup: 'twitch-archive-lookup',
  /** Folds audience beacons (AUDIENCE_BEACONS) into per-minute counters (issue 27). */
  audienceBeacons: 'audience-beacons',
  /** Records the providers' viewer counts from `live.status.>` beside ours, per minute (issue 27). */
  audienceProviderViewers: 'audience-provider-viewers',
} as const;
