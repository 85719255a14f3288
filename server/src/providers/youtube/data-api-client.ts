import type { z } from 'zod';
import type { QuotaBudget } from './quota-budget.js';
import { YOUTUBE_QUOTA_COSTS, type YouTubeApiMethod } from './quota-ledger.js';
import {
  QUOTA_EXHAUSTED_REASONS,
  channelResourceSchema,
  googleErrorSchema,
  listResponseSchema,
  playlistItemResourceSchema,
  videoResourceSchema,
  type VideoResource,
} from './data-api-resources.js';
import type { YouTubeMetrics } from './youtube-metrics.js';

export const YOUTUBE_API_MAX_IDS_PER_CALL = 50;
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * `over_budget`: our budget refused the call (the fleet claimed the whole limit, or Google said
 * `quotaExceeded` today); `quota_exceeded`: Google refused it; `quota_unavailable`: the fleet's
 * quota ledger was out of reach (bus down), so the call was not made.
 */
export type ApiCallOutcome = 'ok' | 'over_budget' | 'quota_exceeded' | 'quota_unavailable' | 'error';

export type ApiResult<T> =
  | { readonly ok: true; readonly value: T; readonly receivedAtMs: number }
  | { readonly ok: false; readonly outcome: Exclude<ApiCallOutcome, 'ok'>; readonly message: string };

export interface YouTubeDataApiOptions {
  /** `https://www.googleapis.com` in production. */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly quota: QuotaBudget;
  readonly metrics: YouTubeMetrics;
  readonly now?: () => number;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/**
 * The three Data API v3 calls we make, each 1 quota unit: `videos.list` (confirmation and
 * live details), `channels.list` (a channel's uploads playlist, once) and `playlistItems.list`
 * (its newest uploads). Every call is charged to the fleet's budget first and refused when it
 * does not fit or the budget's ledger is out of reach; Google's `quotaExceeded` marks the
 * budget spent, for every process, until the Pacific midnight.
 */
export class YouTubeDataApi {
  private readonly now: () => number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: YouTubeDataApiOptions) {
    this.now = options.now ?? Date.now;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** `videos.list?part=liveStreamingDetails,snippet&id=...`: the videos that exist and are visible. */
  async listVideos(ids: readonly string[]): Promise<ApiResult<VideoResource[]>> {
    if (ids.length === 0 || ids.length > YOUTUBE_API_MAX_IDS_PER_CALL) throw new RangeError('videos.list takes 1 to 50 ids');
    const result = await this.call('videos.list', '/youtube/v3/videos', { part: 'liveStreamingDetails,snippet', id: ids.join(','), maxResults: String(ids.length) });
    return result.ok ? { ...result, value: parseItems(result.value, videoResourceSchema) } : result;
  }

  /** `channels.list?part=contentDetails&id=...`: the channel's uploads playlist id, null when none. */
  async uploadsPlaylist(channelId: string): Promise<ApiResult<string | null>> {
    const result = await this.call('channels.list', '/youtube/v3/channels', { part: 'contentDetails', id: channelId });
    if (!result.ok) return result;
    const channel = parseItems(result.value, channelResourceSchema).find((item) => item.id === channelId);
    return { ...result, value: channel?.contentDetails.relatedPlaylists.uploads ?? null };
  }

  /** `playlistItems.list?part=contentDetails&playlistId=...`: the newest video ids of a playlist. */
  async recentPlaylistVideos(playlistId: string, maxResults: number): Promise<ApiResult<string[]>> {
    const result = await this.call('playlistItems.list', '/youtube/v3/playlistItems', {
      part: 'contentDetails',
      playlistId,
      maxResults: String(maxResults),
    });
    return result.ok ? { ...result, value: parseItems(result.value, playlistItemResourceSchema).map((item) => item.contentDetails.videoId) } : result;
  }

  private async call(method: YouTubeApiMethod, path: string, params: Record<string, string>): Promise<ApiResult<unknown[]>> {
    const { quota, metrics } = this.options;
    const count = (outcome: ApiCallOutcome) => metrics.apiCalls.inc({ method, outcome });
    const spend = await quota.tryConsume(YOUTUBE_QUOTA_COSTS[method], this.now());
    if (!spend.ok) {
      // `over_budget`: our budget said no (limit claimed, or Google's quotaExceeded already seen today).
      const outcome = spend.reason === 'quota_unavailable' ? 'quota_unavailable' : 'over_budget';
      count(outcome);
      return { ok: false, outcome, message: `${method} not called: ${spend.message}` };
    }
    const url = new URL(path, this.options.baseUrl);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    url.searchParams.set('key', this.options.apiKey);
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(url, {
        headers: { Accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      text = await readLimited(response, MAX_RESPONSE_BYTES);
    } catch (error) {
      count('error');
      // Never the URL: it carries the API key.
      return { ok: false, outcome: 'error', message: `${method} failed: ${error instanceof Error ? error.name : 'error'}` };
    }
    const receivedAtMs = this.now();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      count('error');
      return { ok: false, outcome: 'error', message: `${method} answered ${response.status} with a body that is not JSON` };
    }
    if (!response.ok) {
      const parsed = googleErrorSchema.safeParse(body);
      const reasons = parsed.success ? (parsed.data.error.errors ?? []).map((entry) => entry.reason ?? '') : [];
      if (response.status === 403 && reasons.some((reason) => QUOTA_EXHAUSTED_REASONS.has(reason))) {
        await quota.markExhausted(receivedAtMs);
        count('quota_exceeded');
        return { ok: false, outcome: 'quota_exceeded', message: `${method}: quota exceeded until the Pacific midnight` };
      }
      count('error');
      return { ok: false, outcome: 'error', message: `${method} answered ${response.status} ${reasons.join(',')}`.trim() };
    }
    const parsed = listResponseSchema.safeParse(body);
    if (!parsed.success) {
      count('error');
      return { ok: false, outcome: 'error', message: `${method} answered a body that is not a list response` };
    }
    count('ok');
    return { ok: true, value: parsed.data.items, receivedAtMs };
  }
}

/** Items that match the schema; one odd item does not hide the others. */
function parseItems<T>(items: readonly unknown[], schema: z.ZodType<T>): T[] {
  const parsed: T[] = [];
  for (const item of items) {
    const result = schema.safeParse(item);
    if (result.success) parsed.push(result.data);
  }
  return parsed;
}

async function readLimited(response: Response, limitBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limitBytes) throw new RangeError('response too large');
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel();
      throw new RangeError('response too large');
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
