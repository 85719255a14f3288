/** An upload that may still be resumed after a reload: its grant and its bytes. */
export interface PendingUpload {
  /** `{endpoint} {uploadId}`. */
  readonly key: string;
  readonly endpoint: string;
  readonly channel: string;
  readonly uploadId: string;
  /** The latest grant (possibly expired: it still proves possession for a renewal). */
  readonly token: string;
  /** The tus creation URL of the grant. */
  readonly tusEndpoint: string;
  readonly filename: string;
  readonly file: Blob;
  readonly createdAt: string;
}

const DB_NAME = 'live-upload';
const STORE = 'pending-uploads';

export const pendingUploadKey = (endpoint: string, uploadId: string): string => `${endpoint} ${uploadId}`;

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/**
 * The uploads this browser started and has not finished, in IndexedDB (Blobs are stored as
 * such), so a reload can resume them. Every method resolves even where IndexedDB is missing
 * or blocked (private modes): resume-after-reload is then simply unavailable.
 */
export class PendingUploadStore {
  #db: Promise<IDBDatabase | undefined> | undefined;

  constructor(private readonly dbName = DB_NAME) {}

  #open(): Promise<IDBDatabase | undefined> {
    this.#db ??= new Promise<IDBDatabase | undefined>((resolve) => {
      try {
        const open = indexedDB.open(this.dbName, 1);
        open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'key' });
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => resolve(undefined);
        open.onblocked = () => resolve(undefined);
      } catch {
        resolve(undefined);
      }
    });
    return this.#db;
  }

  async #store(mode: IDBTransactionMode): Promise<IDBObjectStore | undefined> {
    return (await this.#open())?.transaction(STORE, mode).objectStore(STORE);
  }

  async put(upload: PendingUpload): Promise<void> {
    const store = await this.#store('readwrite');
    if (store) await request(store.put(upload)).catch(() => undefined);
  }

  async delete(key: string): Promise<void> {
    const store = await this.#store('readwrite');
    if (store) await request(store.delete(key)).catch(() => undefined);
  }

  /** Pending uploads for one channel of one endpoint, oldest first. */
  async list(endpoint: string, channel: string): Promise<PendingUpload[]> {
    const store = await this.#store('readonly');
    if (!store) return [];
    const all = ((await request(store.getAll()).catch(() => [])) as PendingUpload[]).filter(
      (upload) => upload.endpoint === endpoint && upload.channel === channel && upload.file instanceof Blob,
    );
    return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  close(): void {
    void this.#db?.then((db) => db?.close());
    this.#db = undefined;
  }
}
