/**
 * One keep-alive HTTP/1.1 connection that sends pre-serialized requests and reads back only
 * what a load generator needs: each response's status code, found by its status line, headers
 * and `Content-Length` body. Node's `http.request` client cost the webhook load generator about
 * a full core during the ingest baseline (issue 26), so the baseline's figure was partly the
 * client's; writing prepared bytes on a socket and scanning the answer costs a fraction of it,
 * and both targets get the same client.
 *
 * It understands what our server and the baseline send (a status line, headers, a body of
 * `Content-Length` bytes or none); a chunked or unframed answer is reported as an error (-1)
 * and the connection is replaced.
 */
import { connect, type Socket } from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;
const CHUNKED = /\r\ntransfer-encoding:[ \t]*chunked/i;
const CONNECTION_CLOSE = /\r\nconnection:[ \t]*close/i;

/** Serializes a POST once, so sending it is one socket write. */
export function serializePost(host: string, port: number, path: string, headers: Readonly<Record<string, string>>, body: Buffer): Buffer {
  let head = `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: keep-alive\r\n`;
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (lower === 'host' || lower === 'connection' || lower === 'content-length') continue;
    head += `${name}: ${headers[name]}\r\n`;
  }
  head += `Content-Length: ${body.byteLength}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** A connection that carries one request at a time; reconnects after an error or `Connection: close`. */
export class RawHttpConnection {
  private socket: Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: ((status: number) => void) | undefined;
  private closeAfter = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** Sends `request` (from `serializePost`) and resolves with the response's status, or -1 on a socket error. */
  send(request: Buffer): Promise<number> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.buffered = Buffer.alloc(0);
      this.ensureSocket().write(request);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private ensureSocket(): Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = () => {
      // A socket already replaced says nothing about the request on its successor.
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.finish(-1);
    };
    socket.on('error', fail);
    socket.on('close', fail);
    this.socket = socket;
    return socket;
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headerEnd = this.buffered.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.buffered.toString('latin1', 0, headerEnd);
    const status = Number(head.slice(9, 12));
    if (CHUNKED.test(head)) {
      this.replaceSocket();
      this.finish(-1);
      return;
    }
    const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
    if (this.buffered.length < headerEnd + HEADER_END.length + length) return;
    this.closeAfter = CONNECTION_CLOSE.test(head);
    this.buffered = Buffer.alloc(0);
    if (this.closeAfter) this.replaceSocket();
    this.finish(Number.isInteger(status) ? status : -1);
  }

  private replaceSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.removeAllListeners('close');
    socket?.removeAllListeners('error');
    socket?.on('error', () => undefined);
    socket?.destroy();
  }

  private finish(status: number): void {
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.(status);
  }
}
