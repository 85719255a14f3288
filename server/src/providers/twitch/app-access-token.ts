import { z } from 'zod';

/**
 * A Twitch app access token by the OAuth client-credentials flow
 * (https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/#client-credentials-grant-flow):
 * `POST {auth}/oauth2/token` with `client_id`, `client_secret`, `grant_type=client_credentials`
 * as a form body; the answer is `{ access_token, expires_in, token_type: "bearer" }`.
 *
 * Cached until shortly before `expires_in` runs out; concurrent callers share one request;
 * `invalidate(token)` drops a token Helix answered 401 to, so the next `get()` fetches anew.
 */

const tokenResponseSchema = z.object({
  access_token: z.string().min(1).max(4096),
  expires_in: z.number().int().positive(),
  token_type: z.string().optional(),
});

/** What the token endpoint answers on failure: `{ status, message }`. */
const tokenErrorSchema = z.object({ status: z.number().int().optional(), message: z.string().optional() });

/** The token endpoint refused us or answered something we cannot read. Never carries the secret. */
export class TwitchAuthError extends Error {
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TwitchAuthError';
  }
}

export interface AppAccessTokenOptions {
  /** `https://id.twitch.tv` in production. */
  readonly authBaseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Fetch a new token this long before the old one expires (default: 60 s, at most 10% of its life). */
  readonly refreshMarginMs?: number;
  readonly requestTimeoutMs?: number;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
}

interface CachedToken {
  readonly value: string;
  readonly refreshAtMs: number;
}

export class AppAccessToken {
  private cached: CachedToken | undefined;
  private pending: Promise<string> | undefined;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: AppAccessTokenOptions) {
    this.now = options.now ?? Date.now;
    this.fetch = options.fetch ?? fetch;
  }

  /** The `Client-Id` every Helix request carries with this token. */
  get clientId(): string {
    return this.options.clientId;
  }

  /** A valid token: the cached one, or a fresh one from the token endpoint. */
  async get(): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAtMs) return this.cached.value;
    this.pending ??= this.request().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets `token` (Helix said it is invalid). A newer token already cached is kept. */
  invalidate(token: string): void {
    if (this.cached?.value === token) this.cached = undefined;
  }

  private async request(): Promise<string> {
    const url = new URL('/oauth2/token', this.options.authBaseUrl);
    const body = new URLSearchParams({
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
      grant_type: 'client_credentials',
    });
    const startedAtMs = this.now();
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new TwitchAuthError(0, `Twitch token endpoint unreachable: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new TwitchAuthError(response.status, `Twitch token endpoint answered ${response.status} with a body that is not JSON`, { cause: error });
    }
    if (!response.ok) {
      const parsed = tokenErrorSchema.safeParse(json);
      const reason = parsed.success && parsed.data.message ? parsed.data.message.slice(0, 200) : 'no message';
      throw new TwitchAuthError(response.status, `Twitch token endpoint refused the client credentials (${response.status}: ${reason})`);
    }
    const parsed = tokenResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new TwitchAuthError(response.status, 'Twitch token endpoint answered without access_token/expires_in', { cause: parsed.error });
    }
    const lifetimeMs = parsed.data.expires_in * 1000;
    const marginMs = Math.min(this.options.refreshMarginMs ?? 60_000, lifetimeMs / 10);
    this.cached = { value: parsed.data.access_token, refreshAtMs: startedAtMs + lifetimeMs - marginMs };
    return parsed.data.access_token;
  }
}
