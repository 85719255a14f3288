import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../server/src/config.js';
import { createLogger } from '../../server/src/observability/index.js';
import { startServer, type RunningServer } from '../../server/src/start-server.js';
import { createEventSubSender, deliver, type EventSubSender, type EventSubWebhookRequest } from '../fakes/twitch/eventsub.js';

export const TEST_CHANNEL = 'acme/morning-show';
export const TEST_SECRET = 'test-eventsub-secret-0123456789';
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const TEST_UPLOAD_TOKEN_SECRET = 'test-upload-token-secret-0123456789abcdef';
export const TEST_BROADCASTER = { id: '4242', login: 'acme_live', name: 'Acme_Live' } as const;

export interface TestServerOptions {
  /** Unset: the in-memory bus. */
  readonly natsUrl?: string;
  readonly graceMs?: number;
  readonly coalesceMs?: number;
  /** More environment, as `main.ts` would read it. */
  readonly env?: Record<string, string>;
  /** Create TEST_CHANNEL linked to TEST_BROADCASTER, uploads open (default true). */
  readonly withChannel?: boolean;
}

export interface TestServer {
  readonly url: string;
  /** This server's own quarantine directory (a fresh temp dir unless QUARANTINE_DIR is given); removed by `close()`. */
  readonly quarantineDir: string;
  /** This server's own published media directory (a fresh temp dir unless MEDIA_DIR is given); removed by `close()`. */
  readonly mediaDir: string;
  readonly running: RunningServer;
  /** Twitch's side: builds signed EventSub requests for TEST_BROADCASTER. */
  readonly twitch: EventSubSender;
  /** POSTs a Twitch request to our `/webhooks/twitch`. */
  send(request: EventSubWebhookRequest): Promise<Response>;
  /** `fetch` relative to the server, with the admin token when `admin` is set. */
  request(path: string, init?: RequestInit & { admin?: boolean }): Promise<Response>;
  goLive(title?: string): Promise<void>;
  updateTitle(title: string): Promise<void>;
  goOffline(): Promise<void>;
  close(): Promise<void>;
}

/** Boots the real server (real routes, real pipeline, memory or NATS bus) on a free port. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownQuarantine = options.env?.['QUARANTINE_DIR'] === undefined ? await mkdtemp(join(tmpdir(), 'live-upload-quarantine-')) : undefined;
  const ownMedia = options.env?.['MEDIA_DIR'] === undefined ? await mkdtemp(join(tmpdir(), 'live-upload-media-')) : undefined;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    TWITCH_EVENTSUB_SECRET: TEST_SECRET,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    OFFLINE_GRACE_MS: String(options.graceMs ?? 300),
    COALESCE_MS: String(options.coalesceMs ?? 100),
    LOG_LEVEL: 'silent',
    DEMO: '0',
    UPLOAD_TOKEN_SECRET: TEST_UPLOAD_TOKEN_SECRET,
    ...(ownQuarantine ? { QUARANTINE_DIR: ownQuarantine } : {}),
    ...(ownMedia ? { MEDIA_DIR: ownMedia } : {}),
    ...(options.natsUrl ? { NATS_URL: options.natsUrl } : {}),
    // Every test client comes from 127.0.0.1, so one client's share is the channel's whole cap (config clamps it
    // to UPLOAD_CHANNEL_MAX_PENDING) unless a test sets UPLOAD_CLIENT_MAX_PENDING itself (upload-routes-places.test.ts).
    UPLOAD_CLIENT_MAX_PENDING: '100000',
    // Tests poll an upload's status until its checks decide, which with the vision checks takes
    // seconds: at the default 120 a minute their polls would be 429s. Tests of the limit set their own.
    STATUS_RATE_LIMIT_PER_MINUTE: '100000',
    ...options.env,
  });
  const running = await startServer(config, { logger: createLogger({ level: process.env['TEST_LOG_LEVEL'] === 'debug' ? 'debug' : 'silent' }) });
  const url = running.url;
  const twitch = createEventSubSender({ secret: TEST_SECRET, callback: `${url}/webhooks/twitch`, broadcaster: TEST_BROADCASTER });

  const request = (path: string, init: RequestInit & { admin?: boolean } = {}) => {
    const { admin, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (admin) headers.set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
    return fetch(`${url}${path}`, { ...rest, headers });
  };
  const send = (twitchRequest: EventSubWebhookRequest) => deliver(`${url}/webhooks/twitch`, twitchRequest);
  const sendOk = async (twitchRequest: EventSubWebhookRequest) => {
    const response = await send(twitchRequest);
    if (response.status !== 204) throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
  };

  if (options.withChannel ?? true) {
    const response = await request(`/api/v1/channels/${TEST_CHANNEL}`, {
      method: 'PUT',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Acme Morning Show', uploads: 'open', providers: { twitch: { user_id: TEST_BROADCASTER.id, login: TEST_BROADCASTER.login } } }),
    });
    if (!response.ok) throw new Error(`could not create the test channel: ${response.status} ${await response.text()}`);
  }

  return {
    url,
    quarantineDir: config.quarantineDir,
    mediaDir: config.mediaDir,
    running,
    twitch,
    send,
    request,
    goLive: async (title) => {
      await sendOk(twitch.streamOnline());
      if (title !== undefined) await sendOk(twitch.channelUpdate({ title }));
    },
    updateTitle: (title) => sendOk(twitch.channelUpdate({ title })),
    goOffline: () => sendOk(twitch.streamOffline()),
    close: async () => {
      await running.close();
      if (ownQuarantine) await rm(ownQuarantine, { recursive: true, force: true });
      if (ownMedia) await rm(ownMedia, { recursive: true, force: true });
    },
  };
}
