import type { ByteRange, LocalFile, ObjectRead, ObjectStore } from '../storage/object-store.js';
import { UPLOAD_ID_PATTERN } from './upload-record.js';

/**
 * The objects the tus data stores keep beside an upload's bytes (`{upload_id}`): the file
 * store's metadata `{id}.json`; the S3 store's metadata `{id}.info` and the tail of an
 * incomplete upload shorter than a multipart part, `{id}.part`.
 */
const TUS_SIDE_OBJECT_SUFFIXES = ['.json', '.info', '.part'] as const;

/**
 * The uploads in the quarantine store, as the tus data store lays them out, whichever store it
 * is (a directory or a bucket): the bytes under the upload id, the tus objects beside them. Only
 * upload ids (ULIDs) are made into keys. What moderation reads, moderators preview, promotion
 * transcodes and the lifecycle sweeper deletes; never served publicly.
 *
 * On S3 the bytes of an incomplete upload are parts of a multipart upload (not objects yet):
 * such an upload shows here only through its `.info`/`.part`, and what `delete` leaves of it
 * (the parts) the tus store's expiry aborts (`QuarantineS3Store.deleteExpired`).
 */
export class QuarantinedUploads {
  constructor(readonly store: ObjectStore) {}

  /** `file:///…` or `s3://bucket/`, for logs. */
  get location(): string {
    return this.store.location;
  }

  /**
   * When anything of the upload was last written (its bytes or a tus side object); undefined
   * when nothing of it is stored. What "still in quarantine" means for the sweeper and promotion.
   */
  async lastWrittenMs(uploadId: string): Promise<number | undefined> {
    const key = keyOf(uploadId);
    const heads = await Promise.all([key, ...TUS_SIDE_OBJECT_SUFFIXES.map((suffix) => key + suffix)].map((each) => this.store.head(each)));
    const times = heads.filter((head) => head !== undefined).map((head) => head.lastModifiedMs);
    return times.length > 0 ? Math.max(...times) : undefined;
  }

  /** The upload's bytes (all, or an inclusive range) for a preview; undefined when there are none. */
  read(uploadId: string, range?: ByteRange): Promise<ObjectRead | undefined> {
    return this.store.get(keyOf(uploadId), range);
  }

  /** The bytes as a local file for ffprobe/ffmpeg; `release()` it when done. Undefined when there are none. */
  localFile(uploadId: string): Promise<LocalFile | undefined> {
    return this.store.localFile(keyOf(uploadId));
  }

  /** Removes the upload's bytes and tus side objects. True when the bytes were there (so the deletion is news). */
  async delete(uploadId: string): Promise<boolean> {
    const key = keyOf(uploadId);
    const existed = await this.store.delete(key);
    for (const suffix of TUS_SIDE_OBJECT_SUFFIXES) await this.store.delete(key + suffix);
    // What the checks saw goes with what they looked at (frames of faces, of nudity).
    await this.store.deletePrefix(evidencePrefixOf(uploadId));
    return existed;
  }

  /**
   * Every upload with anything stored, once, with when it was last written (as `lastWrittenMs`
   * says), from one listing: no request per upload, which on S3 would be four HEADs each. Objects
   * named by no upload id are skipped.
   */
  async *stored(): AsyncIterable<{ uploadId: string; lastWrittenMs: number }> {
    let current: { uploadId: string; lastWrittenMs: number } | undefined;
    // Keys come in order and upload ids have one length: the objects of one upload are adjacent.
    for await (const object of this.store.list('')) {
      const dot = object.key.indexOf('.');
      const uploadId = dot < 0 ? object.key : object.key.slice(0, dot);
      if (!UPLOAD_ID_PATTERN.test(uploadId)) continue;
      if (dot >= 0 && !(TUS_SIDE_OBJECT_SUFFIXES as readonly string[]).includes(object.key.slice(dot))) continue;
      if (current?.uploadId === uploadId) {
        current.lastWrittenMs = Math.max(current.lastWrittenMs, object.lastModifiedMs);
        continue;
      }
      if (current) yield current;
      current = { uploadId, lastWrittenMs: object.lastModifiedMs };
    }
    if (current) yield current;
  }
}

/**
 * Where the moderation checks keep an upload's evidence (flagged frames) in the quarantine:
 * `evidence/{upload_id}/`. Outside the upload-id keys, so listings of uploads skip it; removed
 * with the upload.
 */
export function evidencePrefixOf(uploadId: string): string {
  return `evidence/${keyOf(uploadId)}/`;
}

function keyOf(uploadId: string): string {
  if (!UPLOAD_ID_PATTERN.test(uploadId)) throw new RangeError(`not an upload id: ${uploadId}`);
  return uploadId;
}
