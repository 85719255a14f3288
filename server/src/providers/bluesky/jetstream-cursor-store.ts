import { z } from 'zod';
import { BUCKETS, SKIP, encodeJson, typedKv, type Bus, type KvCodec, type TypedKv } from '../../bus/index.js';

const CURSOR_KEY = 'cursor';
const cursorSchema = z.object({ time_us: z.number().int().positive() });

/**
 * Where the Jetstream reader resumes: the `time_us` of the last frame it handled, in KV, shared
 * by the fleet (whoever holds the Jetstream lease reads it at start). It only moves forward: a
 * reader that lost its lease and saves late cannot send the next one back.
 */
export class JetstreamCursorStore {
  private constructor(private readonly cursors: TypedKv<number | null>) {}

  static async open(bus: Bus): Promise<JetstreamCursorStore> {
    return new JetstreamCursorStore(typedKv(await bus.kv(BUCKETS.blueskyJetstream), cursorCodec));
  }

  async get(): Promise<number | undefined> {
    return (await this.cursors.get(CURSOR_KEY))?.value ?? undefined;
  }

  /** Saves `timeUs` unless the saved cursor is already there or further on. */
  async advance(timeUs: number): Promise<void> {
    await this.cursors.update(CURSOR_KEY, (current) => (current != null && current >= timeUs ? SKIP : timeUs));
  }
}

/** `{ time_us }`; an unreadable value reads as null, overwritten by the next save. */
const cursorCodec: KvCodec<number | null> = {
  encode: (timeUs) => encodeJson({ time_us: timeUs }),
  decode: (data) => {
    try {
      const parsed = cursorSchema.safeParse(JSON.parse(new TextDecoder().decode(data)));
      return parsed.success ? parsed.data.time_us : null;
    } catch {
      return null;
    }
  },
};
