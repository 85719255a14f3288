import type { Middleware } from 'koa';
import { AppError, type ErrorCode } from '../../errors/index.js';
import type { AppState } from '../app-state.js';

const CODE_FOR_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  501: 'method_not_allowed',
  503: 'not_ready',
};

function isHttpError(error: unknown): error is { status: number; expose?: boolean; message: string; headers?: Record<string, string> } {
  return typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number';
}

/**
 * Any thrown value as the `AppError` the client sees: ours as they are, koa/http-errors 4xx by
 * status, anything else a 500 `internal` (logged by the caller, never shown).
 */
export function asAppError(error: unknown): { appError: AppError; unexpected: boolean } {
  if (error instanceof AppError) return { appError: error, unexpected: false };
  if (isHttpError(error) && error.status >= 400 && error.status < 500) {
    const code = CODE_FOR_STATUS[error.status] ?? 'bad_request';
    return { appError: new AppError(code, error.expose ? error.message : code.replaceAll('_', ' '), { headers: error.headers ?? {} }), unexpected: false };
  }
  return { appError: new AppError('internal', 'internal error'), unexpected: true };
}

/** The JSON body of every error response. */
export function errorBody(error: AppError): { error: { code: string; message: string } } {
  return { error: { code: error.code, message: error.message } };
}

/** The one place errors become responses: `{ "error": { "code", "message" } }`. */
export function errorHandler(): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.respond !== false) {
        throw new AppError('not_found', `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (error) {
      const { appError, unexpected } = asAppError(error);
      if (unexpected) ctx.state.log?.error({ err: error }, 'unhandled error');
      if (appError.status >= 500 && appError.code !== 'internal' && appError.code !== 'not_implemented') {
        ctx.state.log?.warn({ code: appError.code, err: appError.cause }, appError.message);
      }
      if (ctx.headerSent || ctx.respond === false) return;
      ctx.status = appError.status;
      ctx.set(appError.headers);
      ctx.type = 'application/json';
      ctx.body = errorBody(appError);
    }
  };
}

/**
 * The router's 405 (a known path, another method) and 501 (a method no route has) as our JSON
 * errors, keeping the `Allow` header it set (RFC 9110: a 405 lists the resource's methods).
 * Mounted just before the routes, so it sees what `allowedMethods()` answered.
 */
export function methodRefusalsAsErrors(): Middleware<AppState> {
  return async (ctx, next) => {
    await next();
    if ((ctx.status !== 405 && ctx.status !== 501) || (ctx.body !== undefined && ctx.body !== null)) return;
    const headers = { Allow: ctx.response.get('Allow') };
    if (ctx.status === 405) throw new AppError('method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`, { headers });
    throw new AppError('not_implemented', `${ctx.method} is not a method this server knows`, { headers });
  };
}
