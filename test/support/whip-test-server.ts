import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../server/src/config.js';
import { createLogger } from '../../server/src/observability/index.js';
import { startServer, type RunningServer } from '../../server/src/start-server.js';
import { TEST_ADMIN_TOKEN, TEST_CHANNEL, TEST_UPLOAD_TOKEN_SECRET } from './test-server.js';
import { TestOriginCollaborators } from './whip-origin-collaborators.js';

export interface WhipTestServer {
  readonly url: string;
  readonly running: RunningServer;
  readonly collaborators: TestOriginCollaborators;
  /** The WHIP endpoint of `channel` (default TEST_CHANNEL). */
  whipUrl(channel?: string): string;
  /** A fresh publisher grant from the admin API (`go-live` unless told otherwise). */
  grant(options?: { channel?: string; capabilities?: string[]; ttlS?: number }): Promise<string>;
  request(path: string, init?: RequestInit & { admin?: boolean }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The real server (`startServer`, real routes, the memory bus or NATS) with the origin turned
 * on and the test collaborators plugged into `StartOptions.origin`, TEST_CHANNEL created.
 * Live ladder settings default to something a loaded 2-core test machine keeps up with.
 */
export async function startWhipTestServer(options: { env?: Record<string, string>; natsUrl?: string } = {}): Promise<WhipTestServer> {
  const scratch = await mkdtemp(join(tmpdir(), 'live-upload-whip-'));
  const collaborators = new TestOriginCollaborators(join(scratch, 'sink'));
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    DEMO: '0',
    UPLOAD_TOKEN_SECRET: TEST_UPLOAD_TOKEN_SECRET,
    QUARANTINE_DIR: join(scratch, 'quarantine'),
    MEDIA_DIR: join(scratch, 'media'),
    WORKERS: 'origin',
    ORIGIN_LADDER_PRESET: 'ultrafast',
    ORIGIN_LADDER_RUNGS: '360,240',
    ORIGIN_HEARTBEAT_MS: '500',
    ORIGIN_STALE_AFTER_MS: '2000',
    // Every test client is 127.0.0.1: one address's offer rate would be the whole suite's (the 429 test sets its own).
    WHIP_OFFERS_PER_MINUTE: '10000',
    ...(options.natsUrl ? { NATS_URL: options.natsUrl } : {}),
    ...options.env,
  });
  const running = await startServer(config, {
    logger: createLogger({ level: process.env['TEST_LOG_LEVEL'] === 'debug' ? 'debug' : 'silent' }),
    origin: () => collaborators,
  });
  const request = (path: string, init: RequestInit & { admin?: boolean } = {}) => {
    const { admin, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (admin) headers.set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
    return fetch(`${running.url}${path}`, { ...rest, headers });
  };
  const created = await request(`/api/v1/channels/${TEST_CHANNEL}`, {
    method: 'PUT',
    admin: true,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Acme Morning Show', uploads: 'open', providers: {} }),
  });
  if (!created.ok) throw new Error(`could not create the test channel: ${created.status} ${await created.text()}`);
  return {
    url: running.url,
    running,
    collaborators,
    whipUrl: (channel = TEST_CHANNEL) => `${running.url}/api/v1/channels/${channel}/whip`,
    grant: async (grantOptions = {}) => {
      const response = await request(`/api/v1/channels/${grantOptions.channel ?? TEST_CHANNEL}/publisher-grants`, {
        method: 'POST',
        admin: true,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ capabilities: grantOptions.capabilities ?? ['go-live'], ...(grantOptions.ttlS ? { ttl_s: grantOptions.ttlS } : {}) }),
      });
      if (response.status !== 201) throw new Error(`no grant: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { token: string }).token;
    },
    request,
    close: async () => {
      await running.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
