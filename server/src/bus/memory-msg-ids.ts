/**
 * A memory stream's duplicate window: the msg ids stored within it, each with the sequence it
 * was stored at and when, in typed arrays instead of a `Map` of strings.
 *
 * `LIVE_RAW` remembers a raw event's id for ten minutes, some 600k ids at bench rates. As map
 * keys each id was a string (a cons string and its parts) that lived long enough to be copied
 * by the young generation's collections, promoted, and marked by every full collection while it
 * lived: about a quarter of what the webhook path promoted (bench/README.md, ingest). Here an
 * id is copied as UTF-16 code units into a ring the collector never looks into, and the caller's
 * string is garbage as soon as the request is done.
 *
 * Ids leave oldest first (`dropOldest`), in the order they were added: the ring of entries, the
 * ring of code units and an open-addressing table (linear probing, backward-shift deletion, at
 * most half full) over the entries. Lookups compare the code units, so two ids are the same
 * exactly when their strings are equal, as with a `Map`.
 */
export class MsgIdWindow {
  private entryCapacity = 0;
  /** Ring position of each entry's first code unit. */
  private entryStart = new Uint32Array(0);
  private entryLength = new Uint32Array(0);
  private entryHash = new Int32Array(0);
  private entrySeq = new Float64Array(0);
  private entryAtMs = new Float64Array(0);
  /** Ring index of the oldest entry. */
  private oldest = 0;
  private count = 0;

  private units = new Uint16Array(0);
  /** Ring position of the oldest entry's first code unit, and how many units are in use. */
  private unitsStart = 0;
  private unitsUsed = 0;

  /** Entry ring index + 1 per slot; 0 is an empty slot. */
  private slots = new Int32Array(0);

  get size(): number {
    return this.count;
  }

  /** The sequence `id` was stored at, or undefined when it is not in the window. */
  seqOf(id: string): number | undefined {
    if (this.count === 0) return undefined;
    const entry = this.find(id, hashOf(id));
    return entry < 0 ? undefined : this.entrySeq[entry];
  }

  /** Adds `id` (not in the window: the caller looked it up) as the newest entry. */
  add(id: string, seq: number, atMs: number): void {
    if (this.count === this.entryCapacity || this.unitsUsed + id.length > this.units.length) this.grow(id.length);
    const entry = (this.oldest + this.count) & (this.entryCapacity - 1);
    const unitMask = this.units.length - 1;
    const start = (this.unitsStart + this.unitsUsed) & unitMask;
    for (let i = 0; i < id.length; i++) this.units[(start + i) & unitMask] = id.charCodeAt(i);
    const hash = hashOf(id);
    this.entryStart[entry] = start;
    this.entryLength[entry] = id.length;
    this.entryHash[entry] = hash;
    this.entrySeq[entry] = seq;
    this.entryAtMs[entry] = atMs;
    this.count++;
    this.unitsUsed += id.length;
    const slotMask = this.slots.length - 1;
    let slot = hash & slotMask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & slotMask;
    this.slots[slot] = entry + 1;
  }

  /** When the oldest id was added, or undefined when the window is empty. */
  get oldestAtMs(): number | undefined {
    return this.count === 0 ? undefined : this.entryAtMs[this.oldest];
  }

  /** Forgets the oldest id (nothing when empty). */
  dropOldest(): void {
    if (this.count === 0) return;
    const entry = this.oldest;
    this.removeSlotOf(entry);
    const length = this.entryLength[entry]!;
    this.unitsStart = (this.unitsStart + length) & (this.units.length - 1);
    this.unitsUsed -= length;
    this.oldest = (entry + 1) & (this.entryCapacity - 1);
    this.count--;
    if (this.count === 0) {
      this.oldest = 0;
      this.unitsStart = 0;
    }
  }

  /** The entry holding `id`, or -1. */
  private find(id: string, hash: number): number {
    const slotMask = this.slots.length - 1;
    for (let slot = hash & slotMask; this.slots[slot] !== 0; slot = (slot + 1) & slotMask) {
      const entry = this.slots[slot]! - 1;
      if (this.entryHash[entry] === hash && this.holds(entry, id)) return entry;
    }
    return -1;
  }

  private holds(entry: number, id: string): boolean {
    if (this.entryLength[entry] !== id.length) return false;
    const unitMask = this.units.length - 1;
    const start = this.entryStart[entry]!;
    for (let i = 0; i < id.length; i++) if (this.units[(start + i) & unitMask] !== id.charCodeAt(i)) return false;
    return true;
  }

  /** Empties the entry's slot and moves later slots of its probe run back, so no lookup stops short. */
  private removeSlotOf(entry: number): void {
    const slots = this.slots;
    const slotMask = slots.length - 1;
    let hole = this.entryHash[entry]! & slotMask;
    while (slots[hole] !== entry + 1) hole = (hole + 1) & slotMask;
    for (let next = (hole + 1) & slotMask; slots[next] !== 0; next = (next + 1) & slotMask) {
      const home = this.entryHash[slots[next]! - 1]! & slotMask;
      // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
      const homeAfterHole = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (!homeAfterHole) {
        slots[hole] = slots[next]!;
        hole = next;
      }
    }
    slots[hole] = 0;
  }

  /** Doubles what is full (entries, code units), lays both rings out from 0 and rebuilds the table. */
  private grow(unitsNeeded: number): void {
    const entryCapacity = this.count === this.entryCapacity ? Math.max(1024, this.entryCapacity * 2) : this.entryCapacity;
    let unitCapacity = Math.max(this.units.length, 16 * 1024);
    while (this.unitsUsed + unitsNeeded > unitCapacity) unitCapacity *= 2;
    const units = new Uint16Array(unitCapacity);
    const entryStart = new Uint32Array(entryCapacity);
    const entryLength = new Uint32Array(entryCapacity);
    const entryHash = new Int32Array(entryCapacity);
    const entrySeq = new Float64Array(entryCapacity);
    const entryAtMs = new Float64Array(entryCapacity);
    const slots = new Int32Array(entryCapacity * 2);
    const oldEntryMask = this.entryCapacity - 1;
    const oldUnitMask = this.units.length - 1;
    let used = 0;
    for (let i = 0; i < this.count; i++) {
      const from = (this.oldest + i) & oldEntryMask;
      const length = this.entryLength[from]!;
      const start = this.entryStart[from]!;
      for (let k = 0; k < length; k++) units[used + k] = this.units[(start + k) & oldUnitMask]!;
      entryStart[i] = used;
      entryLength[i] = length;
      entryHash[i] = this.entryHash[from]!;
      entrySeq[i] = this.entrySeq[from]!;
      entryAtMs[i] = this.entryAtMs[from]!;
      used += length;
      let slot = entryHash[i]! & (slots.length - 1);
      while (slots[slot] !== 0) slot = (slot + 1) & (slots.length - 1);
      slots[slot] = i + 1;
    }
    this.units = units;
    this.unitsStart = 0;
    this.entryCapacity = entryCapacity;
    this.entryStart = entryStart;
    this.entryLength = entryLength;
    this.entryHash = entryHash;
    this.entrySeq = entrySeq;
    this.entryAtMs = entryAtMs;
    this.oldest = 0;
    this.slots = slots;
  }
}

/** FNV-1a over the UTF-16 code units, as a 32-bit integer. */
function hashOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash | 0;
}
