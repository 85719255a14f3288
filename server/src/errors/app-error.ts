import { ERROR_CODES, type ErrorCode } from './error-codes.js';

/** The one error type routes throw; the error middleware turns it into `{ error: { code, message } }`. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.status = ERROR_CODES[code];
    this.headers = options?.headers ?? {};
  }

  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers: Record<string, string>;
}
