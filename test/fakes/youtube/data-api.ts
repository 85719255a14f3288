/**
 * A fake of the YouTube Data API v3, written from its reference
 * (https://developers.google.com/youtube/v3/docs): `videos.list`, `channels.list`,
 * `playlistItems.list` and `search.list`, with API-key checking, per-method quota costs and
 * Google's JSON error format (403 `quotaExceeded`, 400 `keyInvalid`, ...). Test controls
 * make a channel's video go live, change viewers or title, end, or vanish.
 *
 * `channels.list?mine=true` answers for the user of an OAuth `Authorization: Bearer` token
 * (no API key), as resolved by `resolveUserToken` (the Google OAuth fake's `tokenInfo`):
 * 401 `authError` for an unknown or expired token, 403 `insufficientPermissions` without a
 * YouTube scope, 401 `required` for `mine=true` without a token.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Documented quota costs. */
export const FAKE_QUOTA_COSTS = { videos: 1, channels: 1, playlistItems: 1, search: 100 } as const;
type Resource = keyof typeof FAKE_QUOTA_COSTS;

interface FakeVideo {
  id: string;
  channelId: string;
  title: string;
  publishedAtMs: number;
  live?: { scheduledStartMs: number; actualStartMs?: number; actualEndMs?: number; viewers?: number; chatId: string };
}

interface FakeChannel {
  id: string;
  title: string;
  uploads: string;
  /** Newest first, like the uploads playlist. */
  videoIds: string[];
}

export interface FakeApiCall {
  readonly resource: string;
  /** The query without `key`. */
  readonly params: Record<string, string>;
  readonly status: number;
}

export interface FakeYouTubeDataApi {
  /** What production calls `dataApiBaseUrl`: requests go to `{baseUrl}/youtube/v3/...`. */
  readonly baseUrl: string;
  readonly calls: readonly FakeApiCall[];
  /** Quota units spent (only successful calls count, as with Google). */
  quotaUsed(): number;
  setDailyQuota(units: number): void;
  addChannel(channelId: string, title?: string): void;
  /** A normal upload (never live). */
  upload(channelId: string, options?: { title?: string; videoId?: string }): string;
  /** A broadcast that started at `startedAtMs` and is live now. */
  goLive(channelId: string, options?: { title?: string; videoId?: string; startedAtMs?: number; viewers?: number }): string;
  setViewers(videoId: string, viewers: number): void;
  setTitle(videoId: string, title: string): void;
  endLive(videoId: string, endedAtMs?: number): void;
  deleteVideo(videoId: string): void;
  close(): Promise<void>;
}

/** What an OAuth access token stands for: the user's channel and the granted scopes. */
export type ResolveUserToken = (accessToken: string) => { readonly channelId: string; readonly scopes: readonly string[] } | undefined;

const YOUTUBE_SCOPES = new Set([
  'https://www.googleapis.com/auth/youtube',
  'https://www.googleapis.com/auth/youtube.readonly',
  'https://www.googleapis.com/auth/youtube.force-ssl',
]);

export async function startFakeYouTubeDataApi(options: { apiKey: string; dailyQuota?: number; resolveUserToken?: ResolveUserToken }): Promise<FakeYouTubeDataApi> {
  const channels = new Map<string, FakeChannel>();
  const videos = new Map<string, FakeVideo>();
  const calls: FakeApiCall[] = [];
  let dailyQuota = options.dailyQuota ?? 10_000;
  let used = 0;

  const newVideoId = () => randomBytes(8).toString('base64url').slice(0, 11);
  const etag = () => randomBytes(12).toString('base64url');

  function channel(channelId: string): FakeChannel {
    const found = channels.get(channelId);
    if (!found) throw new Error(`fake YouTube: no channel ${channelId}; addChannel first`);
    return found;
  }
  function video(videoId: string): FakeVideo {
    const found = videos.get(videoId);
    if (!found) throw new Error(`fake YouTube: no video ${videoId}`);
    return found;
  }

  function videoResource(item: FakeVideo, parts: Set<string>): Record<string, unknown> {
    const resource: Record<string, unknown> = { kind: 'youtube#video', etag: etag(), id: item.id };
    const live = item.live;
    const content = live?.actualStartMs !== undefined && live.actualEndMs === undefined ? 'live' : live && live.actualStartMs === undefined ? 'upcoming' : 'none';
    if (parts.has('snippet')) {
      resource['snippet'] = {
        publishedAt: new Date(item.publishedAtMs).toISOString(),
        channelId: item.channelId,
        title: item.title,
        description: '',
        thumbnails: { default: { url: `https://i.ytimg.com/vi/${item.id}/default_live.jpg`, width: 120, height: 90 } },
        channelTitle: channels.get(item.channelId)?.title ?? '',
        categoryId: '20',
        liveBroadcastContent: content,
        localized: { title: item.title, description: '' },
      };
    }
    if (parts.has('liveStreamingDetails') && live) {
      const details: Record<string, unknown> = { scheduledStartTime: new Date(live.scheduledStartMs).toISOString() };
      if (live.actualStartMs !== undefined) details['actualStartTime'] = new Date(live.actualStartMs).toISOString();
      if (live.actualEndMs !== undefined) details['actualEndTime'] = new Date(live.actualEndMs).toISOString();
      if (content === 'live') {
        // uint64 values are strings in the API's JSON.
        if (live.viewers !== undefined) details['concurrentViewers'] = String(live.viewers);
        details['activeLiveChatId'] = live.chatId;
      }
      resource['liveStreamingDetails'] = details;
    }
    return resource;
  }

  function list(kind: string, items: unknown[]): Record<string, unknown> {
    return { kind, etag: etag(), pageInfo: { totalResults: items.length, resultsPerPage: items.length }, items };
  }

  function handle(resource: Resource, params: URLSearchParams, userChannelId?: string): { status: number; body: unknown } {
    const part = params.get('part');
    if (!part) return googleError(400, 'required', 'youtube.parameter', 'No filter selected. Expected one of: ...', 'INVALID_ARGUMENT');
    const parts = new Set(part.split(','));
    switch (resource) {
      case 'videos': {
        const ids = (params.get('id') ?? '').split(',').filter(Boolean);
        if (ids.length === 0) return googleError(400, 'missingRequiredParameter', 'youtube.parameter', 'No filter selected.', 'INVALID_ARGUMENT');
        if (ids.length > 50) return googleError(400, 'badRequest', 'youtube.parameter', 'The request specifies too many video IDs.', 'INVALID_ARGUMENT');
        const items = ids.map((id) => videos.get(id)).filter((item): item is FakeVideo => item !== undefined).map((item) => videoResource(item, parts));
        return { status: 200, body: list('youtube#videoListResponse', items) };
      }
      case 'channels': {
        const ids = params.get('mine') === 'true' ? (userChannelId === undefined ? [] : [userChannelId]) : (params.get('id') ?? '').split(',').filter(Boolean);
        const items = ids.map((id) => channels.get(id)).filter((item): item is FakeChannel => item !== undefined).map((item) => ({
          kind: 'youtube#channel',
          etag: etag(),
          id: item.id,
          ...(parts.has('snippet') ? { snippet: { title: item.title, description: '', publishedAt: '2015-01-01T00:00:00Z', localized: { title: item.title, description: '' } } } : {}),
          ...(parts.has('contentDetails') ? { contentDetails: { relatedPlaylists: { likes: '', uploads: item.uploads } } } : {}),
        }));
        return { status: 200, body: list('youtube#channelListResponse', items) };
      }
      case 'playlistItems': {
        const playlistId = params.get('playlistId');
        const owner = [...channels.values()].find((item) => item.uploads === playlistId);
        if (!owner) return googleError(404, 'playlistNotFound', 'youtube.playlistItem', 'The playlist identified with the request\'s <code>playlistId</code> parameter cannot be found.', 'NOT_FOUND');
        const max = Math.min(50, Math.max(0, Number(params.get('maxResults') ?? '5')));
        const items = owner.videoIds.slice(0, max).map((videoId, position) => ({
          kind: 'youtube#playlistItem',
          etag: etag(),
          id: randomBytes(12).toString('base64url'),
          ...(parts.has('snippet') ? { snippet: { position, resourceId: { kind: 'youtube#video', videoId } } } : {}),
          ...(parts.has('contentDetails') ? { contentDetails: { videoId, videoPublishedAt: new Date(video(videoId).publishedAtMs).toISOString() } } : {}),
        }));
        return { status: 200, body: list('youtube#playlistItemListResponse', items) };
      }
      case 'search': {
        const channelId = params.get('channelId');
        const live = params.get('eventType') === 'live';
        const items = [...videos.values()]
          .filter((item) => item.channelId === channelId && (!live || (item.live?.actualStartMs !== undefined && item.live.actualEndMs === undefined)))
          .map((item) => ({ kind: 'youtube#searchResult', etag: etag(), id: { kind: 'youtube#video', videoId: item.id } }));
        return { status: 200, body: list('youtube#searchListResponse', items) };
      }
    }
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://api.invalid');
    const resource = /^\/youtube\/v3\/(videos|channels|playlistItems|search)$/.exec(url.pathname)?.[1] as Resource | undefined;
    const params: Record<string, string> = {};
    for (const [name, value] of url.searchParams) if (name !== 'key') params[name] = value;
    const reply = (status: number, body: unknown) => {
      calls.push({ resource: resource ?? url.pathname, params, status });
      send(res, status, body);
    };
    if (req.method !== 'GET' || !resource) {
      reply(404, googleError(404, 'notFound', 'global', 'Not Found', 'NOT_FOUND').body);
      return;
    }
    const bearer = /^Bearer (\S+)$/.exec(req.headers['authorization'] ?? '')?.[1];
    let userChannelId: string | undefined;
    if (bearer !== undefined) {
      const user = options.resolveUserToken?.(bearer);
      if (!user) {
        const error = googleError(401, 'authError', 'global', 'Request had invalid authentication credentials. Expected OAuth 2 access token.', 'UNAUTHENTICATED');
        reply(error.status, error.body);
        return;
      }
      if (!user.scopes.some((scope) => YOUTUBE_SCOPES.has(scope))) {
        const error = googleError(403, 'insufficientPermissions', 'global', 'Request had insufficient authentication scopes.', 'PERMISSION_DENIED');
        reply(error.status, error.body);
        return;
      }
      userChannelId = user.channelId;
    } else if (url.searchParams.get('mine') === 'true') {
      const error = googleError(401, 'required', 'global', 'Login Required.', 'UNAUTHENTICATED');
      reply(error.status, error.body);
      return;
    }
    const key = url.searchParams.get('key');
    if (bearer === undefined && !key) {
      const error = googleError(403, 'forbidden', 'global', 'The request is missing a valid API key.', 'PERMISSION_DENIED');
      reply(error.status, error.body);
      return;
    }
    if (bearer === undefined && key !== options.apiKey) {
      const error = googleError(400, 'badRequest', 'global', 'API key not valid. Please pass a valid API key.', 'INVALID_ARGUMENT');
      reply(error.status, error.body);
      return;
    }
    const cost = FAKE_QUOTA_COSTS[resource];
    if (used + cost > dailyQuota) {
      const error = googleError(
        403,
        'quotaExceeded',
        'youtube.quota',
        'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.',
        'PERMISSION_DENIED',
      );
      reply(error.status, error.body);
      return;
    }
    const result = handle(resource, url.searchParams, userChannelId);
    if (result.status === 200) used += cost;
    reply(result.status, result.body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function addVideo(channelId: string, item: FakeVideo): string {
    channel(channelId).videoIds.unshift(item.id);
    videos.set(item.id, item);
    return item.id;
  }

  return {
    baseUrl,
    calls,
    quotaUsed: () => used,
    setDailyQuota(units) {
      dailyQuota = units;
    },
    addChannel(channelId, title = 'Channel title') {
      if (!/^UC[A-Za-z0-9_-]{22}$/.test(channelId)) throw new Error('a YouTube channel id is UC + 22 characters');
      channels.set(channelId, { id: channelId, title, uploads: `UU${channelId.slice(2)}`, videoIds: [] });
    },
    upload(channelId, uploadOptions = {}) {
      return addVideo(channelId, { id: uploadOptions.videoId ?? newVideoId(), channelId, title: uploadOptions.title ?? 'An upload', publishedAtMs: Date.now() });
    },
    goLive(channelId, liveOptions = {}) {
      const startedAtMs = liveOptions.startedAtMs ?? Date.now();
      return addVideo(channelId, {
        id: liveOptions.videoId ?? newVideoId(),
        channelId,
        title: liveOptions.title ?? 'Live now',
        publishedAtMs: startedAtMs - 60_000,
        live: {
          scheduledStartMs: startedAtMs - 60_000,
          actualStartMs: startedAtMs,
          ...(liveOptions.viewers === undefined ? {} : { viewers: liveOptions.viewers }),
          chatId: randomBytes(16).toString('base64url'),
        },
      });
    },
    setViewers(videoId, viewers) {
      const live = video(videoId).live;
      if (!live) throw new Error('fake YouTube: not a live broadcast');
      live.viewers = viewers;
    },
    setTitle(videoId, title) {
      video(videoId).title = title;
    },
    endLive(videoId, endedAtMs = Date.now()) {
      const live = video(videoId).live;
      if (!live) throw new Error('fake YouTube: not a live broadcast');
      live.actualEndMs = endedAtMs;
    },
    deleteVideo(videoId) {
      const item = video(videoId);
      videos.delete(videoId);
      const owner = channels.get(item.channelId);
      if (owner) owner.videoIds = owner.videoIds.filter((id) => id !== videoId);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Google's error body: `{ "error": { "code", "message", "errors": [...], "status" } }`. */
function googleError(code: number, reason: string, domain: string, message: string, status: string): { status: number; body: unknown } {
  return { status: code, body: { error: { code, message, errors: [{ message, domain, reason }], status } } };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
}
