import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

/** A running bare file server. */
export interface StaticBaseline {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The viewers' baseline of `bench/origin.ts`: a bare `node:http` server streaming files of the
 * media directory the origin's mirror writes to, by path (`/origin/...` maps to the same file
 * our route serves), with a length and nothing else: no Koa, no route matching, no validators or
 * CORS. Run in the origin's process at the same viewer levels, so ours / baseline is what our
 * origin route costs on top of reading the files.
 */
export async function startStaticBaseline(root: string): Promise<StaticBaseline> {
  const server = createServer((request, response) => {
    const path = normalize(join(root, decodeURIComponent((request.url ?? '/').split('?')[0]!)));
    if (!path.startsWith(root)) {
      response.writeHead(404).end();
      return;
    }
    stat(path).then(
      (info) => {
        response.writeHead(200, { 'Content-Length': info.size });
        createReadStream(path).pipe(response);
      },
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
