import type { z } from 'zod';
import { KvConflictError, type KvBucket } from './bus.js';
import { decodeJson, encodeJson } from './json.js';
import { assertKvKey } from './kv-key.js';

/**
 * The one read-modify-write of a KV key: read, apply a function, write by compare-and-set
 * (`create` when the key is absent, `update` at the revision read otherwise), and on a lost
 * race read again and retry, a bounded number of times with a small jittered backoff. Every
 * store that changes a value in place goes through `TypedKv.update`; none writes its own loop.
 */

/** Answered by a change function: leave the key as it is (nothing is written). */
export const SKIP: unique symbol = Symbol('kv.skip');

/** Turns a bucket's bytes into values and back. */
export interface KvCodec<T> {
  encode(value: T): Uint8Array;
  /** Throws when the bytes are not a `T`; `update` does not retry that. */
  decode(data: Uint8Array): T;
}

/** JSON validated by `schema` on read, and on write as well with `validateWrites`. */
export function jsonCodec<T>(schema: z.ZodType<T>, options: { readonly validateWrites?: boolean } = {}): KvCodec<T> {
  return {
    encode: options.validateWrites ? (value) => encodeJson(schema.parse(value)) : encodeJson,
    decode: (data) => decodeJson(data, schema),
  };
}

/** Counts compare-and-sets lost to another writer; a prom-client `Counter<'bucket'>` is one. */
export interface KvConflictCounter {
  inc(labels: { bucket: string }): void;
}

export interface TypedKvEntry<T> {
  readonly key: string;
  readonly value: T;
  readonly revision: number;
}

/**
 * What a change function answers: the value to write, `undefined` to delete the key (nothing
 * happens when it is absent), or `SKIP` to leave it. It runs once per attempt, on the value of
 * that attempt's read, so it should only compute; whatever else it does must be safe to repeat.
 */
export type KvChange<T> = (current: T | undefined, entry: TypedKvEntry<T> | undefined) => T | undefined | typeof SKIP | Promise<T | undefined | typeof SKIP>;

export interface KvUpdateOptions<T> {
  /** Compare-and-sets tried before giving up with `KvContentionError`. */
  readonly maxAttempts?: number;
  /**
   * The entry as this caller last wrote or read it (`null`: absent). The first attempt starts
   * from it without a read, and the compare-and-set itself says whether it was still the
   * newest; a stale one costs one lost race and a read. A change that writes nothing on it
   * (`SKIP`, a delete) is decided again on a fresh read, since no write would check it.
   */
  readonly assumed?: TypedKvEntry<T> | null;
}

export interface KvUpdateResult<T> {
  /** `unchanged`: the change answered `SKIP`, or `undefined` for an absent key. */
  readonly outcome: 'created' | 'updated' | 'deleted' | 'unchanged';
  /** What the key holds now (as far as this write knows): undefined when absent. */
  readonly value: T | undefined;
  /** Revision of `value`; undefined when the key is absent. */
  readonly revision: number | undefined;
  /** What the change function was given on the attempt that landed. */
  readonly previous: T | undefined;
}

/** `update` lost the compare-and-set every time it tried. A `KvConflictError`, so code catching that still does. */
export class KvContentionError extends KvConflictError {
  constructor(
    bucket: string,
    key: string,
    readonly attempts: number,
  ) {
    super(bucket, key);
    this.name = 'KvContentionError';
    this.message = `kv update of ${bucket}/${key} gave up: another writer won the compare-and-set ${attempts} times in a row`;
  }
}

export interface TypedKvOptions {
  /** Default for `update`. */
  readonly maxAttempts?: number;
  readonly conflicts?: KvConflictCounter;
  /** Milliseconds to wait after the `conflict`th lost race (1, 2, ...). Default: `jitteredBackoffMs`. */
  readonly backoffMs?: (conflict: number) => number;
  /**
   * Keep the newest entry this process read or wrote per key, and reuse its value when a read
   * finds the same revision (no decode: no JSON parse, no schema check). For hot keys whose
   * values are never mutated in place (the channel states of the pipeline): `remembered(key)`
   * then gives the `assumed` entry of the next `update`. Costs one value per key in memory.
   */
  readonly rememberEntries?: boolean;
}

export const DEFAULT_KV_UPDATE_ATTEMPTS = 10;

/** Full jitter over 1, 2, 4 ... ms, capped at 50: writers that collided spread out, and a lone retry waits about nothing. */
export function jitteredBackoffMs(conflict: number): number {
  return Math.random() * Math.min(50, 2 ** (conflict - 1));
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A KV bucket of `T`s. */
export class TypedKv<T> {
  private readonly maxAttempts: number;
  private readonly backoffMs: (conflict: number) => number;
  /** With `rememberEntries`: the newest entry read or written per key. */
  private readonly remembered: Map<string, TypedKvEntry<T>> | undefined;

  constructor(
    readonly bucket: KvBucket,
    private readonly codec: KvCodec<T>,
    private readonly options: TypedKvOptions = {},
  ) {
    this.maxAttempts = checkedAttempts(options.maxAttempts ?? DEFAULT_KV_UPDATE_ATTEMPTS);
    this.backoffMs = options.backoffMs ?? jitteredBackoffMs;
    this.remembered = options.rememberEntries ? new Map() : undefined;
  }

  get name(): string {
    return this.bucket.name;
  }

  async get(key: string): Promise<TypedKvEntry<T> | undefined> {
    const entry = await this.bucket.get(key);
    if (!entry) return undefined;
    const known = this.remembered?.get(key);
    if (known?.revision === entry.revision) return known;
    const read = { key, value: this.codec.decode(entry.value), revision: entry.revision };
    this.remember(read);
    return read;
  }

  /** With `rememberEntries`: the newest entry of `key` this process read or wrote (it may be stale), else undefined. */
  rememberedEntry(key: string): TypedKvEntry<T> | undefined {
    return this.remembered?.get(key);
  }

  /** Keeps `entry` unless a newer revision is already known (a read overtaken by this process's own write). */
  private remember(entry: TypedKvEntry<T>): void {
    const known = this.remembered?.get(entry.key);
    if (this.remembered && (!known || entry.revision > known.revision)) this.remembered.set(entry.key, entry);
  }

  /**
   * Reads `key` (or starts from `options.assumed`), writes `change(current)` by
   * compare-and-set, and on a lost race reads and applies `change` again. A delete is not conditional (the bus has no compare-and-delete):
   * it removes whatever is there once `change` has seen the key present. Errors other than a
   * lost race (the bus down, `change` or the codec throwing, a key the bus would refuse: a
   * `RangeError` before anything is read) end the update at once.
   */
  async update(key: string, change: KvChange<T>, options: KvUpdateOptions<T> = {}): Promise<KvUpdateResult<T>> {
    assertKvKey(key);
    const maxAttempts = options.maxAttempts === undefined ? this.maxAttempts : checkedAttempts(options.maxAttempts);
    let assumed = options.assumed;
    for (let attempt = 1; ; ) {
      const fromAssumed = assumed !== undefined;
      const entry = fromAssumed ? (assumed ?? undefined) : await this.get(key);
      assumed = undefined;
      const previous = entry?.value;
      const next = await change(previous, entry);
      if (fromAssumed && (next === SKIP || next === undefined)) continue;
      try {
        if (next === SKIP) return { outcome: 'unchanged', value: previous, revision: entry?.revision, previous };
        if (next === undefined) {
          if (!entry) return { outcome: 'unchanged', value: undefined, revision: undefined, previous };
          await this.bucket.delete(key);
          this.remembered?.delete(key);
          return { outcome: 'deleted', value: undefined, revision: undefined, previous };
        }
        const value = this.codec.encode(next);
        const revision = entry ? await this.bucket.update(key, value, entry.revision) : await this.bucket.create(key, value);
        this.remember({ key, value: next, revision });
        return { outcome: entry ? 'updated' : 'created', value: next, revision, previous };
      } catch (error) {
        if (!(error instanceof KvConflictError)) throw error;
        this.options.conflicts?.inc({ bucket: this.bucket.name });
        if (attempt >= maxAttempts) throw new KvContentionError(this.bucket.name, key, attempt);
        const delayMs = this.backoffMs(attempt++);
        if (delayMs > 0) await wait(delayMs);
      }
    }
  }
}

function checkedAttempts(attempts: number): number {
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`maxAttempts must be a positive integer, got ${attempts}`);
  return attempts;
}

/** `new TypedKv(bucket, codec, options)`. */
export function typedKv<T>(bucket: KvBucket, codec: KvCodec<T>, options?: TypedKvOptions): TypedKv<T> {
  return new TypedKv(bucket, codec, options);
}
