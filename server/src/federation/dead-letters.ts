import { z } from 'zod';
import { decodeJson, encodeJson, type KvBucket } from '../bus/index.js';

/** A delivery id (`fed_` + 32 hex): the key of its dead letter. */
export const FEDERATION_DELIVERY_ID_PATTERN = /^fed_[0-9a-f]{32}$/;

/** A page cursor: the failure time (ms) and delivery id of the last dead letter of the page before. */
export const DEAD_LETTER_CURSOR_PATTERN = /^[0-9]{1,15}\.fed_[0-9a-f]{32}$/;

export const deadLetterSchema = z.object({
  /** The delivery that gave up (its job's `delivery_id`). */
  delivery_id: z.string(),
  /** `{publisher}/{slug}`: whose key signs it. */
  channel: z.string(),
  inbox: z.string(),
  recipient: z.string(),
  /** `Create`, `Update`, `Delete`, `Accept`, `Reject`. */
  activity_type: z.string(),
  activity_id: z.string().nullable(),
  /** The exact body sent on every attempt, sent again by a retry. */
  activity: z.string(),
  attempts: z.number().int(),
  /** What the last attempt came to (`status 503`, a network error). */
  last_error: z.string(),
  failed_at: z.string(),
  /** The dead letter this delivery was the admin's retry of, if it was one. */
  retry_of: z.string().nullable(),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** A dead letter as the admin list shows it: without the body (`GET .../dead-letters/:id` has it). */
export type DeadLetterSummary = Omit<DeadLetter, 'activity'>;

export interface DeadLetterPage {
  readonly dead_letters: DeadLetterSummary[];
  /** Give as `after` for the next page; null on the last one. */
  readonly next_after: string | null;
}

function cursorOf(letter: DeadLetter): string {
  return `${Date.parse(letter.failed_at)}.${letter.delivery_id}`;
}

/**
 * Federation deliveries that gave up after their retries, kept in KV (until the admin retries
 * or discards them) so every replica lists the same ones. Keyed by delivery id: a job
 * redelivered after its replica died between the write and the queue's ack writes the same
 * dead letter again, not a second one.
 */
export class DeadLetters {
  constructor(private readonly kv: KvBucket) {}

  async put(letter: DeadLetter): Promise<void> {
    await this.kv.put(letter.delivery_id, encodeJson(letter));
  }

  /** The dead letter and its KV revision (a retry derives its new delivery id from both). */
  async read(id: string): Promise<{ letter: DeadLetter; revision: number } | undefined> {
    if (!FEDERATION_DELIVERY_ID_PATTERN.test(id)) return undefined;
    const entry = await this.kv.get(id);
    return entry ? { letter: decodeJson(entry.value, deadLetterSchema), revision: entry.revision } : undefined;
  }

  async remove(id: string): Promise<void> {
    await this.kv.delete(id);
  }

  /**
   * Oldest first, by failure time then id; `after` is the `next_after` of the page before.
   * Reads every dead letter to sort them: a list the admin empties by hand stays small.
   */
  async page(options: { limit: number; after?: string }): Promise<DeadLetterPage> {
    const entries = await Promise.all((await this.kv.keys()).map((key) => this.kv.get(key)));
    const letters = entries.flatMap((entry) => (entry ? [decodeJson(entry.value, deadLetterSchema)] : []));
    const keyed = letters.map((letter) => ({ letter, at: Date.parse(letter.failed_at) })).sort((a, b) => a.at - b.at || (a.letter.delivery_id < b.letter.delivery_id ? -1 : 1));
    let start = 0;
    if (options.after !== undefined) {
      const [atText, id] = options.after.split('.') as [string, string];
      const at = Number(atText);
      start = keyed.findIndex((item) => item.at > at || (item.at === at && item.letter.delivery_id > id));
      if (start === -1) start = keyed.length;
    }
    const slice = keyed.slice(start, start + options.limit).map((item) => item.letter);
    const more = start + options.limit < keyed.length;
    return {
      dead_letters: slice.map(({ activity: _activity, ...summary }) => summary),
      next_after: more && slice.length > 0 ? cursorOf(slice[slice.length - 1]!) : null,
    };
  }
}
