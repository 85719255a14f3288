import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { AppError } from '../errors/index.js';

/** How long the rest of a refused body is still read (and dropped) once the answer is out. */
export const REFUSED_BODY_LINGER_MS = 2_000;

/**
 * Reads a request's exact bytes, refusing more than `limitBytes` with a 413: at once when the
 * declared `Content-Length` is larger, else as soon as the bytes received pass the limit (the
 * rest is then discarded, not buffered). The 413 says `Connection: close` and the connection
 * closes gracefully (see `closeGracefullyAfterAnswer`). A client that goes away mid-body
 * rejects with a 400.
 */
export function readRequestBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.reject(refuseBody(request, limitBytes));
  // The listeners are written inline and stay attached: a `done` flag, not removal, ends them
  // (the 'error' listener keeps a late socket error from going unhandled). Named function
  // values cost a defineProperty each under tsx (esbuild keepNames), on every request.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      received += chunk.length;
      if (received > limitBytes) {
        done = true;
        reject(refuseBody(request, limitBytes));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    });
    for (const event of ['aborted', 'error'] as const) {
      request.on(event, (error?: Error) => {
        if (done) return;
        done = true;
        reject(new AppError('bad_request', 'body ended before it was complete', error ? { cause: error } : undefined));
      });
    }
  });
}

/** The 413 of a body over the limit; the rest of it is not read into memory, and the connection closes gracefully after the answer. */
function refuseBody(request: IncomingMessage, limitBytes: number): AppError {
  request.resume();
  closeGracefullyAfterAnswer(request.socket);
  return new AppError('payload_too_large', `body is larger than ${limitBytes} bytes`, { headers: { Connection: 'close' } });
}

/**
 * Node ends a `Connection: close` answer with `socket.destroySoon()`: our FIN, then the socket
 * closes at once. A client still sending the body we refused then gets a reset, and a reset can
 * make its TCP stack drop the answer it has not read yet: it sees "connection reset" instead of
 * our 413. So this socket closes the way web servers' lingering close does: FIN after the
 * answer, then what the client still sends is read and dropped until it closes its side or
 * `REFUSED_BODY_LINGER_MS` pass.
 */
export function closeGracefullyAfterAnswer(socket: Socket): void {
  socket.destroySoon = () => {
    if (socket.writable) socket.end();
    const timer = setTimeout(() => socket.destroy(), REFUSED_BODY_LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.once('end', () => socket.destroy());
    socket.resume();
  };
}
