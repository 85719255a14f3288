/**
 * A copy the caller cannot change under us, nor we under the caller, from Node's own pool.
 * Stream messages and deliveries come from arenas of their own instead (`ByteArena`): a
 * stream keeps its messages in publish order and drops them oldest first, and a delivery is
 * decoded and let go, so their slabs empty in order. A KV value is neither: one current
 * value of a key written long ago would keep a whole slab alive.
 */
export function copyBytes(data: Uint8Array): Uint8Array {
  return Buffer.from(data);
}
