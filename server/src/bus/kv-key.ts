/** What a KV key may be, on both buses: NATS's rule (tokens of these characters, no empty first or last token). */
const KV_KEY_PATTERN = /^[-/_=.a-zA-Z0-9]+$/;

/** Throws a `RangeError` naming `key` when NATS would refuse it as a KV key. */
export function assertKvKey(key: string): void {
  if (!KV_KEY_PATTERN.test(key) || key.startsWith('.') || key.endsWith('.')) {
    throw new RangeError(`invalid kv key: ${JSON.stringify(key)}`);
  }
}
