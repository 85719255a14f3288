import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { parseReturnToOrigins } from './linking/return-to.js';
import { parseKeyRing, type VaultKey } from './linking/token-vault.js';
import type { OutboundSettings } from './outbound/index.js';
import type { StorageConfig } from './storage/storage-config.js';
import { InvalidStorageSetting, storageConfigFrom } from './storage/storage-settings.js';

const booleanFlag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((value) => ['1', 'true', 'yes', 'on'].includes(value));

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/**
 * Work-queue workers a process can run; every process runs them all unless `WORKERS` says otherwise.
 * `vod-capture`: follows live channels' HLS into replay archives (one replica per broadcast, by lease).
 * `vod`: turns finished broadcasts' archives into replay ladders (the VOD_JOBS work queue).
 * `origin`: takes WHIP offers and terminates WebRTC sessions into live ladders (issue 23; `ORIGIN_*`).
 * `audience`: folds audience beacons into per-minute counters (issue 27; the AUDIENCE_BEACONS work queue).
 */
export const WORKER_KINDS = ['moderation', 'transcode', 'vod-capture', 'vod', 'origin', 'audience'] as const;
export type WorkerKind = (typeof WORKER_KINDS)[number];

/** Our origin's settings (issue 23): see the `ORIGIN_*` and `WHIP_*` variables. */
export interface OriginConfig {
  readonly mediaTimeoutMs: number;
  readonly maxBitrateKbps: number;
  readonly maxShortSidePx: number;
  readonly ladderRungs: readonly number[];
  readonly ladderPreset: string;
  readonly maxSessions: number;
  readonly heartbeatMs: number;
  /** At least two heartbeats. */
  readonly staleAfterMs: number;
  readonly whipMaxOfferBytes: number;
  readonly whipOffersPerMinute: number;
}

const durationMs = (defaultMs: number) => z.coerce.number().int().min(0).max(7 * 24 * 3600 * 1000).default(defaultMs);

/** Every environment variable the server reads, with its default. Nothing else reads `process.env`. */
const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  NATS_URL: z.string().regex(/^(nats|tls|wss?):\/\//, 'must be a nats://, tls:// or ws(s):// URL').optional(),
  /** Copies NATS JetStream keeps of every stream and KV bucket: 1 on a single server, 3 on a three-node cluster. */
  BUS_REPLICAS: z.string().trim().regex(/^[1-5]$/, 'must be a whole number from 1 to 5 (JetStream keeps at most 5 replicas)').transform(Number).default(1),
  /** Production on the in-memory bus, which loses its state at every restart: only when the operator says so. */
  ALLOW_EPHEMERAL_BUS: booleanFlag.default(false),
  /** Without NATS_URL: start a local `nats-server -js` with a file store (`auto`: when installed, else the in-memory bus). */
  EMBEDDED_NATS: z.enum(['auto', 'on', 'off']).optional(),
  EMBEDDED_NATS_DIR: z.string().refine((value) => !value.includes('\0'), 'must be a path').optional(),
  METRICS_TOKEN: z.string().regex(/^[\x21-\x7e]{16,512}$/, 'must be 16-512 printable ASCII characters').optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().min(1).optional(),
  TWITCH_EVENTSUB_SECRET: z
    .string()
    .regex(/^[\x21-\x7e]{10,100}$/, 'must be 10-100 printable ASCII characters, as Twitch requires')
    .optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  OFFLINE_GRACE_MS: durationMs(30_000),
  COALESCE_MS: durationMs(2_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DEMO: booleanFlag.optional(),
  STATUS_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(120),
  /** Audience beacons a client network may send a minute (issue 27); a viewer sends about two; a NAT shares one allowance. */
  BEACON_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(120),
  SSE_MAX_CHANNELS: z.coerce.number().int().min(1).max(1000).default(50),
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(1000).max(20_000).default(15_000),
  REQUEST_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(10 * 60 * 1000).default(20_000),
  REQUEST_BODY_MIN_BYTES_PER_SECOND: z.coerce.number().int().min(1).max(1024 ** 3).default(500),
  SSE_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  SSE_MAX_CONNECTIONS_PER_CLIENT: z.coerce.number().int().min(1).max(1_000_000).default(64),
  /**
   * Reverse proxies in front of the server whose `X-Forwarded-For` is trusted: 0 (the default)
   * trusts none and a client is its socket's address; 1 behind one proxy (compose's nginx), and
   * so on. Only the last N addresses of the header are read, so a client cannot forge its way
   * past the per-client limits by sending its own `X-Forwarded-For`.
   */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  UPLOAD_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  QUARANTINE_DIR: z.string().refine((value) => !value.includes('\0'), 'must be a path').optional(),
  UPLOAD_MAX_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(500 * 1024 * 1024),
  UPLOAD_ALLOWED_TYPES: z
    .string()
    .transform((value) => value.split(',').map((type) => type.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(MEDIA_TYPE, 'must be a comma-separated list of media types (type/subtype)')).min(1))
    .default(['video/mp4', 'video/webm', 'video/quicktime']),
  UPLOAD_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(10),
  UPLOAD_CHANNEL_MAX_PENDING: z.coerce.number().int().min(1).max(100_000).default(20),
  UPLOAD_CLIENT_MAX_PENDING: z.coerce.number().int().min(1).max(100_000).default(5),
  UPLOAD_START_WINDOW_MS: z.coerce.number().int().min(1_000).max(15 * 60 * 1000).default(2 * 60 * 1000),
  UPLOAD_INCOMPLETE_TTL_MS: z.coerce.number().int().min(60_000).max(7 * 24 * 3600 * 1000).default(60 * 60 * 1000),
  /** The longest viewer upload (a clip, a recording, a file) the media check accepts, in seconds. */
  UPLOAD_MAX_DURATION_S: z.coerce.number().int().min(1).max(24 * 3600).default(600),
  /** The largest publisher recording (`source: broadcast`, a replay upload), in bytes: a whole broadcast, not a clip. */
  VOD_UPLOAD_MAX_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(8 * 1024 * 1024 * 1024),
  /** The longest publisher recording the media check accepts, in seconds (no clip length applies to it). */
  VOD_UPLOAD_MAX_DURATION_S: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(12 * 3600),
  MODERATION_POLICY: z.enum(['review', 'auto']).default('review'),
  MODERATOR_TOKENS: z
    .string()
    .transform((value) => value.split(',').map((token) => token.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[\x21-\x7e]{16,512}$/, 'must be a comma-separated list of tokens of at least 16 printable characters')))
    .default([]),
  MODERATION_CHANNEL_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(2),
  MEDIA_DIR: z.string().refine((value) => !value.includes('\0'), 'must be a path').optional(),
  /** Unset: quarantine and media on the file system. `http(s)://host:port` (an S3-compatible server) or `s3://` (Amazon S3): two buckets shared by a fleet. */
  STORAGE_URL: z.string().max(2048).optional(),
  STORAGE_QUARANTINE_BUCKET: z.string().max(255).optional(),
  STORAGE_MEDIA_BUCKET: z.string().max(255).optional(),
  STORAGE_REGION: z.string().max(64).optional(),
  STORAGE_PATH_STYLE: booleanFlag.optional(),
  TRANSCODE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** Replay ladders running at once in this process (each is one ffmpeg encoding every rung). */
  VOD_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  /** Replay ladders of one publisher running at once across the whole fleet. */
  VOD_PER_PUBLISHER_LIMIT: z.coerce.number().int().min(1).max(64).default(2),
  /** Our origin (issue 23): no RTP for this long ends a WHIP session (`media-timeout`). */
  ORIGIN_MEDIA_TIMEOUT_MS: z.coerce.number().int().min(1000).max(10 * 60 * 1000).default(10_000),
  /** The most a publisher may send (video + audio, kbit/s): asked for in the answer (`b=AS`), a sustained 25 % more ends the session (`limit`). */
  ORIGIN_MAX_BITRATE_KBPS: z.coerce.number().int().min(100).max(100_000).default(8000),
  /** The largest picture a publisher may send, by its short side in pixels (1080: 1920x1080 or portrait 1080x1920). */
  ORIGIN_MAX_SHORT_SIDE_PX: z.coerce.number().int().min(144).max(4320).default(1080),
  /** The live ladder's rungs by short side, never above the publisher's own size (comma-separated). */
  ORIGIN_LADDER_RUNGS: z
    .string()
    .transform((value) => value.split(',').map((rung) => Number(rung.trim())))
    .pipe(z.array(z.number().int().min(144).max(4320)).min(1).max(6))
    .default([1080, 720, 480, 360]),
  /** x264 preset of the live ladder: it must keep up in real time. */
  ORIGIN_LADDER_PRESET: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium']).default('veryfast'),
  /**
   * WHIP sessions this process terminates at once (each is one ffmpeg encoding every rung); more
   * get a 503. By default one per CPU: `bench/origin` measured one 720p30 publisher's ladder
   * (720p, 480p, 360p at `veryfast`) keeping up per core, and a ladder that cannot keep up falls
   * behind for every viewer of it.
   */
  ORIGIN_MAX_SESSIONS: z.coerce.number().int().min(1).max(256).default(() => Math.max(1, availableParallelism())),
  /** The terminating replica rewrites each session's heartbeat this often; a session silent for ORIGIN_STALE_AFTER_MS is ended by another replica. */
  ORIGIN_HEARTBEAT_MS: z.coerce.number().int().min(200).max(60_000).default(5000),
  ORIGIN_STALE_AFTER_MS: z.coerce.number().int().min(1000).max(10 * 60 * 1000).default(20_000),
  /** The largest WHIP SDP offer taken (bytes); a browser's is 4 to 10 KiB. */
  WHIP_MAX_OFFER_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024).default(64 * 1024),
  /** WHIP offers per client address a minute, then 429. */
  WHIP_OFFERS_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(10),
  /** The work-queue workers this process runs: `moderation`, `transcode`, `vod-capture`, `vod`, `origin`, `audience`, or `none` (an API-only replica of a fleet). */
  WORKERS: z
    .string()
    .transform((value) => value.split(',').map((worker) => worker.trim().toLowerCase()).filter(Boolean))
    .pipe(z.union([z.tuple([z.literal('none')]), z.array(z.enum(WORKER_KINDS)).min(1)]))
    .transform((workers) => workers.filter((worker): worker is WorkerKind => worker !== 'none'))
    .default([...WORKER_KINDS]),
  QUARANTINE_TTL_MS: z.coerce.number().int().min(60_000).max(90 * 24 * 3600 * 1000).default(72 * 3600 * 1000),
  LIFECYCLE_SWEEP_MS: z.coerce.number().int().min(1000).max(24 * 3600 * 1000).default(10 * 60 * 1000),
  OUTBOUND_ALLOW_PRIVATE_HOSTS: z
    .string()
    .transform((value) => value.split(',').map((host) => host.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^(?:[a-z0-9.-]{1,253}|\[?[0-9a-f:.]{2,45}\]?)$/, 'must be a comma-separated list of host names or IP addresses')).max(100))
    .default([]),
  OUTBOUND_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  OUTBOUND_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  OUTBOUND_RETRY_SCHEDULE_MS: z
    .string()
    .transform((value) => value.split(',').map((delay) => delay.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^\d{1,9}$/, 'must be a comma-separated list of delays in milliseconds')).max(30))
    .transform((delays) => delays.map(Number))
    .refine((delays) => delays.reduce((sum, delay) => sum + delay, 0) <= 6 * 24 * 3600 * 1000, 'must add up to at most 6 days (deliveries are kept 7)')
    .optional(),
  /**
   * Deliveries to one receiver in flight at once in this process (a subscriber's own
   * `max_in_flight` wins). Per replica: every replica takes jobs from the one OUTBOUND work
   * queue and counts its own, so a fleet of N sends a receiver up to N times this at once.
   */
  OUTBOUND_MAX_IN_FLIGHT_PER_SUBSCRIBER: z.coerce.number().int().min(1).max(64).default(8),
  /** Delivery attempts in flight in this process across receivers; per replica as well (a fleet: N times this). */
  OUTBOUND_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(64),
  /** Twitch app credentials: with both set, EventSub subscriptions are reconciled through Helix. */
  TWITCH_CLIENT_ID: z.string().regex(/^[a-z0-9]{10,64}$/, 'must be a Twitch client id (lowercase letters and digits)').optional(),
  TWITCH_CLIENT_SECRET: z.string().regex(/^[\x21-\x7e]{10,128}$/, 'must be 10-128 printable ASCII characters').optional(),
  TWITCH_API_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://api.twitch.tv'),
  TWITCH_AUTH_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://id.twitch.tv'),
  TWITCH_SUBSCRIPTION_RECONCILE_MS: z.coerce.number().int().min(10_000).max(24 * 3600 * 1000).default(10 * 60 * 1000),
  /** YouTube Data API key: with it set, YouTube WebSub, confirmation and polling run. */
  YOUTUBE_API_KEY: z.string().regex(/^[A-Za-z0-9_-]{10,128}$/, 'must be a Google API key').optional(),
  YOUTUBE_WEBSUB_HUB_URL: z.url({ protocol: /^https?$/ }).default('https://pubsubhubbub.appspot.com/subscribe'),
  YOUTUBE_DATA_API_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://www.googleapis.com'),
  /** The Google Cloud project's whole daily Data API quota, shared by every process on the bus (a per-day ledger in KV), not a per-process share. */
  YOUTUBE_DAILY_QUOTA_UNITS: z.coerce.number().int().min(100).max(10_000_000).default(10_000),
  YOUTUBE_POLL_INTERVAL_MS: z.coerce.number().int().min(30_000).max(60_000).default(45_000),
  YOUTUBE_WEBSUB_LEASE_SECONDS: z.coerce.number().int().min(3600).max(864_000).default(432_000),
  /** Whether this process takes part in polling YouTube: every replica may keep it on, a lease on the bus (`leases/youtube-poller`) lets one of them poll at a time. */
  YOUTUBE_POLL: booleanFlag.default(true),
  /** Keys sealing linked accounts' tokens (AES-256-GCM): `kid:base64-32-bytes,...`; the first seals, all open. */
  TOKEN_ENCRYPTION_KEYS: z.string().max(4096).optional(),
  /** Origins an account-linking flow may return to (`return_to`); default: the PUBLIC_URL origin. */
  LINK_RETURN_TO_ORIGINS: z
    .string()
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.string().max(2048)).max(50))
    .optional(),
  /** Google OAuth client (YouTube read-only linking): both or neither. */
  GOOGLE_CLIENT_ID: z.string().regex(/^[\x21-\x7e]{10,256}$/, 'must be a Google OAuth client id').optional(),
  GOOGLE_CLIENT_SECRET: z.string().regex(/^[\x21-\x7e]{10,256}$/, 'must be 10-256 printable ASCII characters').optional(),
  GOOGLE_AUTH_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://accounts.google.com'),
  GOOGLE_TOKEN_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://oauth2.googleapis.com'),
  /** Where Bluesky app passwords sign in (never a user-supplied URL). */
  BLUESKY_SERVICE_URL: z.url({ protocol: /^https?$/ }).default('https://bsky.social'),
  /** Jetstream for Bluesky discovery; `off` disables it in this process. Every replica may keep it on: a lease on the bus (`leases/bluesky-jetstream`) lets one read at a time, the others take over from the shared cursor. */
  BLUESKY_JETSTREAM_URL: z.union([z.literal('off'), z.url({ protocol: /^wss?$/ })]).default('wss://jetstream2.us-east.bsky.network'),
  BLUESKY_STATUS_DURATION_MINUTES: z.coerce.number().int().min(1).max(240).optional(),
});

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  /** Where the outside world reaches us; defaults to http://{host}:{port}. */
  readonly publicUrl: string;
  /** Unset: the in-memory bus. */
  readonly natsUrl: string | undefined;
  /** Copies JetStream keeps of every stream and KV bucket (checked against the cluster at start); 1 without `natsUrl`. */
  readonly busReplicas: number;
  /** Production without `natsUrl`: the operator accepted the in-memory bus (`ALLOW_EPHEMERAL_BUS`); warned about at every start. */
  readonly allowEphemeralBus: boolean;
  /**
   * Without `natsUrl`: `auto` (the default outside production) starts a local `nats-server -js`
   * with its file store in `storeDir` when one is installed and falls back to the in-memory bus
   * when not; `on` requires it; `off` (the default in production) is the in-memory bus.
   */
  readonly embeddedNats: { readonly mode: 'auto' | 'on' | 'off'; readonly storeDir: string };
  /**
   * Prometheus metrics: on their own listener (`port`, the Prometheus way) and/or behind a bearer
   * `token`. `mainPort` is how the API port serves `/metrics`: `open` (development without
   * either), `token`, or `off` (on their own port, or production without a token).
   */
  readonly metrics: { readonly token: string | undefined; readonly port: number | undefined; readonly host: string; readonly mainPort: 'open' | 'token' | 'off' };
  readonly twitchEventSubSecret: string;
  readonly adminToken: string;
  /** Which secrets were generated for this process because none was configured. */
  readonly generated: { readonly twitchEventSubSecret: boolean; readonly adminToken: boolean; readonly uploadTokenSecret: boolean; readonly tokenEncryptionKeys: boolean };
  readonly offlineGraceMs: number;
  readonly coalesceMs: number;
  readonly logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
  /** The demo site and the simulated streamer: on by default, off in production. */
  readonly demo: boolean;
  readonly statusRateLimitPerMinute: number;
  /** `BEACON_RATE_LIMIT_PER_MINUTE`: audience beacons per client network a minute (issue 27). */
  readonly beaconRateLimitPerMinute: number;
  readonly sseMaxChannels: number;
  readonly sseHeartbeatMs: number;
  /** A request body that sends no byte this long is cut off (408); also the time a body gets before its rate counts. */
  readonly requestBodyTimeoutMs: number;
  /** After that, a body (a tus PATCH included) must average at least this many bytes a second. */
  readonly requestBodyMinBytesPerSecond: number;
  /** Open live-event connections of this process; one more is a 503 (keep it below the open-file limit). */
  readonly sseMaxConnections: number;
  /** Open live-event connections of one client (an IPv4 address, an IPv6 /64); one more is a 429. */
  readonly sseMaxConnectionsPerClient: number;
  /** Proxies whose `X-Forwarded-For` names the client (`TRUST_PROXY_HOPS`); 0: the socket's address. */
  readonly trustProxyHops: number;
  /** HS256 key of upload grants. */
  readonly uploadTokenSecret: string;
  /** Absolute path where tus writes uploads; never served. */
  readonly quarantineDir: string;
  readonly uploadMaxBytes: number;
  /** Media types an upload grant may name, lowercase. */
  readonly uploadAllowedTypes: readonly string[];
  readonly uploadRateLimitPerMinute: number;
  /** Uploads of one channel still on their way (uploading, checking, in review, approved); a grant beyond this is a 429. */
  readonly uploadChannelMaxPending: number;
  /** Of those, how many one client (an IPv4 address, an IPv6 /64) may hold in one channel. */
  readonly uploadClientMaxPending: number;
  /** A grant whose upload stores no byte within this gives its place up (and can no longer start). */
  readonly uploadStartWindowMs: number;
  /** An upload still incomplete this long after its creation is deleted. */
  readonly uploadIncompleteTtlMs: number;
  /** The longest viewer upload the media check accepts (seconds; `UPLOAD_MAX_DURATION_S`, default 600). */
  readonly uploadMaxDurationS: number;
  /** The largest publisher recording (`source: broadcast`) a grant allows (`VOD_UPLOAD_MAX_BYTES`, default 8 GiB). */
  readonly vodUploadMaxBytes: number;
  /** The longest publisher recording the media check accepts (seconds; `VOD_UPLOAD_MAX_DURATION_S`, default 12 h). */
  readonly vodUploadMaxDurationS: number;
  /** `review`: uploads that pass every check wait for a moderator; `auto`: they are approved. A failed check always rejects. */
  readonly moderationPolicy: 'review' | 'auto';
  /** Bearer tokens of moderators (queue, decisions, previews), accepted alongside the admin token. */
  readonly moderatorTokens: readonly string[];
  /** Moderation jobs of one channel checked at once; the rest wait (the backpressure). */
  readonly moderationChannelMaxInFlight: number;
  /** Absolute path of promoted media, served under /media/; never the quarantine or inside it. */
  readonly mediaDir: string;
  /**
   * Where the quarantine and the published media live: `quarantineDir` and `mediaDir` (the
   * default), or two buckets of an S3-compatible store (`STORAGE_URL`), credentials from the AWS
   * SDK's default chain.
   */
  readonly storage: StorageConfig;
  /** Transcodes running at once in this process (ffmpeg is CPU-bound: size it to the cores). */
  readonly transcodeConcurrency: number;
  /** Replay ladders at once in this process (`VOD_CONCURRENCY`). */
  readonly vodConcurrency: number;
  /** Replay ladders of one publisher at once across the fleet (`VOD_PER_PUBLISHER_LIMIT`). */
  readonly vodPerPublisherLimit: number;
  /** Which work-queue workers run in this process (moderation checks, publish transcodes); the others leave their jobs to other replicas on the bus. */
  readonly workers: ReadonlySet<WorkerKind>;
  /** Our origin (issue 23): WHIP limits and the live ladder (`ORIGIN_*`, `WHIP_*`). */
  readonly origin: OriginConfig;
  /** Quarantined uploads not promoted are deleted this long after creation; rejected ones this long after rejection. */
  readonly quarantineTtlMs: number;
  /** How often the lifecycle sweeper looks for expired quarantine files. */
  readonly lifecycleSweepMs: number;
  /** Signed outbound webhooks: https only in production, the private-range allowlist, timeouts, retries, caps. */
  readonly outbound: OutboundSettings;
  /** Twitch Helix (EventSub subscriptions); undefined without app credentials. */
  readonly twitchHelix:
    | { readonly clientId: string; readonly clientSecret: string; readonly apiBaseUrl: string; readonly authBaseUrl: string; readonly reconcileMs: number }
    | undefined;
  /** YouTube WebSub + Data API; undefined without an API key. */
  readonly youtube:
    | {
        readonly apiKey: string;
        readonly hubUrl: string;
        readonly dataApiBaseUrl: string;
        readonly dailyQuotaUnits: number;
        readonly pollIntervalMs: number;
        readonly leaseSeconds: number;
        readonly poll: boolean;
      }
    | undefined;
  /** Account linking: the token key ring, allowed return origins, OAuth clients (absent: that provider cannot be linked by OAuth). */
  readonly linking: {
    readonly keys: readonly VaultKey[];
    readonly returnToOrigins: readonly string[];
    readonly google:
      | { readonly clientId: string; readonly clientSecret: string; readonly authBaseUrl: string; readonly tokenBaseUrl: string; readonly dataApiBaseUrl: string }
      | undefined;
  };
  /** Bluesky: app-password sign-in service, Jetstream (undefined: off in this process), status duration. */
  readonly bluesky: { readonly serviceUrl: string; readonly jetstreamUrl: string | undefined; readonly statusDurationMinutes: number | undefined };
}

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`invalid environment variable ${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment once. Fails with a `ConfigError` naming the bad variable.
 * Outside production a missing secret or admin token is generated for this process.
 */
export function loadConfig(environment: Record<string, string | undefined>, cwd: string = process.cwd()): Config {
  const relevant = Object.fromEntries(
    Object.keys(environmentSchema.shape).map((key) => [key, emptyToUndefined(environment[key])]),
  );
  const parsed = environmentSchema.safeParse(relevant);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  for (const required of ['TWITCH_EVENTSUB_SECRET', 'ADMIN_TOKEN', 'UPLOAD_TOKEN_SECRET', 'TOKEN_ENCRYPTION_KEYS'] as const) {
    if (production && env[required] === undefined) throw new ConfigError(required, 'is required when NODE_ENV=production');
  }
  if ((env.TWITCH_CLIENT_ID === undefined) !== (env.TWITCH_CLIENT_SECRET === undefined)) {
    throw new ConfigError(env.TWITCH_CLIENT_ID === undefined ? 'TWITCH_CLIENT_ID' : 'TWITCH_CLIENT_SECRET', 'is required with the other Twitch app credential');
  }
  if ((env.GOOGLE_CLIENT_ID === undefined) !== (env.GOOGLE_CLIENT_SECRET === undefined)) {
    throw new ConfigError(env.GOOGLE_CLIENT_ID === undefined ? 'GOOGLE_CLIENT_ID' : 'GOOGLE_CLIENT_SECRET', 'is required with the other Google OAuth credential');
  }
  if (production && env.DEMO === true) throw new ConfigError('DEMO', 'the demo and its simulator cannot run in production');
  const embeddedNatsMode = env.NATS_URL !== undefined ? 'off' : (env.EMBEDDED_NATS ?? (production ? 'off' : 'auto'));
  if (env.NATS_URL === undefined && env.BUS_REPLICAS !== 1) {
    throw new ConfigError(
      'BUS_REPLICAS',
      `is ${env.BUS_REPLICAS} but NATS_URL is not set: the in-memory bus and the embedded nats-server are one process on one machine and keep 1 copy; set NATS_URL to a NATS cluster with at least ${env.BUS_REPLICAS} JetStream servers, or BUS_REPLICAS=1`,
    );
  }
  if (production && env.NATS_URL === undefined && embeddedNatsMode !== 'on' && !env.ALLOW_EPHEMERAL_BUS) {
    throw new ConfigError(
      'NATS_URL',
      'is required when NODE_ENV=production: the in-memory bus loses channels, upload records, the audit trail and the records of published media at every restart (EMBEDDED_NATS=on keeps it in a local nats-server; ALLOW_EPHEMERAL_BUS=1 runs on the in-memory bus anyway)',
    );
  }
  const quarantineDir = resolveQuarantineDir(env.QUARANTINE_DIR, cwd);
  const mediaDir = resolveMediaDir(env.MEDIA_DIR, cwd, quarantineDir);
  let storage: StorageConfig;
  try {
    storage = storageConfigFrom(env, { quarantineDir, mediaDir });
  } catch (error) {
    if (error instanceof InvalidStorageSetting) throw new ConfigError(error.variable, error.message);
    throw error;
  }
  const publicUrl = (env.PUBLIC_URL ?? `http://${env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${env.PORT}`).replace(/\/+$/, '');
  const tokenKeys = parseOr('TOKEN_ENCRYPTION_KEYS', () => (env.TOKEN_ENCRYPTION_KEYS === undefined ? [generatedVaultKey()] : parseKeyRing(env.TOKEN_ENCRYPTION_KEYS)));
  const returnToOrigins = parseOr('LINK_RETURN_TO_ORIGINS', () => parseReturnToOrigins(env.LINK_RETURN_TO_ORIGINS ?? [new URL(publicUrl).origin]));

  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    publicUrl,
    natsUrl: env.NATS_URL,
    busReplicas: env.BUS_REPLICAS,
    allowEphemeralBus: env.ALLOW_EPHEMERAL_BUS,
    embeddedNats: {
      mode: embeddedNatsMode,
      storeDir: env.EMBEDDED_NATS_DIR === undefined ? join(cwd, '.data', 'nats') : resolve(cwd, env.EMBEDDED_NATS_DIR),
    },
    metrics: {
      token: env.METRICS_TOKEN,
      port: env.METRICS_PORT,
      host: env.METRICS_HOST ?? env.HOST,
      mainPort: env.METRICS_PORT !== undefined ? 'off' : env.METRICS_TOKEN !== undefined ? 'token' : production ? 'off' : 'open',
    },
    twitchEventSubSecret: env.TWITCH_EVENTSUB_SECRET ?? randomBytes(24).toString('base64url'),
    adminToken: env.ADMIN_TOKEN ?? randomBytes(24).toString('base64url'),
    generated: {
      twitchEventSubSecret: env.TWITCH_EVENTSUB_SECRET === undefined,
      adminToken: env.ADMIN_TOKEN === undefined,
      uploadTokenSecret: env.UPLOAD_TOKEN_SECRET === undefined,
      tokenEncryptionKeys: env.TOKEN_ENCRYPTION_KEYS === undefined,
    },
    offlineGraceMs: env.OFFLINE_GRACE_MS,
    coalesceMs: env.COALESCE_MS,
    logLevel: env.LOG_LEVEL,
    demo: env.DEMO ?? !production,
    statusRateLimitPerMinute: env.STATUS_RATE_LIMIT_PER_MINUTE,
    beaconRateLimitPerMinute: env.BEACON_RATE_LIMIT_PER_MINUTE,
    sseMaxChannels: env.SSE_MAX_CHANNELS,
    sseHeartbeatMs: env.SSE_HEARTBEAT_MS,
    requestBodyTimeoutMs: env.REQUEST_BODY_TIMEOUT_MS,
    requestBodyMinBytesPerSecond: env.REQUEST_BODY_MIN_BYTES_PER_SECOND,
    sseMaxConnections: env.SSE_MAX_CONNECTIONS,
    sseMaxConnectionsPerClient: env.SSE_MAX_CONNECTIONS_PER_CLIENT,
    trustProxyHops: env.TRUST_PROXY_HOPS,
    uploadTokenSecret: env.UPLOAD_TOKEN_SECRET ?? randomBytes(32).toString('base64url'),
    quarantineDir,
    uploadMaxBytes: env.UPLOAD_MAX_BYTES,
    uploadAllowedTypes: env.UPLOAD_ALLOWED_TYPES,
    uploadRateLimitPerMinute: env.UPLOAD_RATE_LIMIT_PER_MINUTE,
    uploadChannelMaxPending: env.UPLOAD_CHANNEL_MAX_PENDING,
    uploadClientMaxPending: Math.min(env.UPLOAD_CLIENT_MAX_PENDING, env.UPLOAD_CHANNEL_MAX_PENDING),
    uploadStartWindowMs: env.UPLOAD_START_WINDOW_MS,
    uploadIncompleteTtlMs: env.UPLOAD_INCOMPLETE_TTL_MS,
    uploadMaxDurationS: env.UPLOAD_MAX_DURATION_S,
    vodUploadMaxBytes: env.VOD_UPLOAD_MAX_BYTES,
    vodUploadMaxDurationS: env.VOD_UPLOAD_MAX_DURATION_S,
    moderationPolicy: env.MODERATION_POLICY,
    moderatorTokens: env.MODERATOR_TOKENS,
    moderationChannelMaxInFlight: env.MODERATION_CHANNEL_MAX_IN_FLIGHT,
    mediaDir,
    storage,
    transcodeConcurrency: env.TRANSCODE_CONCURRENCY,
    vodConcurrency: env.VOD_CONCURRENCY,
    vodPerPublisherLimit: env.VOD_PER_PUBLISHER_LIMIT,
    workers: new Set(env.WORKERS),
    origin: {
      mediaTimeoutMs: env.ORIGIN_MEDIA_TIMEOUT_MS,
      maxBitrateKbps: env.ORIGIN_MAX_BITRATE_KBPS,
      maxShortSidePx: env.ORIGIN_MAX_SHORT_SIDE_PX,
      ladderRungs: env.ORIGIN_LADDER_RUNGS,
      ladderPreset: env.ORIGIN_LADDER_PRESET,
      maxSessions: env.ORIGIN_MAX_SESSIONS,
      heartbeatMs: env.ORIGIN_HEARTBEAT_MS,
      staleAfterMs: Math.max(env.ORIGIN_STALE_AFTER_MS, 2 * env.ORIGIN_HEARTBEAT_MS),
      whipMaxOfferBytes: env.WHIP_MAX_OFFER_BYTES,
      whipOffersPerMinute: env.WHIP_OFFERS_PER_MINUTE,
    },
    quarantineTtlMs: env.QUARANTINE_TTL_MS,
    lifecycleSweepMs: env.LIFECYCLE_SWEEP_MS,
    outbound: {
      requireHttps: production,
      allowPrivateHosts: env.OUTBOUND_ALLOW_PRIVATE_HOSTS,
      connectTimeoutMs: Math.min(env.OUTBOUND_CONNECT_TIMEOUT_MS, env.OUTBOUND_TIMEOUT_MS),
      timeoutMs: env.OUTBOUND_TIMEOUT_MS,
      retryScheduleMs: env.OUTBOUND_RETRY_SCHEDULE_MS,
      maxInFlightPerSubscriber: env.OUTBOUND_MAX_IN_FLIGHT_PER_SUBSCRIBER,
      concurrency: env.OUTBOUND_CONCURRENCY,
    },
    twitchHelix:
      env.TWITCH_CLIENT_ID && env.TWITCH_CLIENT_SECRET
        ? {
            clientId: env.TWITCH_CLIENT_ID,
            clientSecret: env.TWITCH_CLIENT_SECRET,
            apiBaseUrl: env.TWITCH_API_BASE_URL.replace(/\/+$/, ''),
            authBaseUrl: env.TWITCH_AUTH_BASE_URL.replace(/\/+$/, ''),
            reconcileMs: env.TWITCH_SUBSCRIPTION_RECONCILE_MS,
          }
        : undefined,
    youtube: env.YOUTUBE_API_KEY
      ? {
          apiKey: env.YOUTUBE_API_KEY,
          hubUrl: env.YOUTUBE_WEBSUB_HUB_URL,
          dataApiBaseUrl: env.YOUTUBE_DATA_API_BASE_URL.replace(/\/+$/, ''),
          dailyQuotaUnits: env.YOUTUBE_DAILY_QUOTA_UNITS,
          pollIntervalMs: env.YOUTUBE_POLL_INTERVAL_MS,
          leaseSeconds: env.YOUTUBE_WEBSUB_LEASE_SECONDS,
          poll: env.YOUTUBE_POLL,
        }
      : undefined,
    linking: {
      keys: tokenKeys,
      returnToOrigins,
      google:
        env.GOOGLE_CLIENT_ID && env.GOOGLE_CLIENT_SECRET
          ? {
              clientId: env.GOOGLE_CLIENT_ID,
              clientSecret: env.GOOGLE_CLIENT_SECRET,
              authBaseUrl: env.GOOGLE_AUTH_BASE_URL.replace(/\/+$/, ''),
              tokenBaseUrl: env.GOOGLE_TOKEN_BASE_URL.replace(/\/+$/, ''),
              dataApiBaseUrl: env.YOUTUBE_DATA_API_BASE_URL.replace(/\/+$/, ''),
            }
          : undefined,
    },
    bluesky: {
      serviceUrl: env.BLUESKY_SERVICE_URL.replace(/\/+$/, ''),
      jetstreamUrl: env.BLUESKY_JETSTREAM_URL === 'off' ? undefined : env.BLUESKY_JETSTREAM_URL.replace(/\/+$/, ''),
      statusDurationMinutes: env.BLUESKY_STATUS_DURATION_MINUTES,
    },
  };
}

/** A key for this process only: tokens sealed with it cannot be opened after a restart. */
function generatedVaultKey(): VaultKey {
  return { id: 'ephemeral', key: randomBytes(32) };
}

/** Runs a parser of one variable, turning its error into a `ConfigError` naming the variable. */
function parseOr<T>(variable: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ConfigError(variable, error instanceof Error ? error.message : String(error));
  }
}

/** Directories under the working directory whose files the server hands to browsers (demo, element bundles, promoted media). */
const SERVED_DIRECTORIES = ['demo', 'element', 'media', 'public'];

/**
 * `.data/quarantine` under the working directory by default (kept across restarts, so uploads
 * resume after a crash). Relative paths resolve against the working directory. The root, and
 * anything inside a directory the server serves from, is refused.
 */
function resolveQuarantineDir(configured: string | undefined, cwd: string): string {
  const directory = configured === undefined ? join(cwd, '.data', 'quarantine') : isAbsolute(configured) ? resolve(configured) : resolve(cwd, configured);
  if (directory === resolve('/')) throw new ConfigError('QUARANTINE_DIR', 'must not be the filesystem root');
  for (const served of SERVED_DIRECTORIES) {
    const root = join(cwd, served);
    if (directory === root || directory.startsWith(root + sep)) {
      throw new ConfigError('QUARANTINE_DIR', `must not be inside ${served}/, which holds served files`);
    }
  }
  return directory;
}

/**
 * `.data/media` under the working directory by default; relative paths resolve against it.
 * Everything in it may be served, so it must not be, contain, or sit inside the quarantine.
 */
function resolveMediaDir(configured: string | undefined, cwd: string, quarantineDir: string): string {
  const directory = configured === undefined ? join(cwd, '.data', 'media') : resolve(cwd, configured);
  if (directory === resolve('/')) throw new ConfigError('MEDIA_DIR', 'must not be the filesystem root');
  const within = (inner: string, outer: string) => inner === outer || inner.startsWith(outer + sep);
  if (within(directory, quarantineDir) || within(quarantineDir, directory)) {
    throw new ConfigError('MEDIA_DIR', 'must differ from QUARANTINE_DIR and neither may contain the other');
  }
  return directory;
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
