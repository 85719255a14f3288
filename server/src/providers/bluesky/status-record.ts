import type { LiveMetadata } from '@live-upload/schema';
import { BLUESKY_COLLECTIONS, BLUESKY_LIVE_STATUS, externalEmbedOf, statusRecordSchema } from './jetstream-event.js';

/**
 * `durationMinutes` bounds. The lexicon sets only `minimum: 1` and lets applications impose a
 * maximum; the Bluesky app offers up to 4 hours, so a longer value would be cut by readers.
 */
export const STATUS_DURATION_MINUTES = { min: 1, max: 240, default: 240 } as const;

export interface StatusRecordInput {
  readonly record: LiveMetadata;
  /** Our public base URL: the embed points at `{publicUrl}/c/{publisher}/{slug}`. */
  readonly publicUrl: string;
  readonly durationMinutes?: number;
  readonly nowMs: number;
}

/** The landing page of a channel. */
export function landingPageUrl(publicUrl: string, channel: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/c/${channel}`;
}

export function clampDurationMinutes(minutes: number | undefined): number {
  if (minutes === undefined || !Number.isFinite(minutes)) return STATUS_DURATION_MINUTES.default;
  return Math.min(STATUS_DURATION_MINUTES.max, Math.max(STATUS_DURATION_MINUTES.min, Math.round(minutes)));
}

/** The `app.bsky.actor.status` record (key `self`) the write-back puts while a channel is live. */
export function blueskyStatusRecord(input: StatusRecordInput): Record<string, unknown> {
  const { record } = input;
  const title = (record.title ?? record.channel).slice(0, 300);
  return {
    $type: BLUESKY_COLLECTIONS.status,
    status: BLUESKY_LIVE_STATUS,
    embed: {
      $type: 'app.bsky.embed.external',
      external: { uri: landingPageUrl(input.publicUrl, record.channel), title, description: `Live now: ${title}`.slice(0, 1000) },
    },
    durationMinutes: clampDurationMinutes(input.durationMinutes),
    createdAt: new Date(input.nowMs).toISOString(),
  };
}

/**
 * Whether a status record is one our write-back put: its embed points at our landing pages.
 * The Jetstream consumer skips these so the server does not feed itself.
 */
export function isOwnStatusRecord(value: unknown, publicUrl: string): boolean {
  const status = statusRecordSchema.safeParse(value);
  if (!status.success) return false;
  const uri = externalEmbedOf(status.data.embed)?.uri;
  return uri !== undefined && uri.startsWith(`${publicUrl.replace(/\/+$/, '')}/c/`);
}
