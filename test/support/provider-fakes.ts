/**
 * Helpers for end-to-end tests that run the real server against the provider fakes: the
 * publisher's side of account linking (authorize, consent at the fake, back to our callback),
 * Twitch deliveries for a subscription the Helix fake holds, and waiting on a condition.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { liveMetadataSchema, type LiveMetadata } from '@live-upload/schema';
import type { FakeSubscription } from '../fakes/twitch/helix.js';
import { TWITCH_EVENTSUB_HEADERS, TWITCH_MESSAGE_TYPES, twitchSignature, twitchTimestamp } from '../fakes/twitch/eventsub.js';
import type { SseClient, SseEvent } from './sse-client.js';
import type { TestServer } from './test-server.js';

/** Where the publisher's settings page lives: the only origin linking flows may return to. */
export const PUBLISHER_ORIGIN = 'https://publisher.example';

/** A fresh `TOKEN_ENCRYPTION_KEYS` value (one AES-256 key). */
export function tokenKeyRing(): string {
  return `e2e:${randomBytes(32).toString('base64')}`;
}

/** Creates (admin PUT) a channel with no provider links. */
export async function createUnlinkedChannel(server: TestServer, channel: string, title: string): Promise<void> {
  const response = await server.request(`/api/v1/channels/${channel}`, {
    method: 'PUT',
    admin: true,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title, providers: {} }),
  });
  assert.equal(response.status, 201, await response.clone().text());
}

/**
 * Links `provider` to `channel` by OAuth the way a publisher's browser does it: our authorize
 * endpoint, the provider's consent page (the fake answers at once with a 302 back to us), our
 * callback, which sends the browser back to the settings page. Returns that final redirect.
 */
export async function linkByOAuth(server: TestServer, channel: string, provider: 'twitch' | 'youtube'): Promise<URL> {
  const authorize = await server.request(`/api/v1/channels/${channel}/links/${provider}/authorize`, {
    method: 'POST',
    admin: true,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ return_to: `${PUBLISHER_ORIGIN}/settings` }),
  });
  assert.equal(authorize.status, 200, await authorize.clone().text());
  const { authorize_url: authorizeUrl } = (await authorize.json()) as { authorize_url: string };
  const consent = await fetch(authorizeUrl, { redirect: 'manual' });
  assert.equal(consent.status, 302, 'the provider sends the browser back');
  const callback = new URL(consent.headers.get('location') ?? '');
  assert.equal(callback.origin, server.url, 'back to our own callback');
  const back = await fetch(callback, { redirect: 'manual' });
  assert.equal(back.status, 303, await back.clone().text());
  const settings = new URL(back.headers.get('location') ?? '');
  assert.equal(settings.origin, PUBLISHER_ORIGIN);
  assert.equal(settings.searchParams.get('linked'), provider, `linked ${provider}: ${settings.toString()}`);
  return settings;
}

/**
 * What Twitch POSTs for a subscription it holds: the subscription as Helix shows it, the event,
 * every EventSub header, signed with the secret the subscription was created with.
 */
export function deliverForSubscription(subscription: FakeSubscription, event: Record<string, unknown>, options: { secret?: string } = {}): Promise<Response> {
  const messageId = randomUUID();
  const timestamp = twitchTimestamp(Date.now());
  const { secret: subscriptionSecret, ...visible } = subscription;
  const body = JSON.stringify({ subscription: { ...visible, condition: { ...visible.condition }, transport: { ...visible.transport } }, event });
  return fetch(subscription.transport.callback, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      [TWITCH_EVENTSUB_HEADERS.messageId]: messageId,
      [TWITCH_EVENTSUB_HEADERS.messageRetry]: '0',
      [TWITCH_EVENTSUB_HEADERS.messageType]: TWITCH_MESSAGE_TYPES.notification,
      [TWITCH_EVENTSUB_HEADERS.messageSignature]: twitchSignature(options.secret ?? subscriptionSecret, messageId, timestamp, body),
      [TWITCH_EVENTSUB_HEADERS.messageTimestamp]: timestamp,
      [TWITCH_EVENTSUB_HEADERS.subscriptionType]: subscription.type,
      [TWITCH_EVENTSUB_HEADERS.subscriptionVersion]: subscription.version,
    },
    body,
  });
}

/** The one wait for a condition (see `eventually.ts`), here too for the provider tests that import it from the fakes. */
export { eventually } from './eventually.js';

/** The canonical record an SSE `status` or `snapshot` event carries, validated by the one schema. */
export function recordOf(event: SseEvent): LiveMetadata {
  return liveMetadataSchema.parse(JSON.parse(event.data));
}

/** The next `status` event (from `fromIndex` on) whose record matches. */
export async function nextStatus(sse: SseClient, match: (record: LiveMetadata) => boolean, options: { timeoutMs?: number; fromIndex?: number } = {}): Promise<LiveMetadata> {
  const event = await sse.next((candidate) => candidate.event === 'status' && match(recordOf(candidate)), options);
  return recordOf(event);
}

/** The small status of a channel, as `GET .../status` answers it. */
export async function channelStatus(server: TestServer, channel: string): Promise<Record<string, unknown>> {
  const response = await server.request(`/api/v1/channels/${channel}/status`);
  assert.equal(response.status, 200);
  return (await response.json()) as Record<string, unknown>;
}
