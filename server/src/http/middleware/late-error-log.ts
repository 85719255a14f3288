import type { ParameterizedContext } from 'koa';
import type { Logger } from '../../observability/index.js';
import type { AppState } from '../app-state.js';

/** What a socket reports when the client went away mid-response: nothing to fix on our side. */
const CLIENT_HANG_UPS = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

/** Did the client hang up (a viewer leaving mid-download, a tab closed during a range request)? */
export function isClientHangUp(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (typeof code === 'string' && CLIENT_HANG_UPS.has(code)) || error.message === 'aborted';
}

/**
 * Koa's `error` listener: errors it hears after a response began (a stream body failing, the
 * socket closing under it) go to the JSON log instead of Koa's default stack trace on stderr;
 * a client hang-up is `debug`, anything else `error`, with the request's path and id.
 */
export function lateErrorLog(logger: Logger): (error: unknown, ctx?: ParameterizedContext<AppState>) => void {
  return (error, ctx) => {
    const request = ctx ? { method: ctx.method, path: ctx.path, request_id: ctx.state?.requestId } : {};
    if (isClientHangUp(error)) logger.debug({ ...request, code: (error as { code?: string }).code }, 'client went away mid-response');
    else logger.error({ ...request, err: error }, 'response failed after it began');
  };
}
