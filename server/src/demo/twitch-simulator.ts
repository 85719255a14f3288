import { randomUUID } from 'node:crypto';
import { EVENTSUB_HEADERS, EVENTSUB_MESSAGE_TYPES, TWITCH_SUBSCRIPTION_TYPES, signEventSubMessage } from '../providers/twitch/index.js';

/** The demo broadcaster: a Twitch account that exists only in demo mode. */
export const DEMO_BROADCASTER = { user_id: '1000001', login: 'acme_demo', name: 'Acme_Demo' } as const;

export const SIMULATOR_ACTIONS = ['online', 'offline', 'update'] as const;
export type SimulatorAction = (typeof SIMULATOR_ACTIONS)[number];

export interface SimulatedDelivery {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Twitch writes RFC 3339 with nanoseconds. */
function twitchTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/**
 * A simulated streamer: builds the EventSub notifications Twitch would send for the demo
 * broadcaster, signed with the server's own secret, so the demo exercises the real webhook.
 */
export class TwitchSimulator {
  private streamId: string | undefined;

  constructor(
    private readonly secret: string,
    private readonly callbackUrl: string,
    private readonly now: () => number = Date.now,
  ) {}

  build(action: SimulatorAction, title?: string): SimulatedDelivery {
    const nowMs = this.now();
    const broadcaster = {
      broadcaster_user_id: DEMO_BROADCASTER.user_id,
      broadcaster_user_login: DEMO_BROADCASTER.login,
      broadcaster_user_name: DEMO_BROADCASTER.name,
    };
    let type: { type: string; version: string };
    let event: Record<string, unknown>;
    switch (action) {
      case 'online':
        this.streamId = String(40_000_000_000 + Math.floor(Math.random() * 1_000_000_000));
        type = TWITCH_SUBSCRIPTION_TYPES.streamOnline;
        event = { id: this.streamId, ...broadcaster, type: 'live', started_at: new Date(nowMs).toISOString() };
        break;
      case 'offline':
        this.streamId = undefined;
        type = TWITCH_SUBSCRIPTION_TYPES.streamOffline;
        event = broadcaster;
        break;
      case 'update':
        type = TWITCH_SUBSCRIPTION_TYPES.channelUpdate;
        event = {
          ...broadcaster,
          title: (title ?? 'Morning show').slice(0, 140),
          language: 'en',
          category_id: '509658',
          category_name: 'Just Chatting',
          content_classification_labels: [],
        };
        break;
    }
    const body = JSON.stringify({
      subscription: {
        id: randomUUID(),
        status: 'enabled',
        type: type.type,
        version: type.version,
        cost: 0,
        condition: { broadcaster_user_id: DEMO_BROADCASTER.user_id },
        transport: { method: 'webhook', callback: this.callbackUrl },
        created_at: twitchTimestamp(nowMs - 60_000),
      },
      event,
    });
    const messageId = randomUUID();
    const timestamp = twitchTimestamp(nowMs);
    return {
      body,
      headers: {
        'Content-Type': 'application/json',
        [EVENTSUB_HEADERS.messageId]: messageId,
        [EVENTSUB_HEADERS.messageRetry]: '0',
        [EVENTSUB_HEADERS.messageType]: EVENTSUB_MESSAGE_TYPES.notification,
        [EVENTSUB_HEADERS.messageSignature]: signEventSubMessage(this.secret, messageId, timestamp, new TextEncoder().encode(body)),
        [EVENTSUB_HEADERS.messageTimestamp]: timestamp,
        [EVENTSUB_HEADERS.subscriptionType]: type.type,
        [EVENTSUB_HEADERS.subscriptionVersion]: type.version,
      },
    };
  }
}
