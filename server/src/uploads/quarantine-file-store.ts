import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import { ERRORS } from '@tus/server';
import { tapFirstBytes } from './tap-first-bytes.js';

/**
 * The tus `FileStore` over the quarantine directory, with expiration that looks at the bytes
 * on disk: the stock `deleteExpired` compares the size with the offset saved at creation
 * (always 0), so it would also delete complete uploads waiting for moderation. Only
 * incomplete uploads expire here; `onExpired` hears each one. `onFirstBytes` hears an upload's
 * first bytes before they are written (a failure there fails the write).
 */
export class QuarantineFileStore extends FileStore {
  private readonly onExpired: (uploadId: string) => Promise<void>;
  private readonly onFirstBytes: ((uploadId: string) => Promise<void>) | undefined;
  private readonly now: () => number;

  constructor(options: {
    directory: string;
    expirationPeriodInMilliseconds: number;
    onExpired?: (uploadId: string) => Promise<void>;
    onFirstBytes?: (uploadId: string) => Promise<void>;
    now?: () => number;
  }) {
    super({ directory: options.directory, expirationPeriodInMilliseconds: options.expirationPeriodInMilliseconds });
    this.onExpired = options.onExpired ?? (async () => {});
    this.onFirstBytes = options.onFirstBytes;
    this.now = options.now ?? Date.now;
  }

  override write(readable: IncomingMessage | Readable, uploadId: string, offset: number): Promise<number> {
    const onFirstBytes = this.onFirstBytes;
    if (offset !== 0 || !onFirstBytes) return super.write(readable, uploadId, offset);
    return super.write(tapFirstBytes(readable, () => onFirstBytes(uploadId)), uploadId, offset);
  }

  override async deleteExpired(): Promise<number> {
    const expirationMs = this.getExpiration();
    if (expirationMs <= 0 || !this.configstore.list) return 0;
    const nowMs = this.now();
    let deleted = 0;
    for (const uploadId of await this.configstore.list()) {
      let upload;
      try {
        upload = await this.getUpload(uploadId);
      } catch (error) {
        if (error === ERRORS.FILE_NOT_FOUND || error === ERRORS.FILE_NO_LONGER_EXISTS) continue;
        throw error;
      }
      const createdMs = upload.creation_date ? Date.parse(upload.creation_date) : Number.NaN;
      const complete = upload.size !== undefined && upload.offset === upload.size;
      if (complete || !Number.isFinite(createdMs) || nowMs <= createdMs + expirationMs) continue;
      await this.remove(uploadId);
      await this.onExpired(uploadId);
      deleted += 1;
    }
    return deleted;
  }
}
