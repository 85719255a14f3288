/**
 * s3rver's own command line, with its file store answering a write only once the file is written.
 *
 * s3rver 3.7.1's `FilesystemStore.putObject` and `putPart` resolve when their hashing stream has
 * seen the last byte, not when the file stream has written it: under load a PUT was answered
 * before its file existed, and a HEAD right after it found nothing (CI: `... vanished right
 * after it was written`); a multipart completion could likewise read a part not yet flushed.
 * Real S3 is read-after-write consistent, so the test server is made to be: both writes are
 * replaced by one that awaits the whole pipeline. Everything else is s3rver's.
 *
 * Run as `node --openssl-legacy-provider s3rver-main.mjs <s3rver's own arguments>`.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

// s3rver is CommonJS: its store class is patched in the module cache its command line then loads.
const require = createRequire(import.meta.url);
const FilesystemStore = require('s3rver/lib/stores/filesystem');

/** Writes `content` (a Buffer or a stream) to `path`; resolves with its size and MD5 once the file is closed. */
async function writeHashed(path, content) {
  await mkdir(dirname(path), { recursive: true });
  const md5 = createHash('md5');
  let size = 0;
  await pipeline(
    Buffer.isBuffer(content) ? Readable.from([content], { objectMode: false }) : content,
    new Transform({
      transform(chunk, _encoding, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    }),
    createWriteStream(path),
  );
  return { size, md5: md5.digest('hex') };
}

FilesystemStore.prototype.putObject = async function putObject(object) {
  const written = await writeHashed(this.getResourcePath(object.bucket, object.key, 'object'), object.content);
  await this.putMetadata(object.bucket, object.key, object.metadata, written.md5);
  return written;
};

FilesystemStore.prototype.putPart = async function putPart(bucket, uploadId, partNumber, content) {
  const partPath = join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId, partNumber.toString());
  const written = await writeHashed(partPath, content);
  await writeFile(`${partPath}.md5`, written.md5);
  return written;
};

require('s3rver/bin/s3rver.js');
