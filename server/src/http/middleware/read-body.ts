import type { Context } from 'koa';
import type { z } from 'zod';
import { AppError } from '../../errors/index.js';
import { readRequestBody } from '../read-request-body.js';

export const MAX_JSON_BODY_BYTES = 64 * 1024;

/** Reads the exact request bytes, refusing more than `limitBytes` with a 413 before buffering them. */
export function readRawBody(ctx: Context, limitBytes: number): Promise<Buffer> {
  return readRequestBody(ctx.req, limitBytes);
}

/** Parses UTF-8 JSON text; a 400 `invalid_json` when it is not. */
export function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (error) {
    throw new AppError('invalid_json', 'body is not valid UTF-8 JSON', { cause: error });
  }
}

/** Names the first offending field: `providers.twitch.user_id: must be a numeric Twitch user id`. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid body';
  const path = issue.path.length > 0 ? issue.path.join('.') : 'body';
  return `${path}: ${issue.message}`;
}

/** Reads a JSON body of at most `limitBytes` and validates it; 415 / 413 / 400 with the field named. */
export async function readJsonBody<T>(ctx: Context, schema: z.ZodType<T>, limitBytes = MAX_JSON_BODY_BYTES): Promise<T> {
  if (!ctx.is('application/json')) throw new AppError('unsupported_media_type', 'Content-Type must be application/json');
  const value = parseJson(await readRawBody(ctx, limitBytes));
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('invalid_body', describeZodError(parsed.error));
  return parsed.data;
}
