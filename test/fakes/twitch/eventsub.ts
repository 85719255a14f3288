/**
 * A fake of Twitch's EventSub webhook SENDER, written from Twitch's documentation
 * (https://dev.twitch.tv/docs/eventsub/handling-webhook-events/) and deliberately independent
 * of our production code: it has its own header table and its own HMAC, so a test that
 * verifies its requests with our verifier checks two implementations against each other.
 *
 * A sender builds complete requests (all Twitch headers, the body bytes exactly as sent);
 * the free functions below turn a good request into a hostile one.
 */
import { createHmac, randomBytes, randomInt, randomUUID } from 'node:crypto';

/** Header names as Twitch documents them. */
export const TWITCH_EVENTSUB_HEADERS = {
  messageId: 'Twitch-Eventsub-Message-Id',
  messageRetry: 'Twitch-Eventsub-Message-Retry',
  messageType: 'Twitch-Eventsub-Message-Type',
  messageSignature: 'Twitch-Eventsub-Message-Signature',
  messageTimestamp: 'Twitch-Eventsub-Message-Timestamp',
  subscriptionType: 'Twitch-Eventsub-Subscription-Type',
  subscriptionVersion: 'Twitch-Eventsub-Subscription-Version',
} as const;

export type TwitchEventSubHeader = (typeof TWITCH_EVENTSUB_HEADERS)[keyof typeof TWITCH_EVENTSUB_HEADERS];

export const TWITCH_MESSAGE_TYPES = {
  notification: 'notification',
  verification: 'webhook_callback_verification',
  revocation: 'revocation',
} as const;

export type TwitchMessageType = (typeof TWITCH_MESSAGE_TYPES)[keyof typeof TWITCH_MESSAGE_TYPES];

/** Reasons Twitch gives in `subscription.status` when it revokes. */
export type TwitchRevocationStatus =
  | 'authorization_revoked'
  | 'user_removed'
  | 'notification_failures_exceeded'
  | 'version_removed';

export interface FakeBroadcaster {
  readonly id: string;
  readonly login: string;
  readonly name: string;
}

/** One webhook request as Twitch would POST it. `body` is the exact text sent (UTF-8). */
export interface EventSubWebhookRequest {
  readonly messageType: TwitchMessageType;
  readonly messageId: string;
  readonly timestamp: string;
  readonly subscriptionType: string;
  readonly subscriptionVersion: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface MessageOptions {
  /** Defaults to a fresh UUID. */
  readonly messageId?: string;
  /** When Twitch sends it (ms); defaults to the sender's clock. */
  readonly sentAtMs?: number;
  /** An exact timestamp header value; wins over `sentAtMs`. */
  readonly timestamp?: string;
  /** `Twitch-Eventsub-Message-Retry`; 0 on the first attempt. */
  readonly retry?: number;
}

export interface StreamOnlineOptions extends MessageOptions {
  readonly streamId?: string;
  /** When the stream started (ms); defaults to the send time. */
  readonly startedAtMs?: number;
  readonly type?: 'live' | 'playlist' | 'watch_party' | 'premiere' | 'rerun';
}

export interface ChannelUpdateOptions extends MessageOptions {
  readonly title?: string;
  readonly language?: string;
  readonly categoryId?: string;
  readonly categoryName?: string;
  readonly contentClassificationLabels?: readonly string[];
}

export interface EventSubSenderOptions {
  /** The subscription secret (10-100 ASCII characters). */
  readonly secret: string;
  /** The callback URL the subscriptions were created with. */
  readonly callback?: string;
  readonly broadcaster?: FakeBroadcaster;
  /** The sender's clock; defaults to `Date.now`. */
  readonly now?: () => number;
}

export interface EventSubSender {
  readonly secret: string;
  readonly broadcaster: FakeBroadcaster;
  streamOnline(options?: StreamOnlineOptions): EventSubWebhookRequest;
  streamOffline(options?: MessageOptions): EventSubWebhookRequest;
  channelUpdate(options?: ChannelUpdateOptions): EventSubWebhookRequest;
  /** Any subscription type, e.g. one we do not map (`channel.follow` v2). */
  notification(
    type: string,
    version: string,
    event: Record<string, unknown>,
    options?: MessageOptions,
  ): EventSubWebhookRequest;
  verification(type?: string, version?: string, options?: MessageOptions & { challenge?: string }): EventSubWebhookRequest;
  revocation(
    type?: string,
    version?: string,
    options?: MessageOptions & { status?: TwitchRevocationStatus },
  ): EventSubWebhookRequest;
}

const DEFAULT_BROADCASTER: FakeBroadcaster = { id: '1337', login: 'cool_user', name: 'Cool_User' };

export function createEventSubSender(options: EventSubSenderOptions): EventSubSender {
  const secret = options.secret;
  const callback = options.callback ?? 'https://example.com/webhooks/twitch';
  const broadcaster = options.broadcaster ?? DEFAULT_BROADCASTER;
  const now = options.now ?? Date.now;
  const createdAt = twitchTimestamp(now() - 60_000);
  const subscriptionIds = new Map<string, string>();

  const subscription = (type: string, version: string, status: string) => {
    const key = `${type}@${version}`;
    let id = subscriptionIds.get(key);
    if (id === undefined) {
      id = randomUUID();
      subscriptionIds.set(key, id);
    }
    return {
      id,
      status,
      type,
      version,
      cost: 0,
      condition: { broadcaster_user_id: broadcaster.id },
      transport: { method: 'webhook', callback },
      created_at: createdAt,
    };
  };

  const build = (
    messageType: TwitchMessageType,
    type: string,
    version: string,
    body: Record<string, unknown>,
    message: MessageOptions,
  ): EventSubWebhookRequest => {
    const messageId = message.messageId ?? randomUUID();
    const timestamp = message.timestamp ?? twitchTimestamp(message.sentAtMs ?? now());
    const text = JSON.stringify(body);
    return {
      messageType,
      messageId,
      timestamp,
      subscriptionType: type,
      subscriptionVersion: version,
      body: text,
      headers: {
        'Content-Type': 'application/json',
        [TWITCH_EVENTSUB_HEADERS.messageId]: messageId,
        [TWITCH_EVENTSUB_HEADERS.messageRetry]: String(message.retry ?? 0),
        [TWITCH_EVENTSUB_HEADERS.messageType]: messageType,
        [TWITCH_EVENTSUB_HEADERS.messageSignature]: twitchSignature(secret, messageId, timestamp, text),
        [TWITCH_EVENTSUB_HEADERS.messageTimestamp]: timestamp,
        [TWITCH_EVENTSUB_HEADERS.subscriptionType]: type,
        [TWITCH_EVENTSUB_HEADERS.subscriptionVersion]: version,
      },
    };
  };

  const broadcasterFields = {
    broadcaster_user_id: broadcaster.id,
    broadcaster_user_login: broadcaster.login,
    broadcaster_user_name: broadcaster.name,
  };

  const notification: EventSubSender['notification'] = (type, version, event, message = {}) =>
    build(TWITCH_MESSAGE_TYPES.notification, type, version, { subscription: subscription(type, version, 'enabled'), event }, message);

  return {
    secret,
    broadcaster,
    notification,
    streamOnline(message = {}) {
      const sentAtMs = message.sentAtMs ?? now();
      return notification(
        'stream.online',
        '1',
        {
          id: message.streamId ?? String(9_000_000_000 + Math.floor(Math.random() * 1_000_000_000)),
          ...broadcasterFields,
          type: message.type ?? 'live',
          started_at: new Date(message.startedAtMs ?? sentAtMs).toISOString(),
        },
        { ...message, sentAtMs },
      );
    },
    streamOffline(message = {}) {
      return notification('stream.offline', '1', { ...broadcasterFields }, message);
    },
    channelUpdate(message = {}) {
      return notification(
        'channel.update',
        '2',
        {
          ...broadcasterFields,
          title: message.title ?? 'Best Stream Ever',
          language: message.language ?? 'en',
          category_id: message.categoryId ?? '509658',
          category_name: message.categoryName ?? 'Just Chatting',
          content_classification_labels: [...(message.contentClassificationLabels ?? [])],
        },
        message,
      );
    },
    verification(type = 'stream.online', version = '1', message = {}) {
      return build(
        TWITCH_MESSAGE_TYPES.verification,
        type,
        version,
        {
          challenge: message.challenge ?? randomBytes(24).toString('base64url'),
          subscription: subscription(type, version, 'webhook_callback_verification_pending'),
        },
        message,
      );
    },
    revocation(type = 'stream.online', version = '1', message = {}) {
      return build(
        TWITCH_MESSAGE_TYPES.revocation,
        type,
        version,
        { subscription: subscription(type, version, message.status ?? 'authorization_revoked') },
        message,
      );
    },
  };
}

/** `sha256=` + hex HMAC-SHA256(secret, message id + timestamp + body), as Twitch documents it. */
export function twitchSignature(secret: string, messageId: string, timestamp: string, body: string | Uint8Array): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(messageId + timestamp);
  hmac.update(body);
  return `sha256=${hmac.digest('hex')}`;
}

/**
 * RFC 3339 with nanoseconds, the way Twitch writes message timestamps:
 * `2023-07-19T10:11:12.123456789Z`. The six sub-millisecond digits are random unless given.
 */
export function twitchTimestamp(ms: number, subMillisecondNanos?: number): string {
  const iso = new Date(ms).toISOString(); // 2023-07-19T10:11:12.123Z
  const nanos = String(subMillisecondNanos ?? randomInt(0, 1_000_000)).padStart(6, '0').slice(0, 6);
  return `${iso.slice(0, 23)}${nanos}Z`;
}

/** The body bytes exactly as the request sends them. */
export function bodyBytes(request: EventSubWebhookRequest): Uint8Array {
  return new TextEncoder().encode(request.body);
}

/** Case-insensitive header lookup, like a server would do. */
export function headerOf(request: EventSubWebhookRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Hostile variants. Each returns a new request; the original is untouched.
// ---------------------------------------------------------------------------------------------

function withHeader(request: EventSubWebhookRequest, name: string, value: string): EventSubWebhookRequest {
  const headers: Record<string, string> = {};
  for (const [key, existing] of Object.entries(request.headers)) {
    if (key.toLowerCase() !== name.toLowerCase()) headers[key] = existing;
  }
  headers[name] = value;
  return { ...request, headers };
}

/**
 * The same JSON, serialized differently (`pretty`: indented; `reordered`: keys reversed), with
 * the signature of the original bytes left in place: what a verifier sees if it re-serializes
 * a parsed body, or what an attacker sends after editing the JSON.
 */
export function reserializeBody(
  request: EventSubWebhookRequest,
  style: 'pretty' | 'reordered' = 'pretty',
): EventSubWebhookRequest {
  const parsed: unknown = JSON.parse(request.body);
  const body = style === 'pretty' ? JSON.stringify(parsed, null, 2) : JSON.stringify(reverseKeys(parsed));
  return { ...request, body };
}

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([key, item]) => [key, reverseKeys(item)]));
  }
  return value;
}

/** Replaces the body with other bytes but keeps the original, now wrong, signature. */
export function withBody(request: EventSubWebhookRequest, body: string): EventSubWebhookRequest {
  return { ...request, body };
}

export function withSignature(request: EventSubWebhookRequest, signature: string): EventSubWebhookRequest {
  return withHeader(request, TWITCH_EVENTSUB_HEADERS.messageSignature, signature);
}

/** The signature header cut to `length` characters (`sha256=` included). */
export function truncateSignature(request: EventSubWebhookRequest, length = 40): EventSubWebhookRequest {
  const signature = headerOf(request, TWITCH_EVENTSUB_HEADERS.messageSignature) ?? '';
  return withSignature(request, signature.slice(0, length));
}

/** The same digest in uppercase hex (Twitch sends lowercase). */
export function uppercaseSignature(request: EventSubWebhookRequest): EventSubWebhookRequest {
  const signature = headerOf(request, TWITCH_EVENTSUB_HEADERS.messageSignature) ?? '';
  return withSignature(request, `sha256=${signature.slice('sha256='.length).toUpperCase()}`);
}

/** Signs the request (as it is now) with `secret`: a wrong secret, or a re-sign after tampering. */
export function resign(request: EventSubWebhookRequest, secret: string): EventSubWebhookRequest {
  return withSignature(request, twitchSignature(secret, request.messageId, request.timestamp, request.body));
}

/**
 * Another timestamp header. With `secret` the request is re-signed, so only the timestamp
 * check can reject it (a stale replay or a clock far ahead); without, the signature breaks too.
 */
export function withTimestamp(request: EventSubWebhookRequest, timestamp: string, secret?: string): EventSubWebhookRequest {
  const restamped = { ...withHeader(request, TWITCH_EVENTSUB_HEADERS.messageTimestamp, timestamp), timestamp };
  return secret === undefined ? restamped : resign(restamped, secret);
}

/** Another message id, re-signed with `secret` when given. */
export function withMessageId(request: EventSubWebhookRequest, messageId: string, secret?: string): EventSubWebhookRequest {
  const renamed = { ...withHeader(request, TWITCH_EVENTSUB_HEADERS.messageId, messageId), messageId };
  return secret === undefined ? renamed : resign(renamed, secret);
}

export function withoutHeader(request: EventSubWebhookRequest, name: TwitchEventSubHeader | string): EventSubWebhookRequest {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() !== name.toLowerCase()) headers[key] = value;
  }
  return { ...request, headers };
}

/**
 * Twitch's retry of an unacknowledged delivery: same message id, body, timestamp and signature;
 * `Twitch-Eventsub-Message-Retry` one higher.
 */
export function redeliver(request: EventSubWebhookRequest): EventSubWebhookRequest {
  const retry = Number(headerOf(request, TWITCH_EVENTSUB_HEADERS.messageRetry) ?? '0') + 1;
  return withHeader(request, TWITCH_EVENTSUB_HEADERS.messageRetry, String(retry));
}

/** POSTs the request to `url` exactly as built (the body text goes out as its UTF-8 bytes, untouched). */
export async function deliver(url: string | URL, request: EventSubWebhookRequest, init: { signal?: AbortSignal } = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
    ...(init.signal ? { signal: init.signal } : {}),
  });
}
