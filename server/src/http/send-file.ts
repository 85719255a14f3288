import type { Context } from 'koa';
import send from 'send';
import { AppError } from '../errors/index.js';

/** What `send` emits: an HTTP error with a status and, for 416, the `Content-Range` to answer with. */
type SendError = Error & { status?: number; headers?: Record<string, string> };

/**
 * Streams one file with `send` (Range, validators, conditional requests) straight to the
 * socket; Koa stays out of the response unless it fails before the headers went out, in which
 * case the caller's error middleware answers as usual (404 for anything not there, 416 for a
 * bad range).
 */
export function sendFile(
  ctx: Context,
  file: { root: string; path: string },
  options: { send: send.SendOptions; headers: Record<string, string> },
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const res = ctx.res;
    const done = () => resolve();
    res.once('finish', done);
    res.once('close', done);
    const stream = send(ctx.req, file.path, { ...options.send, root: file.root, dotfiles: 'deny', index: false });
    stream.on('headers', () => {
      // Koa starts every response at 404; send only ever sets 206/304/412/416 itself.
      res.statusCode = 200;
      for (const [name, value] of Object.entries(options.headers)) res.setHeader(name, value);
    });
    stream.on('error', (error: SendError) => {
      res.off('finish', done);
      res.off('close', done);
      if (res.headersSent) {
        res.destroy(error);
        resolve();
        return;
      }
      ctx.respond = true;
      reject(sendError(error));
    });
    ctx.respond = false;
    stream.pipe(res);
  });
}

function sendError(error: SendError): Error {
  if (error.status === 416) {
    return new AppError('range_not_satisfiable', 'the range is outside the file', { headers: { ...error.headers } });
  }
  // 404 (no such file), 403 (a dotfile or a malicious path), 400: all just "not here".
  if (error.status !== undefined && error.status >= 400 && error.status < 500) return new AppError('not_found', 'no such file');
  return error;
}
