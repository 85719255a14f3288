import { Readable } from 'node:stream';
import type { ByteRange, LocalFile, ObjectBody, ObjectRead, ObjectStore, PutOptions, StoredObject } from '../storage/index.js';

/** A write after `fence()`: this replica no longer holds the broadcast's lease. */
export class FencedWriteError extends Error {
  constructor(key: string) {
    super(`write of ${key} refused: this process no longer holds the capture`);
    this.name = 'FencedWriteError';
  }
}

/**
 * The media store as one capture holder sees it: writes go through until `fence()`, then every
 * write throws `FencedWriteError`. A replica that loses (or gives back) a broadcast's lease
 * fences first, so its follower can neither write another segment nor mark the manifest
 * `ended`: the archive is left `following`, as it stands, for the next holder to resume. (The
 * follower's own `stop()` ends the archive; at a hand-over that would be wrong.) `fence()`
 * resolves once the writes already under way have settled, so the next holder, which takes the
 * lease only after that, never reads a manifest page the old one is still writing.
 */
export class FencedObjectStore implements ObjectStore {
  private fenced = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly inner: ObjectStore) {}

  get location(): string {
    return this.inner.location;
  }

  get isFenced(): boolean {
    return this.fenced;
  }

  /** Refuses every later write from the moment it is called; resolves once the writes under way have settled. */
  async fence(): Promise<void> {
    this.fenced = true;
    await Promise.allSettled([...this.inFlight]);
  }

  put(key: string, body: ObjectBody, options?: PutOptions): Promise<StoredObject> {
    return this.write(key, () => this.inner.put(key, body, options), body);
  }

  putFile(key: string, path: string, options?: PutOptions): Promise<StoredObject> {
    return this.write(key, () => this.inner.putFile(key, path, options));
  }

  delete(key: string): Promise<boolean> {
    return this.write(key, () => this.inner.delete(key));
  }

  deletePrefix(prefix: string): Promise<number> {
    return this.write(prefix, () => this.inner.deletePrefix(prefix));
  }

  head(key: string): Promise<StoredObject | undefined> {
    return this.inner.head(key);
  }

  get(key: string, range?: ByteRange): Promise<ObjectRead | undefined> {
    return this.inner.get(key, range);
  }

  list(prefix: string): AsyncIterable<StoredObject> {
    return this.inner.list(prefix);
  }

  localFile(key: string): Promise<LocalFile | undefined> {
    return this.inner.localFile(key);
  }

  private write<T>(key: string, operation: () => Promise<T>, body?: ObjectBody): Promise<T> {
    if (this.fenced) {
      // A refused stream body is not read: destroy it, so its source (a segment download) ends.
      if (body instanceof Readable) body.destroy();
      return Promise.reject(new FencedWriteError(key));
    }
    const running = operation();
    this.inFlight.add(running);
    const forget = () => this.inFlight.delete(running);
    running.then(forget, forget);
    return running;
  }
}
