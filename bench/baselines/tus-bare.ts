/**
 * Upload baseline: a bare `@tus/server` `Server` over a stock `@tus/file-store` `FileStore`
 * (the same copies the server uses) on a plain node http server. No Koa, no grant, no upload
 * record, no bus, no hooks: what any tus endpoint writing to disk must at least do.
 */
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';

export const BARE_TUS_PATH = '/files';

export interface TusBaselineServer {
  /** The creation URL. */
  readonly endpoint: string;
  readonly directory: string;
  close(): Promise<void>;
}

export async function startTusBaseline(directory: string, host = '127.0.0.1'): Promise<TusBaselineServer> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const tus = new Server({ path: BARE_TUS_PATH, datastore: new FileStore({ directory }) });
  const server = createServer((req, res) => {
    void tus.handle(req, res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}${BARE_TUS_PATH}`,
    directory,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
