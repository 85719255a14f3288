import { connect, type Socket } from 'node:net';
import { request as httpRequest, type RequestOptions } from 'node:http';

export interface RawHttpResponse {
  readonly status: number;
  /** Header names lowercase. */
  readonly headers: Record<string, string | string[] | undefined>;
  /** The body decoded as UTF-8. */
  readonly body: string;
}

export interface RequestFromOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
  /**
   * The local address the connection comes from: `127.0.0.2` is another client of a server on
   * 127.0.0.1 (Linux routes all of 127/8 to the loopback interface), as the server sees it.
   */
  readonly localAddress?: string;
}

/** Request options for `target` on a connection of its own (no agent), from `localAddress` when given. */
function ownConnection(target: URL, options: { headers?: Record<string, string> | undefined; localAddress?: string | undefined }): RequestOptions {
  return {
    hostname: target.hostname,
    port: target.port,
    path: `${target.pathname}${target.search}`,
    headers: options.headers,
    agent: false,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  };
}

/** One HTTP request on its own connection (no agent, no keep-alive), from `localAddress` when given. */
export function requestFrom(url: string, options: RequestFromOptions = {}): Promise<RawHttpResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { ...ownConnection(target, options), method: options.method ?? 'GET' },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

export interface HeldResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Everything received so far (for an event stream: the frames). */
  text(): string;
  /** Resolves once the server has closed the connection. */
  readonly closed: Promise<void>;
  /** Closes our side. */
  close(): void;
}

/**
 * A GET whose response is held open (an event stream), on its own connection from
 * `localAddress` when given; resolves once the status line and headers are in.
 */
export function holdGet(url: string, options: { headers?: Record<string, string>; localAddress?: string } = {}): Promise<HeldResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      ownConnection(target, options),
      (response) => {
        let received = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (received += chunk));
        response.on('error', () => {});
        const closed = new Promise<void>((resolveClosed) => response.socket.once('close', () => resolveClosed()));
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text: () => received, closed, close: () => request.destroy() });
      },
    );
    request.on('error', reject);
    request.end();
  });
}

export interface FloodResult {
  /** Everything the server sent, read only after the flood stopped (as a client busy sending would). */
  readonly received: string;
  /** Bytes of body written before the flood stopped. */
  readonly sentBytes: number;
  /** The socket error that ended the connection, if one did (`ECONNRESET`, `EPIPE`). */
  readonly error: string | undefined;
}

/**
 * Sends `head` (a request line and headers ending in a blank line, typically declaring a huge
 * `Content-Length`), then body bytes as fast as the server takes them, up to `floodBytes`,
 * without reading the answer; only then reads what came back until the server closes. A client
 * streaming a big upload behaves so; a server that answers early and then closes without
 * reading the rest resets the connection, and the reset can take the unread answer with it.
 */
export function floodRequest(host: string, port: number, head: string, floodBytes: number): Promise<FloodResult> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, host);
    const chunks: Buffer[] = [];
    let sentBytes = 0;
    let error: string | undefined;
    let flooding = true;
    socket.pause();
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (failure: NodeJS.ErrnoException) => {
      error ??= failure.code ?? failure.message;
      stopFlooding();
    });
    socket.on('close', () => resolve({ received: Buffer.concat(chunks).toString('utf8'), sentBytes, error }));
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    const stopFlooding = (): void => {
      if (!flooding) return;
      flooding = false;
      socket.resume();
    };
    const pump = (): void => {
      while (flooding && sentBytes < floodBytes && !socket.destroyed) {
        sentBytes += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (sentBytes >= floodBytes) stopFlooding();
    };
    socket.once('connect', () => {
      socket.write(head);
      pump();
    });
  });
}
