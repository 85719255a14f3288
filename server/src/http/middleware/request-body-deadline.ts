import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../../errors/index.js';
import { closeGracefullyAfterAnswer } from '../read-request-body.js';
import { errorBody } from './error-handler.js';

export interface RequestBodyDeadlineSettings {
  /** A body that sends nothing this long is cut off; also the time a body gets before its rate counts (config `REQUEST_BODY_TIMEOUT_MS`). */
  readonly timeoutMs: number;
  /** After `timeoutMs`, a body must have averaged at least this (config `REQUEST_BODY_MIN_BYTES_PER_SECOND`). */
  readonly minBytesPerSecond: number;
}

interface WatchedBody {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly startedAt: number;
  readonly startBytes: number;
  lastBytes: number;
  lastProgressAt: number;
}

/**
 * Cuts off request bodies that come too slowly, the way Apache's mod_reqtimeout does
 * (`body=20,MinRate=500`): a body that sends no byte for `timeoutMs` is idle, and one whose
 * bytes come slower than `timeoutMs` plus one second per `minBytesPerSecond` bytes received is
 * too slow. Either way the client gets a `408 request_timeout` JSON (`Connection: close`) when
 * no answer has started, and the connection closes. This guards every body: tus PATCHes (whose
 * received bytes stay stored, so the upload resumes), JSON bodies and webhooks alike; without
 * it only Node's 300 s `requestTimeout` applied, and one byte every 10 s held a connection for
 * five minutes.
 *
 * Bytes are counted on the socket (`bytesRead`), so watching costs the request nothing; time in
 * which we hold the socket paused (our own backpressure, a slow disk) is never the client's
 * fault and counts as progress. One timer checks every watched body.
 */
export class RequestBodyDeadline {
  private readonly watched = new Set<WatchedBody>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly tickMs: number;

  constructor(
    private readonly settings: RequestBodyDeadlineSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.tickMs = Math.max(10, Math.min(1000, Math.floor(settings.timeoutMs / 4)));
  }

  /**
   * Starts watching the body of `request`, if it has one. A small body usually arrives with
   * its headers and is complete before this event-loop turn ends: requests are first only
   * noted, and at the end of the turn those still incomplete are watched, so a webhook burst
   * holds no request in the set (nor keeps it from the garbage collector) for a second.
   */
  watch(request: IncomingMessage, response: ServerResponse): void {
    const headers = request.headers;
    const length = headers['content-length'];
    if (headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return;
    this.noted.push(request, response);
    if (this.noted.length === 2) setImmediate(this.admitNoted);
  }

  /** Requests and responses noted in this turn, in pairs. */
  private noted: Array<IncomingMessage | ServerResponse> = [];

  private readonly admitNoted = (): void => {
    const noted = this.noted;
    this.noted = [];
    const at = this.now();
    for (let i = 0; i < noted.length; i += 2) {
      const request = noted[i] as IncomingMessage;
      const response = noted[i + 1] as ServerResponse;
      if (request.complete || request.destroyed || response.writableEnded) continue;
      const startBytes = request.socket.bytesRead;
      this.watched.add({ request, response, startedAt: at, startBytes, lastBytes: startBytes, lastProgressAt: at });
    }
    if (this.watched.size > 0 && !this.timer) {
      this.timer = setInterval(() => this.check(), this.tickMs);
      this.timer.unref();
    }
  };

  /** Bodies being watched (for tests and metrics). */
  get size(): number {
    return this.watched.size;
  }

  private check(): void {
    const nowMs = this.now();
    const { timeoutMs, minBytesPerSecond } = this.settings;
    for (const body of this.watched) {
      const { request, response } = body;
      if (request.complete || request.destroyed || response.writableEnded) {
        this.watched.delete(body);
        continue;
      }
      const socket = request.socket;
      const bytes = socket.bytesRead;
      if (bytes > body.lastBytes || socket.isPaused()) {
        body.lastBytes = bytes;
        body.lastProgressAt = nowMs;
      }
      const idle = nowMs - body.lastProgressAt >= timeoutMs;
      const slow = nowMs >= body.startedAt + timeoutMs + ((bytes - body.startBytes) / minBytesPerSecond) * 1000;
      if (!idle && !slow) continue;
      this.watched.delete(body);
      cutOff(request, response, idle ? `no byte of the body arrived for ${Math.round(timeoutMs / 1000)} s` : `the body came slower than ${minBytesPerSecond} bytes a second`);
    }
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** Answers 408 when nothing was answered yet, and closes the connection either way. */
function cutOff(request: IncomingMessage, response: ServerResponse, why: string): void {
  if (response.headersSent) {
    request.socket.destroy();
    return;
  }
  const error = new AppError('request_timeout', `${why}; the connection is closed (bytes received so far are kept where the endpoint keeps them: a tus upload resumes from its offset)`);
  const body = JSON.stringify(errorBody(error));
  closeGracefullyAfterAnswer(request.socket);
  response.writeHead(error.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
    Connection: 'close',
  });
  response.end(body);
}
