/**
 * Fan-out baseline: a bare `node:http` server that holds N SSE responses (the same response
 * headers and socket options as ours) and, on `POST /trigger`, answers 204 and then writes
 * one pre-serialized frame (a Buffer, encoded once) to every response. No routing, no bus,
 * no per-connection work beyond the write itself: the floor for "tell N subscribers".
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SseBroadcastBaseline {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** The frame the next trigger writes (exact bytes, e.g. a frame our server sent). */
  setFrame(frame: string): void;
  readonly connections: () => number;
  close(): Promise<void>;
}

export async function startSseBroadcastBaseline(host = '127.0.0.1'): Promise<SseBroadcastBaseline> {
  const responses = new Set<ServerResponse>();
  let frame = Buffer.from('event: status\nid: 1\ndata: {}\n\n');
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/trigger') {
      req.resume();
      req.once('end', () => {
        res.writeHead(204).end();
        for (const response of responses) response.write(frame);
      });
      return;
    }
    if (req.method === 'GET' && req.url?.startsWith('/events')) {
      req.socket.setTimeout(0);
      req.socket.setNoDelay(true);
      req.socket.setKeepAlive(true);
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      res.write('retry: 3000\n\n');
      res.write('event: snapshot\nid: 0\ndata: {}\n\n');
      responses.add(res);
      res.once('close', () => responses.delete(res));
      return;
    }
    res.writeHead(404).end();
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host, backlog: 511 }, () => resolve());
  });
  return {
    host,
    port: (server.address() as AddressInfo).port,
    path: '/events',
    setFrame: (text) => {
      frame = Buffer.from(text, 'utf8');
    },
    connections: () => responses.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of responses) response.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
