import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  /** `http://host:port`, the port the listener got. */
  readonly url: string;
  close(): Promise<void>;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/**
 * `GET /metrics` on a listener of its own (config `METRICS_PORT`, `METRICS_HOST`), the way
 * Prometheus exporters do it: the API port no longer shows Node's version, per-route counts,
 * memory and file descriptors to the world, and the scrape port is for the network that
 * scrapes. With `token`, the scrape also needs `Authorization: Bearer <token>` (any case).
 * Everything else is a 404; every answer is JSON or the exposition format, with nosniff.
 */
export async function startMetricsServer(options: { host: string; port: number; registry: Registry; token?: string }): Promise<MetricsServer> {
  const expected = options.token === undefined ? undefined : sha256(options.token);
  const server: Server = createServer((request, response) => {
    response.setHeader('X-Content-Type-Options', 'nosniff');
    const answer = (status: number, code: string, message: string, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
      response.end(JSON.stringify({ error: { code, message } }));
    };
    request.resume();
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      answer(404, 'not_found', 'only GET /metrics is served here');
      return;
    }
    if (expected) {
      const presented = /^bearer +([\x21-\x7e]{1,512})$/i.exec(request.headers.authorization ?? '')?.[1];
      if (presented === undefined || !timingSafeEqual(sha256(presented), expected)) {
        answer(401, 'unauthorized', 'a valid bearer token is required', { 'WWW-Authenticate': 'Bearer realm="metrics"' });
        return;
      }
    }
    options.registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'Content-Type': options.registry.contentType });
        response.end(text);
      },
      () => answer(500, 'internal', 'internal error'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
