import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { Registry } from 'prom-client';
import { AuditLog } from '../audit/index.js';
import type { Bus } from '../bus/index.js';
import { Federation, type FederationSettings } from './index.js';
import type { AppState } from '../http/app-state.js';
import { federationRoutes } from '../http/federation-routes.js';
import { errorHandler } from '../http/middleware/error-handler.js';
import { requireBearer } from '../http/middleware/require-bearer.js';
import { createLogger } from '../observability/index.js';

/** The admin bearer of `startFederationServer`. */
export const FEDERATION_ADMIN_TOKEN = 'federation-admin-token';

/** Federation on our side, with no SSRF exception but loopback (where the fakes listen); quick retries. */
export const TRUSTING_FEDERATION: FederationSettings = { requireHttps: false, allowPrivateHosts: ['127.0.0.1'], timeoutMs: 5000, retryScheduleMs: [50, 50, 50] };

export interface FederationServer {
  readonly base: string;
  readonly federation: Federation;
  /** Its own registry: the federation metrics of this server alone. */
  readonly registry: Registry;
  close(): Promise<void>;
}

/**
 * For tests only (kept beside the module, as `bus.contract.ts` is, so that it uses the server's
 * own Koa). Our federation for tests that need it without the whole server: the real `Federation` and its
 * routes on Koa with the app's error handler, on a real port (so a fake fediverse server can
 * fetch our actor and check our signatures). Only the channel `acme/news` exists.
 */
export async function startFederationServer(bus: Bus, settings: FederationSettings = TRUSTING_FEDERATION, workers = true): Promise<FederationServer> {
  let base = '';
  const registry = new Registry();
  const federation = await Federation.open({
    bus,
    logger: createLogger({ level: 'silent' }),
    registry,
    audit: new AuditLog(bus),
    settings,
    publicUrl: () => base,
    channelExists: async (ref) => ref.publisher === 'acme' && ref.slug === 'news',
    previewUrl: (ref) => `${base}/c/${ref.publisher}/${ref.slug}/preview.jpg`,
    workers,
  });
  const koa = new Koa<AppState>();
  koa.use(errorHandler());
  koa.use(federationRoutes({ federation, requireAdmin: requireBearer(() => [FEDERATION_ADMIN_TOKEN]) }).routes());
  const server: Server = await new Promise((resolve) => {
    const listening = koa.listen(0, '127.0.0.1', () => resolve(listening));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await federation.start();
  return {
    base,
    federation,
    registry,
    close: async () => {
      await federation.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One sample of a metric in a registry (0 when it has none with those labels). */
export async function metricSample(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  const found = (metric?.values ?? []).find((value) => Object.entries(labels).every(([key, wanted]) => String((value.labels as Record<string, unknown>)[key]) === wanted));
  return found?.value ?? 0;
}
