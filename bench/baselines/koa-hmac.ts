/**
 * Ingest baseline: a bare Koa app (the same `koa` the server depends on, resolved from
 * server/) whose only handler reads the raw body, checks the Twitch HMAC with node:crypto
 * (constant-time compare) and answers 204. No routing, no logging, no bus: what any webhook
 * receiver must at least do.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type Koa from 'koa';

export interface BaselineServer {
  readonly host: string;
  readonly port: number;
  readonly koaVersion: string;
  close(): Promise<void>;
}

const serverRequire = createRequire(new URL('../../server/package.json', import.meta.url));

/** `koa` exactly as server/src/app.ts gets it (server/node_modules wins over the root copy). */
async function loadServerKoa(): Promise<{ Koa: typeof Koa; version: string }> {
  const module = (await import(pathToFileURL(serverRequire.resolve('koa')).href)) as { default: typeof Koa };
  const { version } = serverRequire('koa/package.json') as { version: string };
  return { Koa: module.default, version };
}

export async function startKoaHmacBaseline(secret: string, host = '127.0.0.1'): Promise<BaselineServer> {
  const { Koa: KoaApp, version } = await loadServerKoa();
  const app = new KoaApp();
  app.use(async (ctx) => {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const messageId = ctx.get('twitch-eventsub-message-id');
    const timestamp = ctx.get('twitch-eventsub-message-timestamp');
    const signature = ctx.get('twitch-eventsub-message-signature');
    const expected = createHmac('sha256', secret).update(messageId + timestamp).update(body).digest();
    const received = Buffer.from(signature.slice('sha256='.length), 'hex');
    ctx.status = received.length === expected.length && timingSafeEqual(received, expected) ? 204 : 403;
  });
  const server: Server = createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return {
    host,
    port: (server.address() as AddressInfo).port,
    koaVersion: version,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
