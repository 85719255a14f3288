import { subjectMatches, type StoredBusMessage, type StreamConfig } from './bus.js';
import { ByteArena } from './byte-arena.js';
import { copyBytes } from './copy-bytes.js';
import { MsgIdWindow } from './memory-msg-ids.js';

/**
 * One stream of the memory bus: its messages by sequence, the msg-id duplicate window, and
 * what it lets go of (max age, the message cap of a `limits` stream, acked work-queue
 * messages). Consumers read it through `nextAfter` and `get` (`memory-durable.ts`).
 */

export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly storedAtMs: number;
}

export class MemoryStream {
  private readonly messages = new Map<number, StoredMessage>();
  /** Msg ids inside the duplicate window, the sequence each was stored at and when; `expire` keeps out the rest. */
  private readonly recentIds = new MsgIdWindow();
  /** Where the stored copies live (see `copyBytes`). */
  private readonly arena = new ByteArena();
  private lastSeq = 0;
  /**
   * Every sequence below this one is gone. Removal walks sequences from here, never a fresh
   * iteration of `messages`: a Map iterator steps over every deleted slot not yet compacted,
   * thousands once the stream drops its oldest messages on every append.
   */
  private firstSeq = 1;

  constructor(
    public config: StreamConfig,
    private readonly now: () => number,
    private readonly maxMessages: number,
    private readonly stillNeeded: (message: StoredMessage) => boolean,
  ) {}

  append(subject: string, data: Uint8Array, msgId: string | undefined): { seq: number; duplicate: boolean } {
    const nowMs = this.now();
    this.expire(nowMs);
    if (msgId !== undefined) {
      const seenSeq = this.recentIds.seqOf(msgId);
      if (seenSeq !== undefined) return { seq: seenSeq, duplicate: true };
    }
    const seq = ++this.lastSeq;
    this.messages.set(seq, { seq, subject, data: this.arena.copy(data), storedAtMs: nowMs });
    if (msgId !== undefined) this.recentIds.add(msgId, seq, nowMs);
    // A work queue's messages leave when they are acked: none is dropped before that.
    if (this.config.retention === 'limits' && this.messages.size > this.maxMessages) this.trim();
    return { seq, duplicate: false };
  }

  /** Lets go of the oldest messages beyond the cap, up to the first one a durable consumer still needs. */
  private trim(): void {
    for (; this.messages.size > this.maxMessages && this.firstSeq <= this.lastSeq; this.firstSeq++) {
      const message = this.messages.get(this.firstSeq);
      if (message && this.stillNeeded(message)) return;
      this.messages.delete(this.firstSeq);
    }
  }

  get(seq: number): StoredMessage | undefined {
    return this.messages.get(seq);
  }

  /** The first stored message after `seq` whose subject matches `filter`. */
  nextAfter(seq: number, filter: string | undefined): StoredMessage | undefined {
    this.expire(this.now());
    for (let candidate = Math.max(seq + 1, this.firstSeq); candidate <= this.lastSeq; candidate++) {
      const message = this.messages.get(candidate);
      if (message && (filter === undefined || subjectMatches(filter, message.subject))) return message;
    }
    return undefined;
  }

  /** Up to `limit` stored messages below `beforeSeq`, newest first. */
  latest(limit: number, beforeSeq: number | undefined): StoredBusMessage[] {
    this.expire(this.now());
    const found: StoredBusMessage[] = [];
    for (let seq = Math.min(this.lastSeq, (beforeSeq ?? Number.POSITIVE_INFINITY) - 1); seq >= this.firstSeq && found.length < limit; seq--) {
      const message = this.messages.get(seq);
      if (message) found.push({ subject: message.subject, data: copyBytes(message.data), seq });
    }
    return found;
  }

  /** Work-queue retention: an acked message is gone. */
  acknowledged(seq: number): void {
    if (this.config.retention === 'workqueue') this.messages.delete(seq);
  }

  get highestSeq(): number {
    return this.lastSeq;
  }

  private expire(nowMs: number): void {
    const ids = this.recentIds;
    while (ids.size > 0 && nowMs - ids.oldestAtMs! >= this.config.duplicateWindowMs) ids.dropOldest();
    if (this.config.maxAgeMs <= 0) return;
    for (; this.firstSeq <= this.lastSeq; this.firstSeq++) {
      const message = this.messages.get(this.firstSeq);
      if (message && nowMs - message.storedAtMs < this.config.maxAgeMs) break;
      this.messages.delete(this.firstSeq);
    }
  }
}
