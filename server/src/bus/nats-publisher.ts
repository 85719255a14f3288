import { MsgHdrsImpl, createInbox, type Msg, type NatsConnection, type Subscription } from 'nats';

/** What JetStream answers a stored (or deduplicated) publish with. */
export interface JetStreamPublishAck {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

/** What a publish may ask of JetStream besides storing the message. */
export interface JetStreamPublishOptions {
  /** `Nats-Msg-Id`: a second publish with this id inside the stream's duplicate window is acked as a duplicate, not stored. */
  readonly msgId?: string;
  /** `Nats-Expected-Last-Subject-Sequence`: stored only if the subject's last message has this sequence (a KV compare-and-set). */
  readonly expectedLastSubjectSequence?: number;
}

/** Why a publish got no ack: JetStream's own error, nobody listening on the subject, or no answer in time. */
export class JetStreamPublishError extends Error {
  /** JetStream's `err_code` when it refused the publish (`api_error`). */
  readonly apiErrorCode: number | undefined;

  constructor(
    message: string,
    readonly reason: 'api_error' | 'no_stream' | 'timeout' | 'closed',
    options?: ErrorOptions & { readonly apiErrorCode?: number },
  ) {
    super(message, options);
    this.name = 'JetStreamPublishError';
    this.apiErrorCode = options?.apiErrorCode;
  }
}

interface QueuedPublish {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly options: JetStreamPublishOptions;
  readonly resolve: (ack: JetStreamPublishAck) => void;
  readonly reject: (error: JetStreamPublishError) => void;
}

interface AwaitedAck {
  readonly subject: string;
  readonly deadlineMs: number;
  readonly resolve: (ack: JetStreamPublishAck) => void;
  readonly reject: (error: JetStreamPublishError) => void;
}

const MSG_ID_HEADER = 'Nats-Msg-Id';
const EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER = 'Nats-Expected-Last-Subject-Sequence';
const UTF8 = new TextDecoder();

/**
 * Durable publishes to JetStream, each resolving with its ack, written to the connection
 * together: every publish asked for during one turn of the event loop goes out in one write
 * on the next (`setImmediate`), and the acks come back on one reply subscription. This is
 * what `PublishAsync` is in the Go client; nats.js's `js.publish` is a request per message
 * instead, so a burst of webhooks, each answered in its own turn, cost one socket write (and
 * one wake-up of nats-server) per event, plus a timer and a discarded error per request.
 * One timer covers the deadlines of everything awaiting an ack: they are kept in send order
 * and share one timeout, so the oldest is always the next to expire.
 */
export class JetStreamPublisher {
  private readonly inbox: string;
  private readonly subscription: Subscription;
  private queued: QueuedPublish[] = [];
  /** By reply token, in send order. */
  private readonly awaited = new Map<string, AwaitedAck>();
  private nextToken = 0;
  private expiryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.inbox = createInbox();
    this.subscription = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => this.onReply(err, msg) });
  }

  /** Resolves once JetStream has stored the message (or dropped it as a duplicate of `options.msgId`). */
  publish(subject: string, data: Uint8Array, options: JetStreamPublishOptions = {}): Promise<JetStreamPublishAck> {
    if (this.closed) return Promise.reject(new JetStreamPublishError(`cannot publish to ${subject}: the publisher is closed`, 'closed'));
    return new Promise((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(this.flush);
      this.queued.push({ subject, data, options, resolve, reject });
    });
  }

  /** Fails whatever is still queued or awaiting an ack and stops listening for acks. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.expiryTimer);
    const error = (subject: string) => new JetStreamPublishError(`publish to ${subject} got no ack: the connection is closing`, 'closed');
    for (const queued of this.queued.splice(0)) queued.reject(error(queued.subject));
    for (const awaited of this.awaited.values()) awaited.reject(error(awaited.subject));
    this.awaited.clear();
    this.subscription.unsubscribe();
  }

  private readonly flush = (): void => {
    const batch = this.queued;
    this.queued = [];
    if (this.closed) return;
    const deadlineMs = this.now() + this.timeoutMs;
    for (const { subject, data, options, resolve, reject } of batch) {
      const token = (this.nextToken++).toString(36);
      const reply = `${this.inbox}.${token}`;
      try {
        const header = publishHeaders(options);
        this.nc.publish(subject, data, header ? { reply, headers: header } : { reply });
      } catch (error) {
        reject(new JetStreamPublishError(`publish to ${subject} failed: ${error instanceof Error ? error.message : String(error)}`, 'closed', { cause: error }));
        continue;
      }
      this.awaited.set(token, { subject, deadlineMs, resolve, reject });
    }
    this.armExpiry();
  };

  private onReply(err: Error | null, msg: Msg): void {
    if (err) return; // the subscription itself failed: the awaited acks expire
    const token = msg.subject.slice(this.inbox.length + 1);
    const awaited = this.awaited.get(token);
    if (!awaited) return; // expired already
    this.awaited.delete(token);
    const outcome = readPublishReply(msg, awaited.subject);
    if (outcome instanceof JetStreamPublishError) awaited.reject(outcome);
    else awaited.resolve(outcome);
  }

  private armExpiry(): void {
    if (this.expiryTimer !== undefined || this.awaited.size === 0) return;
    const oldest = this.awaited.values().next().value as AwaitedAck;
    this.expiryTimer = setTimeout(this.expire, Math.max(0, oldest.deadlineMs - this.now()));
    this.expiryTimer.unref();
  }

  private readonly expire = (): void => {
    this.expiryTimer = undefined;
    const nowMs = this.now();
    for (const [token, awaited] of this.awaited) {
      if (awaited.deadlineMs > nowMs) break;
      this.awaited.delete(token);
      awaited.reject(new JetStreamPublishError(`no JetStream ack for a publish to ${awaited.subject} within ${this.timeoutMs} ms`, 'timeout'));
    }
    this.armExpiry();
  };
}

function publishHeaders({ msgId, expectedLastSubjectSequence }: JetStreamPublishOptions): PublishHeaders | undefined {
  if (msgId === undefined && expectedLastSubjectSequence === undefined) return undefined;
  // A KV create (every outbound delivery's first record) always carries the same header: made once.
  if (msgId === undefined && expectedLastSubjectSequence === 0) return (expectNothingStored ??= new PublishHeaders([[EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER, '0']]));
  const fields: Array<readonly [string, string]> = [];
  if (msgId !== undefined) fields.push([MSG_ID_HEADER, msgId]);
  if (expectedLastSubjectSequence !== undefined) fields.push([EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER, String(expectedLastSubjectSequence)]);
  return new PublishHeaders(fields);
}

let expectNothingStored: PublishHeaders | undefined;

const LINE_BREAK = /[\r\n]/;

/**
 * The headers of one publish, written out once as they are made. nats.js's own (`headers()`,
 * `set`, `encode`) canonicalize each name, search the table for it, and encode through a
 * TextEncoder's fresh ArrayBuffer on every publish: about 5 µs per webhook on the loaded
 * machine, against about 1 µs for this (bench/README, ingest). It is still a `MsgHdrs` with
 * the same fields; nats.js reads it through `encode` when it writes the message. Values are
 * checked and trimmed as nats.js's `set` does: a CR or LF would end the header block early.
 */
class PublishHeaders extends MsgHdrsImpl {
  private readonly wire: string;
  /** The encoded block, made at the first publish and reused (nats.js copies it out, never writes it). */
  private bytes: Uint8Array | undefined;

  /** `fields`: canonical header names (as JetStream spells them) and their values. */
  constructor(fields: ReadonlyArray<readonly [string, string]>) {
    super();
    let wire = 'NATS/1.0';
    for (const [name, raw] of fields) {
      if (LINE_BREAK.test(raw)) throw new Error(`header ${name} may not contain a CR or LF`);
      const value = raw.trim();
      this.headers.set(name, [value]);
      wire += `\r\n${name}: ${value}`;
    }
    this.wire = `${wire}\r\n\r\n`;
  }

  override encode(): Uint8Array {
    return (this.bytes ??= Buffer.from(this.wire, 'utf8'));
  }
}

/** A JetStream publish reply: a PubAck, an API error, or the server's 503 "no responders" when no stream listens. */
export function readPublishReply(msg: Pick<Msg, 'data' | 'headers'>, subject: string): JetStreamPublishAck | JetStreamPublishError {
  if (msg.data.length === 0 && msg.headers?.code === 503) {
    return new JetStreamPublishError(`no stream captures subject ${subject}`, 'no_stream');
  }
  let reply: unknown;
  try {
    reply = JSON.parse(UTF8.decode(msg.data));
  } catch (error) {
    return new JetStreamPublishError(`publish to ${subject}: the ack is not JSON`, 'api_error', { cause: error });
  }
  if (typeof reply !== 'object' || reply === null) return new JetStreamPublishError(`publish to ${subject}: the ack is not an object`, 'api_error');
  const { error, stream, seq, duplicate } = reply as { error?: { code?: unknown; err_code?: unknown; description?: unknown }; stream?: unknown; seq?: unknown; duplicate?: unknown };
  if (error !== undefined) {
    const description = typeof error?.description === 'string' ? error.description : 'unknown error';
    const apiErrorCode = typeof error?.err_code === 'number' ? error.err_code : undefined;
    return new JetStreamPublishError(`JetStream refused a publish to ${subject}: ${description} (${String(error?.err_code ?? error?.code)})`, 'api_error', { apiErrorCode });
  }
  if (typeof stream !== 'string' || typeof seq !== 'number') return new JetStreamPublishError(`publish to ${subject}: the ack names no stream and sequence`, 'api_error');
  return { stream, seq, duplicate: duplicate === true };
}
