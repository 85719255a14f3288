import type { IncomingMessage } from 'node:http';
import { Transform, pipeline, type Readable } from 'node:stream';

/**
 * `readable` with `onFirstBytes` awaited before its first non-empty chunk passes on: what the
 * quarantine data stores run before an upload's first bytes are stored (a failure there fails
 * the write, and nothing is stored).
 */
export function tapFirstBytes(readable: IncomingMessage | Readable, onFirstBytes: () => Promise<void>): Readable {
  let first = true;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (!first || chunk.length === 0) return done(null, chunk);
      first = false;
      onFirstBytes().then(() => done(null, chunk), done);
    },
  });
  pipeline(readable, tap, () => undefined);
  return tap;
}
