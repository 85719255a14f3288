import { randomFillSync } from 'node:crypto';
import { ulid } from 'ulid';

const INCOMING_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * ulid's default PRNG makes one `crypto.getRandomValues` call per character (16 per id, tens
 * of µs per request); this one draws the same cryptographic bytes from a pooled buffer.
 */
function pooledRandomSource(): () => number {
  const pool = new Uint8Array(4096);
  let index = pool.length;
  return () => {
    if (index >= pool.length) {
      randomFillSync(pool);
      index = 0;
    }
    return pool[index++]! / 256;
  };
}

const pooledRandom = pooledRandomSource();

/** The caller's `X-Request-Id` when it is sane, else a fresh ULID. */
export function requestIdFor(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && INCOMING_REQUEST_ID.test(incoming) ? incoming : ulid(undefined, pooledRandom);
}
