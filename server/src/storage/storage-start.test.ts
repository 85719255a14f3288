/**
 * The real entry point (`main.ts`, as `npm start` and the image run it) on S3 storage: it starts
 * on two reachable buckets and says where it keeps what, and it refuses to start when a bucket is
 * not there, naming it, instead of failing at the first upload.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startMain } from '../../../test/support/main-process.js';
import { startS3Server, type S3ServerHandle } from '../../../test/support/s3-server.js';

describe('main.ts on S3 storage', () => {
  let s3: S3ServerHandle;
  before(async () => {
    s3 = await startS3Server();
  });
  after(() => s3?.stop());

  it('starts on two reachable buckets and logs both locations', async (t) => {
    const main = await startMain({ ...s3.env, DEMO: '0' });
    t.after(() => main.kill());
    assert.match(main.output(), new RegExp(`"quarantine":"s3://${s3.quarantineBucket}/","media":"s3://${s3.mediaBucket}/".*"msg":"storage opened"`));
    assert.equal((await fetch(`${main.url}/readyz`)).status, 200);
  });

  it('refuses to start when a bucket is missing, naming it', async () => {
    await assert.rejects(startMain({ ...s3.env, DEMO: '0', STORAGE_MEDIA_BUCKET: 'media-not-created' }), (error: Error) => {
      assert.match(error.message, /exited before it was ready \(code 1/);
      assert.match(error.message, /the media bucket "media-not-created" is not reachable: no such bucket \(404\)/);
      return true;
    });
  });

  it('refuses credentials in STORAGE_URL before anything starts, without repeating them', async () => {
    const url = new URL(s3.endpoint);
    url.username = 'AKIAEXAMPLE';
    url.password = 'do-not-log-me';
    await assert.rejects(startMain({ ...s3.env, DEMO: '0', STORAGE_URL: url.href }), (error: Error) => {
      assert.match(error.message, /code 78/);
      assert.match(error.message, /STORAGE_URL: must not hold credentials/);
      assert.doesNotMatch(error.message, /do-not-log-me/);
      return true;
    });
  });
});
