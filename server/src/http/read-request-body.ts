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
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanUp = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('aborted', onAborted);
      request.off('error', onAborted);
    };
    function onData(chunk: Buffer): void {
      received += chunk.length;
      if (received > limitBytes) {
        cleanUp();
        request.resume();
        reject(new AppError('payload_too_large', `body is larger than ${limitBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    }
    function onEnd(): void {
      cleanUp();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    }
    function onAborted(error?: Error): void {
      cleanUp();
      reject(new AppError('bad_request', 'body ended before it was complete', error ? { cause: error } : undefined));
    }
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('aborted', onAborted);
    request.on('error', onAborted);
  });
}
