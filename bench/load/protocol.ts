/** IPC messages between the benchmarks and their helper processes under bench/load/. */

export interface WebhookLoadRun {
  readonly type: 'run';
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly secret: string;
  readonly broadcaster: { readonly id: string; readonly login: string; readonly name: string };
  /** Distinct signed requests built before the clock starts; the run ends when they are used up. */
  readonly requests: number;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Prefix of every message id (keeps ids distinct across runs). */
  readonly label: string;
}

export interface WebhookLoadResult {
  readonly type: 'result';
  readonly id: number;
  /** Requests started inside the measured window and answered 204. */
  readonly ok: number;
  /** Requests answered with anything else (or failed), by status (`error` for socket errors). */
  readonly failures: Record<string, number>;
  readonly windowMs: number;
  /** Latencies (ms) of the measured requests. */
  readonly latenciesMs: Float64Array;
  /** Every request sent, warm-up included, and how many were answered 204. */
  readonly sent: number;
  readonly accepted: number;
  /** True when the pre-built pool ran out before the duration did. */
  readonly poolExhausted: boolean;
  /** Load generator CPU time during the measured window, ms (user + system). */
  readonly clientCpuMs: number;
  readonly buildMs: number;
}

export type WebhookLoadMessage = WebhookLoadRun;

export interface SseOpen {
  readonly type: 'open';
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly connections: number;
  /** Connections being opened at once (keeps the listen backlog from overflowing). */
  readonly batch: number;
  readonly timeoutMs: number;
}

export interface SseArm {
  readonly type: 'arm';
  readonly round: number;
  readonly timeoutMs: number;
}

export interface SseClose {
  readonly type: 'close';
}

export interface SsePing {
  readonly type: 'ping';
  readonly sentAt: number;
}

export type SseClientCommand = SseOpen | SseArm | SseClose | SsePing;

export interface SseReady {
  readonly type: 'ready';
  readonly open: number;
  readonly failed: number;
  readonly firstError: string | undefined;
  readonly elapsedMs: number;
}

export interface SseArmed {
  readonly type: 'armed';
  readonly round: number;
}

export interface SseRound {
  readonly type: 'round';
  readonly round: number;
  /** The whole frame (`event: status` ... blank line) as connection 0 received it, when it came in one piece. */
  readonly sampleFrame: string | undefined;
  /** Wall-clock receive time (ms, `performance.timeOrigin + performance.now()`) per connection that got the event. */
  readonly receivedAt: Float64Array;
  /** Connections that did not get it within the timeout, or had closed. */
  readonly missing: number;
  /** Connections the server closed (or that errored) so far. */
  readonly closed: number;
}

export interface SsePong {
  readonly type: 'pong';
  readonly sentAt: number;
  readonly childAt: number;
}

export interface SseClosed {
  readonly type: 'closed';
}

export type SseClientMessage = SseReady | SseArmed | SseRound | SsePong | SseClosed;

export interface TriggerSend {
  readonly type: 'send';
  readonly id: number;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface TriggerSent {
  readonly type: 'sent';
  readonly id: number;
  readonly status: number;
  /** Wall-clock ms just before the request was written, and when the whole response had arrived. */
  readonly sentAt: number;
  readonly answeredAt: number;
}

export interface TusUploadRun {
  readonly type: 'upload';
  readonly id: number;
  /** The tus creation URL (`POST` here); the upload URL comes back in `Location`. */
  readonly endpoint: string;
  /** Extra headers on every tus request (our server: the grant as a bearer token). */
  readonly headers: Record<string, string>;
  /** The file to send, whole. */
  readonly path: string;
  readonly size: number;
  /** Bytes per PATCH; `size` or more = one streamed PATCH. */
  readonly chunkSize: number;
}

export interface TusUploadResult {
  readonly type: 'uploaded';
  readonly id: number;
  /** Undefined when the upload failed (then `error` says why). */
  readonly timing?: TusUploadTiming;
  readonly error?: string;
}

export interface TusUploadTiming {
  /** The upload URL the server answered (absolute). */
  readonly location: string;
  /** From just before the creation POST until the last PATCH's 204 had arrived. */
  readonly totalMs: number;
  /** The creation POST alone. */
  readonly createMs: number;
  readonly patches: number;
  /** Wall clock (`wallNow`) when the last 204 arrived: the moment the upload was complete for the client. */
  readonly completedAt: number;
  /** Client process CPU (user + system) during the upload, ms. */
  readonly clientCpuMs: number;
}
