/**
 * Copies of small byte arrays carved one after another out of larger slabs: one allocation
 * per slab instead of one per copy. What Node's buffer pool does, with slabs sized for a
 * memory bus that copies every message on publish and on delivery (Node's 8 KiB pool made
 * a new `ArrayBuffer` every few messages; what that cost: `bench/README.md`, ingest).
 * A slab is freed by the garbage collector once no copy in it is referenced, so a copy kept
 * long keeps its slab: give an arena only to copies that are let go in the order they were
 * made (a stream's history, dropped oldest first; deliveries, decoded and let go).
 */
export class ByteArena {
  /** Made on the first copy: an arena that copies nothing costs nothing. */
  private slab = Buffer.alloc(0);
  private offset = 0;

  constructor(
    private readonly slabBytes = 64 * 1024,
    /** Larger copies get their own allocation. */
    private readonly maxCopyBytes = 8 * 1024,
  ) {}

  /** A copy of `data`: changing either never changes the other. */
  copy(data: Uint8Array): Uint8Array {
    const length = data.byteLength;
    if (length > this.maxCopyBytes) return new Uint8Array(data);
    if (this.offset + length > this.slab.byteLength) {
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.offset = 0;
    }
    const copy = this.slab.subarray(this.offset, this.offset + length);
    copy.set(data);
    // 8-byte aligned, as Node's pool does.
    this.offset = (this.offset + length + 7) & ~7;
    return copy;
  }

  /**
   * The UTF-8 bytes of `head` followed by those of `tail` (each encoded on its own: a surrogate
   * pair split between them is not joined), written straight into the slab: no
   * joined string is made and flattened first, and no Buffer of Node's 8 KiB pool, which
   * `Buffer.from` of an encoded raw event emptied every few webhooks (bench/README, ingest).
   */
  encode(head: string, tail: string): Uint8Array {
    // At most three bytes per UTF-16 unit; what is not written is not used.
    const most = (head.length + tail.length) * 3;
    if (most > this.maxCopyBytes) return Buffer.from(head + tail, 'utf8');
    if (this.offset + most > this.slab.byteLength) {
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.offset = 0;
    }
    const start = this.offset;
    const headEnd = start + this.slab.write(head, start, 'utf8');
    const end = headEnd + this.slab.write(tail, headEnd, 'utf8');
    this.offset = (end + 7) & ~7;
    return this.slab.subarray(start, end);
  }
}
