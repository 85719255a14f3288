/**
 * A fake Bluesky Jetstream, written from its documentation
 * (https://github.com/bluesky-social/jetstream#consuming-jetstream): a real WebSocket server
 * (`ws`) on a free port; production code reaches it through its Jetstream URL.
 *
 * - `GET /subscribe?wantedCollections=…&wantedDids=…&cursor=…&maxMessageSizeBytes=…`, params
 *   repeated for several values; collections may end in `.*` (an NSID prefix).
 * - JSON text frames: `{ did, time_us, kind: "commit", commit: { rev, operation, collection,
 *   rkey, record?, cid? } }`, `{ did, time_us, kind: "identity", identity: {…} }`,
 *   `{ did, time_us, kind: "account", account: {…} }`.
 * - Filtering is server-side: `wantedDids` filters every kind, `wantedCollections` commits only.
 * - `cursor` (a unix-microseconds `time_us`) replays the kept history from that time on, then
 *   goes live; no cursor starts live.
 * - Subscriber messages `{ "type": "options_update", "payload": { wantedCollections,
 *   wantedDids, maxMessageSizeBytes } }` replace the filter.
 *
 * Test controls emit events, send raw (forged) frames that bypass filtering, drop all
 * connections, and refuse new connections for a while.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';

export interface JetstreamCommit {
  readonly rev: string;
  readonly operation: 'create' | 'update' | 'delete';
  readonly collection: string;
  readonly rkey: string;
  readonly record?: Record<string, unknown>;
  readonly cid?: string;
}

export type JetstreamEvent =
  | { readonly did: string; readonly time_us: number; readonly kind: 'commit'; readonly commit: JetstreamCommit }
  | { readonly did: string; readonly time_us: number; readonly kind: 'identity'; readonly identity: Record<string, unknown> }
  | { readonly did: string; readonly time_us: number; readonly kind: 'account'; readonly account: Record<string, unknown> };

export interface JetstreamFilter {
  readonly wantedCollections: readonly string[];
  readonly wantedDids: readonly string[];
  readonly maxMessageSizeBytes: number;
}

export interface JetstreamSubscriber {
  /** The filter as it is now (after any `options_update`). */
  readonly filter: JetstreamFilter;
  /** The `cursor` the subscriber connected with, if any. */
  readonly cursor: number | undefined;
  /** Every `options_update` received, in order. */
  readonly updates: JetstreamFilter[];
}

export interface FakeJetstream {
  /** `ws://127.0.0.1:{port}`; subscribers connect to `{url}/subscribe`. */
  readonly url: string;
  /** Connected subscribers now. */
  subscribers(): JetstreamSubscriber[];
  /** Every subscriber that ever connected, in order. */
  readonly connections: JetstreamSubscriber[];
  /** Resolves at the next connection (or the `n`th from now). */
  nextConnection(): Promise<JetstreamSubscriber>;
  /** Resolves at the next `options_update` any subscriber sends. */
  nextOptionsUpdate(): Promise<JetstreamFilter>;
  /** Appends a commit to the history and sends it to matching subscribers. */
  emitCommit(did: string, commit: Omit<JetstreamCommit, 'rev'> & { rev?: string }, timeUs?: number): JetstreamEvent;
  emitIdentity(did: string, handle: string): JetstreamEvent;
  emitAccount(did: string, active: boolean): JetstreamEvent;
  /** Sends a frame as is to every subscriber: not kept, not filtered (a forged or broken frame). */
  emitRaw(frame: string | Buffer): void;
  /** Closes every connection (as a Jetstream restart would). */
  dropConnections(): void;
  /** Answers new connections `503` until `acceptConnections()`. */
  refuseConnections(): void;
  acceptConnections(): void;
  /** How many connection attempts were refused. */
  refusedCount(): number;
  /** Resolves at the next refused connection attempt. */
  nextRefusal(): Promise<void>;
  close(): Promise<void>;
}

interface Connection {
  readonly socket: WebSocket;
  readonly info: { filter: JetstreamFilter; readonly cursor: number | undefined; readonly updates: JetstreamFilter[] };
  /** Replay in progress: live events wait behind it. */
  live: boolean;
}

/** Jetstream's limits on the filter (its README). */
const MAX_WANTED_COLLECTIONS = 100;
const MAX_WANTED_DIDS = 10_000;

export async function startFakeJetstream(): Promise<FakeJetstream> {
  const history: JetstreamEvent[] = [];
  const connections = new Set<Connection>();
  const everConnected: JetstreamSubscriber[] = [];
  const connectionWaiters: Array<(subscriber: JetstreamSubscriber) => void> = [];
  const updateWaiters: Array<(filter: JetstreamFilter) => void> = [];
  const refusalWaiters: Array<() => void> = [];
  let refusing = false;
  let refused = 0;
  let lastTimeUs = 0;
  let revCounter = 0;

  const http: Server = createServer((_req, res) => {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  });
  const wss = new WebSocket.Server({ noServer: true });

  function nextTimeUs(): number {
    lastTimeUs = Math.max(Date.now() * 1000, lastTimeUs + 1);
    return lastTimeUs;
  }

  function matches(filter: JetstreamFilter, event: JetstreamEvent): boolean {
    if (filter.wantedDids.length > 0 && !filter.wantedDids.includes(event.did)) return false;
    if (event.kind !== 'commit' || filter.wantedCollections.length === 0) return true;
    const { collection } = event.commit;
    return filter.wantedCollections.some((wanted) => (wanted.endsWith('.*') ? collection.startsWith(wanted.slice(0, -1)) : wanted === collection));
  }

  function sendEvent(connection: Connection, event: JetstreamEvent): void {
    if (!matches(connection.info.filter, event)) return;
    const frame = JSON.stringify(event);
    if (connection.info.filter.maxMessageSizeBytes > 0 && Buffer.byteLength(frame) > connection.info.filter.maxMessageSizeBytes) return;
    if (connection.socket.readyState === WebSocket.OPEN) connection.socket.send(frame);
  }

  function publish(event: JetstreamEvent): JetstreamEvent {
    history.push(event);
    for (const connection of connections) if (connection.live) sendEvent(connection, event);
    return event;
  }

  function parseFilter(params: URLSearchParams): JetstreamFilter | string {
    const wantedCollections = params.getAll('wantedCollections');
    const wantedDids = params.getAll('wantedDids');
    const max = Number(params.get('maxMessageSizeBytes') ?? '0');
    return checkFilter({ wantedCollections, wantedDids, maxMessageSizeBytes: Number.isFinite(max) && max > 0 ? max : 0 });
  }

  function checkFilter(filter: JetstreamFilter): JetstreamFilter | string {
    if (filter.wantedCollections.length > MAX_WANTED_COLLECTIONS) return 'too many wanted collections';
    if (filter.wantedDids.length > MAX_WANTED_DIDS) return 'too many wanted DIDs';
    if (filter.wantedDids.some((did) => !/^did:[a-z]+:[a-zA-Z0-9._:%-]+$/.test(did))) return 'invalid DID in wantedDids';
    return filter;
  }

  function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://jetstream.invalid');
    if (refusing) {
      refused += 1;
      rejectUpgrade(socket, 503, 'Service Unavailable');
      for (const waiter of refusalWaiters.splice(0)) waiter();
      return;
    }
    if (url.pathname !== '/subscribe') {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    const filter = parseFilter(url.searchParams);
    const cursorParam = url.searchParams.get('cursor');
    const cursor = cursorParam === null ? undefined : Number(cursorParam);
    if (typeof filter === 'string' || (cursor !== undefined && !Number.isSafeInteger(cursor))) {
      rejectUpgrade(socket, 400, 'Bad Request');
      return;
    }
    wss.handleUpgrade(req, socket as Socket, head, (ws) => {
      const connection: Connection = { socket: ws, info: { filter, cursor, updates: [] }, live: false };
      connections.add(connection);
      everConnected.push(connection.info);
      ws.on('close', () => connections.delete(connection));
      ws.on('message', (data: unknown) => {
        let message: unknown;
        try {
          message = JSON.parse(String(data));
        } catch {
          return;
        }
        const update = message as { type?: unknown; payload?: { wantedCollections?: unknown; wantedDids?: unknown; maxMessageSizeBytes?: unknown } };
        if (update.type !== 'options_update' || typeof update.payload !== 'object' || update.payload === null) return;
        const payload = update.payload;
        const next = checkFilter({
          wantedCollections: Array.isArray(payload.wantedCollections) ? payload.wantedCollections.map(String) : [],
          wantedDids: Array.isArray(payload.wantedDids) ? payload.wantedDids.map(String) : [],
          maxMessageSizeBytes: typeof payload.maxMessageSizeBytes === 'number' ? payload.maxMessageSizeBytes : connection.info.filter.maxMessageSizeBytes,
        });
        if (typeof next === 'string') {
          ws.close(1008, next);
          return;
        }
        connection.info.filter = next;
        connection.info.updates.push(next);
        for (const waiter of updateWaiters.splice(0)) waiter(next);
      });
      // Replay from the cursor (inclusive), then live.
      if (cursor !== undefined) for (const event of history) if (event.time_us >= cursor) sendEvent(connection, event);
      connection.live = true;
      for (const waiter of connectionWaiters.splice(0)) waiter(connection.info);
    });
  });

  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;

  return {
    url,
    connections: everConnected,
    subscribers: () => [...connections].map((connection) => connection.info),
    nextConnection: () => new Promise((resolve) => connectionWaiters.push(resolve)),
    nextOptionsUpdate: () => new Promise((resolve) => updateWaiters.push(resolve)),
    emitCommit(did, commit, timeUs) {
      revCounter += 1;
      const time_us = timeUs ?? nextTimeUs();
      lastTimeUs = Math.max(lastTimeUs, time_us);
      return publish({ did, time_us, kind: 'commit', commit: { ...commit, rev: commit.rev ?? `3l${String(revCounter).padStart(11, '0')}` } });
    },
    emitIdentity(did, handle) {
      const time_us = nextTimeUs();
      return publish({ did, time_us, kind: 'identity', identity: { did, handle, seq: time_us, time: new Date(time_us / 1000).toISOString() } });
    },
    emitAccount(did, active) {
      const time_us = nextTimeUs();
      return publish({ did, time_us, kind: 'account', account: { active, did, seq: time_us, time: new Date(time_us / 1000).toISOString() } });
    },
    emitRaw(frame) {
      for (const connection of connections) if (connection.socket.readyState === WebSocket.OPEN) connection.socket.send(frame);
    },
    dropConnections() {
      for (const connection of connections) connection.socket.terminate();
    },
    refuseConnections() {
      refusing = true;
    },
    acceptConnections() {
      refusing = false;
    },
    refusedCount: () => refused,
    nextRefusal: () => new Promise((resolve) => refusalWaiters.push(resolve)),
    async close() {
      for (const connection of connections) connection.socket.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
