import { z } from 'zod';
import type { AppAccessToken } from './app-access-token.js';
import { eventSubSubscriptionSchema, type EventSubSubscription } from './eventsub-message.js';

/**
 * The three Helix EventSub endpoints we use
 * (https://dev.twitch.tv/docs/api/reference/#create-eventsub-subscription and its neighbours)
 * and Get Videos for a broadcast's archive (https://dev.twitch.tv/docs/api/reference/#get-videos),
 * with an app access token and the `Client-Id` header. Twitch's error body
 * `{ error, status, message }` becomes a `HelixError` with a `kind`; a 401 refreshes the token
 * once; a 429 waits until `Ratelimit-Reset` (bounded) and retries a bounded number of times.
 */

export const HELIX_ERROR_KINDS = {
  badRequest: 'bad_request',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  notFound: 'not_found',
  conflict: 'conflict',
  rateLimited: 'rate_limited',
  server: 'server',
  malformedResponse: 'malformed_response',
  unreachable: 'unreachable',
} as const;

export type HelixErrorKind = (typeof HELIX_ERROR_KINDS)[keyof typeof HELIX_ERROR_KINDS];

/** A Helix call that did not succeed. `status` is 0 when no HTTP answer arrived. */
export class HelixError extends Error {
  constructor(
    readonly kind: HelixErrorKind,
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HelixError';
  }
}

const helixErrorBodySchema = z.object({
  error: z.string().optional(),
  status: z.number().int().optional(),
  message: z.string().optional(),
});

const subscriptionPageSchema = z.object({
  data: z.array(eventSubSubscriptionSchema),
  total: z.number().int().nonnegative(),
  total_cost: z.number().int().nonnegative(),
  max_total_cost: z.number().int().nonnegative(),
  pagination: z.object({ cursor: z.string().min(1).max(1024).optional() }).optional(),
});

/**
 * One video of `GET /helix/videos` (https://dev.twitch.tv/docs/api/reference/#get-videos): the
 * fields we use, checked; Twitch's others (description, view_count, muted_segments...) pass.
 * `stream_id` is the broadcast an archive recorded (null for uploads and highlights).
 */
export const helixVideoSchema = z.object({
  id: z.string().regex(/^\d{1,20}$/),
  stream_id: z.string().max(40).nullable(),
  user_id: z.string().max(40),
  title: z.string().max(1000),
  created_at: z.string().max(40),
  published_at: z.string().max(40),
  url: z.string().max(2048),
  /** A template: `%{width}x%{height}` stands for the size wanted. */
  thumbnail_url: z.string().max(2048),
  type: z.string().max(40),
  /** Like `3h8m33s` (see `parseTwitchDuration`). */
  duration: z.string().max(40),
});
export type HelixVideo = z.infer<typeof helixVideoSchema>;

const videoPageSchema = z.object({
  data: z.array(helixVideoSchema),
  pagination: z.object({ cursor: z.string().min(1).max(1024).optional() }).optional(),
});

export interface ArchiveVideoQuery {
  /** Videos per page, 1-100 (Twitch's default 20). */
  readonly first?: number;
  /** Pages fetched at most (default 1: the newest archives are the ones wanted). */
  readonly pages?: number;
}

const createdSchema = subscriptionPageSchema.extend({ data: z.array(eventSubSubscriptionSchema).length(1) });

/** A subscription as Helix lists it (the same object EventSub messages carry). */
export type HelixSubscription = EventSubSubscription;

export interface CreateSubscriptionInput {
  readonly type: string;
  readonly version: string;
  readonly broadcasterUserId: string;
  readonly callback: string;
  /** 10-100 ASCII characters: the HMAC key for deliveries. */
  readonly secret: string;
}

export interface CreateSubscriptionResult {
  readonly subscription: HelixSubscription;
  /** False when Helix said 409 (it already existed) and the existing one was looked up. */
  readonly created: boolean;
}

export interface SubscriptionFilter {
  readonly status?: string;
  readonly type?: string;
}

export interface HelixClientOptions {
  /** `https://api.twitch.tv` in production. */
  readonly apiBaseUrl: string;
  readonly token: AppAccessToken;
  /** How many times one call is retried after a 429 (default 3). */
  readonly maxRateLimitRetries?: number;
  /** Longest wait for one `Ratelimit-Reset` (default 60 s); a reset further away fails the call. */
  readonly maxRateLimitWaitMs?: number;
  /** Wait when a 429 carries no usable `Ratelimit-Reset` (default 1 s). */
  readonly defaultRateLimitWaitMs?: number;
  /** Pages fetched at most by one listing (default 100). */
  readonly maxPages?: number;
  readonly requestTimeoutMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly fetch?: typeof fetch;
}

const SUBSCRIPTIONS_PATH = '/helix/eventsub/subscriptions';
const VIDEOS_PATH = '/helix/videos';

interface HelixAnswer {
  readonly status: number;
  readonly json: unknown;
}

export class HelixClient {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: HelixClientOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.fetch = options.fetch ?? fetch;
  }

  /** `POST /helix/eventsub/subscriptions`: 202 with the pending subscription; 409 looks up the existing one. */
  async createSubscription(input: CreateSubscriptionInput): Promise<CreateSubscriptionResult> {
    const body = {
      type: input.type,
      version: input.version,
      condition: { broadcaster_user_id: input.broadcasterUserId },
      transport: { method: 'webhook', callback: input.callback, secret: input.secret },
    };
    try {
      const answer = await this.call('POST', new URLSearchParams(), JSON.stringify(body));
      const parsed = createdSchema.safeParse(answer.json);
      if (!parsed.success) throw malformed('create subscription', parsed.error);
      return { subscription: parsed.data.data[0]!, created: true };
    } catch (error) {
      if (!(error instanceof HelixError) || error.kind !== HELIX_ERROR_KINDS.conflict) throw error;
      const existing = (await this.listSubscriptions({ type: input.type })).find(
        (subscription) =>
          subscription.version === input.version &&
          subscription.condition['broadcaster_user_id'] === input.broadcasterUserId &&
          subscription.transport.method === 'webhook' &&
          subscription.transport.callback === input.callback,
      );
      if (!existing) throw error;
      return { subscription: existing, created: false };
    }
  }

  /** `GET /helix/eventsub/subscriptions`, every page (`pagination.cursor` -> `after`). */
  async listSubscriptions(filter: SubscriptionFilter = {}): Promise<HelixSubscription[]> {
    const found: HelixSubscription[] = [];
    const seenCursors = new Set<string>();
    let cursor: string | undefined;
    const maxPages = this.options.maxPages ?? 100;
    for (let page = 0; page < maxPages; page++) {
      const query = new URLSearchParams();
      if (filter.status !== undefined) query.set('status', filter.status);
      if (filter.type !== undefined) query.set('type', filter.type);
      if (cursor !== undefined) query.set('after', cursor);
      const answer = await this.call('GET', query);
      const parsed = subscriptionPageSchema.safeParse(answer.json);
      if (!parsed.success) throw malformed('list subscriptions', parsed.error);
      found.push(...parsed.data.data);
      cursor = parsed.data.pagination?.cursor;
      if (cursor === undefined || parsed.data.data.length === 0) return found;
      if (seenCursors.has(cursor)) throw new HelixError(HELIX_ERROR_KINDS.malformedResponse, answer.status, 'Helix repeated a pagination cursor');
      seenCursors.add(cursor);
    }
    throw new HelixError(HELIX_ERROR_KINDS.malformedResponse, 200, `Helix listing did not end within ${maxPages} pages`);
  }

  /** `DELETE /helix/eventsub/subscriptions?id=`: 204. A 404 (already gone) is reported as `not_found`. */
  async deleteSubscription(id: string): Promise<void> {
    await this.call('DELETE', new URLSearchParams({ id }));
  }

  /**
   * `GET /helix/videos?user_id=&type=archive&first=`: a broadcaster's past-broadcast archives,
   * newest first, following `pagination.cursor` (`after`) for at most `pages` pages.
   */
  async getArchiveVideos(userId: string, query: ArchiveVideoQuery = {}): Promise<HelixVideo[]> {
    const first = Math.min(100, Math.max(1, Math.floor(query.first ?? 20)));
    const pages = Math.min(this.options.maxPages ?? 100, Math.max(1, Math.floor(query.pages ?? 1)));
    const found: HelixVideo[] = [];
    const seenCursors = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < pages; page++) {
      const params = new URLSearchParams({ user_id: userId, type: 'archive', first: String(first) });
      if (cursor !== undefined) params.set('after', cursor);
      const answer = await this.call('GET', params, undefined, VIDEOS_PATH);
      const parsed = videoPageSchema.safeParse(answer.json);
      if (!parsed.success) throw malformed('get videos', parsed.error);
      found.push(...parsed.data.data);
      cursor = parsed.data.pagination?.cursor;
      if (cursor === undefined || parsed.data.data.length === 0) break;
      if (seenCursors.has(cursor)) throw new HelixError(HELIX_ERROR_KINDS.malformedResponse, answer.status, 'Helix repeated a pagination cursor');
      seenCursors.add(cursor);
    }
    return found;
  }

  private async call(method: 'GET' | 'POST' | 'DELETE', query: URLSearchParams, body?: string, path: string = SUBSCRIPTIONS_PATH): Promise<HelixAnswer> {
    const maxRetries = this.options.maxRateLimitRetries ?? 3;
    let refreshed = false;
    for (let rateLimited = 0; ; ) {
      const token = await this.options.token.get();
      const response = await this.send(method, path, query, token, body);
      if (response.status === 401 && !refreshed) {
        await response.body?.cancel();
        this.options.token.invalidate(token);
        refreshed = true;
        continue;
      }
      if (response.status === 429 && rateLimited < maxRetries) {
        await response.body?.cancel();
        rateLimited++;
        await this.sleep(this.rateLimitWaitMs(response.headers.get('Ratelimit-Reset')));
        continue;
      }
      const text = await response.text();
      if (response.ok) {
        if (response.status === 204 || text === '') return { status: response.status, json: undefined };
        try {
          return { status: response.status, json: JSON.parse(text) };
        } catch (error) {
          throw new HelixError(HELIX_ERROR_KINDS.malformedResponse, response.status, `Helix ${method} answered ${response.status} with a body that is not JSON`, { cause: error });
        }
      }
      throw errorFromResponse(method, path, response.status, text);
    }
  }

  private async send(method: string, path: string, query: URLSearchParams, token: string, body: string | undefined): Promise<Response> {
    const url = new URL(path, this.options.apiBaseUrl);
    url.search = query.toString();
    const headers: Record<string, string> = {
      'Client-Id': this.options.token.clientId,
      Authorization: `Bearer ${token}`,
      Accept: 'application/json',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await this.fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new HelixError(HELIX_ERROR_KINDS.unreachable, 0, `Helix ${method} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** `Ratelimit-Reset` is the Unix time (seconds) at which the bucket is full again. */
  private rateLimitWaitMs(reset: string | null): number {
    const resetSeconds = reset === null || !/^\d{1,12}$/.test(reset.trim()) ? undefined : Number(reset.trim());
    if (resetSeconds === undefined) return this.options.defaultRateLimitWaitMs ?? 1_000;
    const waitMs = Math.max(0, resetSeconds * 1000 - this.now());
    const maxWaitMs = this.options.maxRateLimitWaitMs ?? 60_000;
    if (waitMs > maxWaitMs) {
      throw new HelixError(HELIX_ERROR_KINDS.rateLimited, 429, `Helix rate limit resets in ${Math.ceil(waitMs / 1000)} s, longer than we wait`);
    }
    return waitMs;
  }
}

function malformed(what: string, cause: unknown): HelixError {
  return new HelixError(HELIX_ERROR_KINDS.malformedResponse, 200, `Helix ${what} answered a body that is not what Twitch documents`, { cause });
}

function kindForStatus(status: number): HelixErrorKind {
  switch (status) {
    case 400:
      return HELIX_ERROR_KINDS.badRequest;
    case 401:
      return HELIX_ERROR_KINDS.unauthorized;
    case 403:
      return HELIX_ERROR_KINDS.forbidden;
    case 404:
      return HELIX_ERROR_KINDS.notFound;
    case 409:
      return HELIX_ERROR_KINDS.conflict;
    case 429:
      return HELIX_ERROR_KINDS.rateLimited;
    default:
      return status >= 500 ? HELIX_ERROR_KINDS.server : HELIX_ERROR_KINDS.badRequest;
  }
}

/** Twitch's `{ error, status, message }`, or whatever came instead, as a typed error. */
function errorFromResponse(method: string, path: string, status: number, text: string): HelixError {
  let detail = 'no error body';
  try {
    const parsed = helixErrorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) detail = [parsed.data.error, parsed.data.message].filter(Boolean).join(': ').slice(0, 300) || detail;
  } catch {
    detail = 'error body is not JSON';
  }
  return new HelixError(kindForStatus(status), status, `Helix ${method} ${path} answered ${status} (${detail})`);
}
