import { z } from 'zod';
import { BUCKETS, encodeJson, type Bus, type KvBucket } from '../../bus/index.js';

const CURSOR_KEY = 'cursor';
const cursorSchema = z.object({ time_us: z.number().int().positive() });

/** Where the Jetstream consumer resumes: the `time_us` of the last frame it handled, in KV. */
export class JetstreamCursorStore {
  private constructor(private readonly bucket: KvBucket) {}

  static async open(bus: Bus): Promise<JetstreamCursorStore> {
    return new JetstreamCursorStore(await bus.kv(BUCKETS.blueskyJetstream));
  }

  async get(): Promise<number | undefined> {
    const entry = await this.bucket.get(CURSOR_KEY);
    if (!entry) return undefined;
    try {
      const parsed = cursorSchema.safeParse(JSON.parse(new TextDecoder().decode(entry.value)));
      return parsed.success ? parsed.data.time_us : undefined;
    } catch {
      return undefined;
    }
  }

  async put(timeUs: number): Promise<void> {
    await this.bucket.put(CURSOR_KEY, encodeJson({ time_us: timeUs }));
  }
}

