import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const booleanFlag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((value) => ['1', 'true', 'yes', 'on'].includes(value));

const durationMs = (defaultMs: number) => z.coerce.number().int().min(0).max(7 * 24 * 3600 * 1000).default(defaultMs);

/** Every environment variable the server reads, with its default. Nothing else reads `process.env`. */
const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  NATS_URL: z.string().regex(/^(nats|tls|wss?):\/\//, 'must be a nats://, tls:// or ws(s):// URL').optional(),
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
  SSE_MAX_CHANNELS: z.coerce.number().int().min(1).max(1000).default(50),
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(1000).max(20_000).default(15_000),
});

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  /** Where the outside world reaches us; defaults to http://{host}:{port}. */
  readonly publicUrl: string;
  /** Unset: the in-memory bus. */
  readonly natsUrl: string | undefined;
  readonly twitchEventSubSecret: string;
  readonly adminToken: string;
  /** Which secrets were generated for this process because none was configured. */
  readonly generated: { readonly twitchEventSubSecret: boolean; readonly adminToken: boolean };
  readonly offlineGraceMs: number;
  readonly coalesceMs: number;
  readonly logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
  /** The demo site and the simulated streamer: on by default, off in production. */
  readonly demo: boolean;
  readonly statusRateLimitPerMinute: number;
  readonly sseMaxChannels: number;
  readonly sseHeartbeatMs: number;
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
export function loadConfig(environment: Record<string, string | undefined>): Config {
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
  for (const required of ['TWITCH_EVENTSUB_SECRET', 'ADMIN_TOKEN'] as const) {
    if (production && env[required] === undefined) throw new ConfigError(required, 'is required when NODE_ENV=production');
  }
  if (production && env.DEMO === true) throw new ConfigError('DEMO', 'the demo and its simulator cannot run in production');

  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    publicUrl: (env.PUBLIC_URL ?? `http://${env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${env.PORT}`).replace(/\/+$/, ''),
    natsUrl: env.NATS_URL,
    twitchEventSubSecret: env.TWITCH_EVENTSUB_SECRET ?? randomBytes(24).toString('base64url'),
    adminToken: env.ADMIN_TOKEN ?? randomBytes(24).toString('base64url'),
    generated: { twitchEventSubSecret: env.TWITCH_EVENTSUB_SECRET === undefined, adminToken: env.ADMIN_TOKEN === undefined },
    offlineGraceMs: env.OFFLINE_GRACE_MS,
    coalesceMs: env.COALESCE_MS,
    logLevel: env.LOG_LEVEL,
    demo: env.DEMO ?? !production,
    statusRateLimitPerMinute: env.STATUS_RATE_LIMIT_PER_MINUTE,
    sseMaxChannels: env.SSE_MAX_CHANNELS,
    sseHeartbeatMs: env.SSE_HEARTBEAT_MS,
  };
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
