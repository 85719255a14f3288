import type { IncomingMessage } from 'node:http';
import { AppError } from '../errors/index.js';

/**
 * Reads a request's exact bytes, refusing more than `limitBytes` with a 413: at once when the
 * declared `Content-Length` is larger, else as soon as the bytes received pass the limit (the
 * rest is then discarded, not buffered). A client that goes away mid-body rejects with a 400.
 */
export function readRequestBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    request.resume();
    return Promise.reject(new AppError('payload_too_large', `body is larger than ${limitBytes} bytes`));
  }
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
        request.resume();
        reject(new AppError('payload_too_large', `body is larger than ${limitBytes} bytes`));
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
