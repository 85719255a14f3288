import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type ClientRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, it } from 'node:test';
import { ulid } from 'ulid';
import { mediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { eventually } from '../../../test/support/eventually.js';
import { startS3Server, type S3ServerHandle } from '../../../test/support/s3-server.js';
import { AuditLog } from '../audit/index.js';
import { BUCKETS, STREAMS, SUBJECTS, createMemoryBus, createNatsBus, decodeJson, encodeJson, type Bus } from '../bus/index.js';
import { HashBlocklist, ModerationWorker, builtInModerationRules, defaultModerationChecks, fixedModerationRules } from '../moderation/index.js';
import { createLogger } from '../observability/index.js';
import { openStorage, type Storage } from '../storage/index.js';
import { BusUploadLocker } from './bus-upload-locker.js';
import { uploadCompletedJobSchema } from './moderation-job.js';
import { QuarantinedUploads } from './quarantined-uploads.js';
import { TUS_PATH, createTusEndpoint, type TusEndpoint } from './tus-endpoint.js';
import { UploadGrants } from './upload-grant.js';
import { UploadStore } from './upload-store.js';
import { uploadRecordFixture } from '../../../test/support/upload-record-fixture.js';

/**
 * The tus endpoint on the S3 quarantine of a fleet: two endpoints (replicas A and B, each with
 * its own bus connection, upload store and locker) on one bucket of a real S3-compatible server
 * (s3rver) and one bus. An upload started on A resumes on B byte for byte, a request on B waits
 * for (or is refused) the lock A holds, expiry removes only incomplete uploads, and moderation
 * reads the bytes from the bucket.
 */

const SECRET = 'tus-s3-test-secret-0123456789abcdef';
const TUS = { 'Tus-Resumable': '1.0.0' };
const MiB = 1024 * 1024;
const INCOMPLETE_TTL_MS = 60 * 60 * 1000;
const silent = createLogger({ level: 'silent' });
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface Replica {
  readonly bus: Bus;
  readonly uploads: UploadStore;
  readonly locker: BusUploadLocker;
  readonly tus: TusEndpoint;
  readonly url: string;
  readonly server: Server;
}

describeEachBus('tus on the S3 quarantine, two replicas', (busUnderTest) => {
  let s3: S3ServerHandle;
  let storage: Storage;
  let quarantine: QuarantinedUploads;
  let busA: Bus;
  let busB: Bus;
  let a: Replica;
  let b: Replica;
  const grants = new UploadGrants({ secret: SECRET });
  const extra: Replica[] = [];
  const openRequests: ClientRequest[] = [];

  const replica = async (bus: Bus, options: { acquireTimeoutMs?: number; now?: () => number } = {}): Promise<Replica> => {
    const uploads = await UploadStore.open(bus);
    const locker = await BusUploadLocker.open(bus, { pollMs: 50, ...(options.acquireTimeoutMs ? { acquireTimeoutMs: options.acquireTimeoutMs } : {}) });
    const tus = await createTusEndpoint({
      quarantine: { kind: 's3', bucket: s3.quarantineBucket, s3ClientConfig: storage.s3ClientConfig! },
      locker,
      incompleteTtlMs: INCOMPLETE_TTL_MS,
      grants,
      uploads,
      bus,
      logger: silent,
      ...(options.now ? { now: options.now } : {}),
    });
    const server = createServer((req, res) => void tus.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { bus, uploads, locker, tus, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  };
  const close = async (r: Replica) => {
    r.locker.close();
    r.tus.stop();
    r.server.closeAllConnections();
    await new Promise((resolve) => r.server.close(resolve));
  };

  before(async () => {
    s3 = await startS3Server();
    storage = await openStorage(s3.storage);
    quarantine = new QuarantinedUploads(storage.quarantine);
    const natsUrl = busUnderTest.natsUrl();
    busA = natsUrl ? await createNatsBus({ url: natsUrl, name: 'replica-a' }) : createMemoryBus();
    busB = natsUrl ? await createNatsBus({ url: natsUrl, name: 'replica-b' }) : busA;
    await busA.ensureStreams(Object.values(STREAMS));
    a = await replica(busA);
    b = await replica(busB);
  });
  afterEach(async () => {
    for (const request of openRequests.splice(0)) request.destroy();
    for (const r of extra.splice(0)) await close(r);
  });
  after(async () => {
    await close(a);
    await close(b);
    await busA.close();
    if (busB !== busA) await busB.close();
    await storage.close();
    await s3.stop();
  });

  /** An upload record in `uploading` and its grant, as `POST /api/v1/uploads/token` makes them. */
  const granted = async (size: number, type = 'video/mp4') => {
    const record = uploadRecordFixture({ upload_id: ulid(), size, type });
    await a.uploads.create(record);
    const { token } = await grants.sign({ uploadId: record.upload_id, channel: record.channel, maxSize: size, type, source: 'file' });
    return { uploadId: record.upload_id, auth: { Authorization: `Bearer ${token}` } };
  };
  const create = (on: Replica, grant: Awaited<ReturnType<typeof granted>>, size: number) =>
    fetch(`${on.url}${TUS_PATH}`, { method: 'POST', headers: { ...TUS, ...grant.auth, 'Upload-Length': String(size) } });
  const head = (on: Replica, grant: Awaited<ReturnType<typeof granted>>) =>
    fetch(`${on.url}${TUS_PATH}/${grant.uploadId}`, { method: 'HEAD', headers: { ...TUS, ...grant.auth } });
  const patch = (on: Replica, grant: Awaited<ReturnType<typeof granted>>, offset: number, body: Buffer) =>
    fetch(`${on.url}${TUS_PATH}/${grant.uploadId}`, {
      method: 'PATCH',
      headers: { ...TUS, ...grant.auth, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
      body: new Uint8Array(body),
    });
  const storedBytes = async (uploadId: string): Promise<Buffer | undefined> => {
    const read = await quarantine.read(uploadId);
    if (!read) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of read.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  /**
   * A PATCH that sends `first` and then holds its body open: a request that holds the lock of
   * its upload on `on` (as a client whose connection stalled). Resolves with its status once tus answers it.
   */
  const stalledPatch = (on: Replica, grant: Awaited<ReturnType<typeof granted>>, offset: number, first: Uint8Array, declared: number) => {
    let request!: ClientRequest;
    const answered = new Promise<number>((resolve, reject) => {
      request = httpRequest(`${on.url}${TUS_PATH}/${grant.uploadId}`, {
        method: 'PATCH',
        headers: { ...TUS, ...grant.auth, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(declared) },
      });
      request.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.write(first);
    });
    answered.catch(() => undefined);
    openRequests.push(request);
    return { answered };
  };

  it('an upload started on A resumes on B (HEAD, then PATCH) and is stored byte-identical, with one moderation job', async () => {
    // Over S3's 5 MiB part minimum: A's first PATCH is shorter than a part and waits in `.part`;
    // B fetches it from the bucket, prepends it to its PATCH and completes the multipart upload.
    const data = randomBytes(6 * MiB + 12_345);
    const grant = await granted(data.length);
    const jobs: string[] = [];
    const subscription = busA.subscribe(SUBJECTS.uploadsCompleted, (_subject, payload) => jobs.push(decodeJson(payload, uploadCompletedJobSchema).upload_id));
    try {
      assert.equal((await create(a, grant, data.length)).status, 201);
      const firstPart = 3 * MiB + 7;
      const patched = await patch(a, grant, 0, data.subarray(0, firstPart));
      assert.equal(patched.status, 204);
      assert.equal(patched.headers.get('upload-offset'), String(firstPart));

      // Replica B knows the upload only through the bucket and the bus.
      const resumed = await head(b, grant);
      assert.equal(resumed.status, 200);
      assert.equal(resumed.headers.get('upload-offset'), String(firstPart));
      assert.equal(resumed.headers.get('upload-length'), String(data.length));
      const rest = await patch(b, grant, firstPart, data.subarray(firstPart));
      assert.equal(rest.status, 204, await rest.text());
      assert.equal(rest.headers.get('upload-offset'), String(data.length));

      const stored = await storedBytes(grant.uploadId);
      assert.ok(stored, 'the bytes are an object in the quarantine bucket');
      assert.equal(stored.length, data.length);
      assert.equal(sha256(stored), sha256(data));
      assert.equal((await b.uploads.get(grant.uploadId))?.status, 'checking');
      assert.equal((await (await head(a, grant)).headers.get('upload-offset')), String(data.length), 'A sees it complete too');
      assert.equal(await (await busA.kv(BUCKETS.uploadParts)).get(grant.uploadId), undefined, 'the parts ledger is gone once complete');
      await eventually(() => jobs.length >= 1, 'the moderation job');
      assert.deepEqual(jobs, [grant.uploadId]);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('a PATCH to B while A holds the lock waits for A to let go, then answers by the offset A stored', async () => {
    const data = randomBytes(200_000);
    const grant = await granted(data.length);
    assert.equal((await create(a, grant, data.length)).status, 201);
    // A's client sent 50,000 bytes and stalled; it resumes on B from its last known offset (0).
    stalledPatch(a, grant, 0, data.subarray(0, 50_000), data.length);
    await eventually(() => a.locker.heldUploadIds().includes(grant.uploadId), "A's PATCH holding the lock");
    const started = Date.now();
    const fromB = await patch(b, grant, 0, data);
    // tus ends A's request after its drain delay (3 s), A stores what it had and unlocks; B then
    // finds the offset moved and answers 409, so the client asks HEAD and goes on from there.
    assert.ok(Date.now() - started >= 1_000, `B answered after ${Date.now() - started} ms, while A still held the lock`);
    assert.equal(fromB.status, 409, await fromB.clone().text());
    assert.equal(((await fromB.json()) as { error: { code: string } }).error.code, 'conflict');
    const offset = Number((await head(b, grant)).headers.get('upload-offset'));
    assert.equal(offset, 50_000, 'what A received before it let go is kept');
    assert.equal((await patch(b, grant, offset, data.subarray(offset))).status, 204);
    assert.equal(sha256((await storedBytes(grant.uploadId))!), sha256(data));
  });

  it('a request that waits for the lock longer than its acquire timeout gets a JSON 423 locked', async () => {
    const impatient = await replica(busB, { acquireTimeoutMs: 600 });
    extra.push(impatient);
    const data = randomBytes(100_000);
    const grant = await granted(data.length);
    assert.equal((await create(a, grant, data.length)).status, 201);
    stalledPatch(a, grant, 0, data.subarray(0, 10_000), data.length);
    await eventually(() => a.locker.heldUploadIds().includes(grant.uploadId), "A's PATCH holding the lock");
    const refused = await patch(impatient, grant, 0, data);
    assert.equal(refused.status, 423);
    assert.match(refused.headers.get('content-type') ?? '', /application\/json/);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'locked');
    assert.match(body.error.message, /another request is writing this upload/);
  });

  it('expiry removes only incomplete uploads (bytes, .info, .part, ledger), marks them deleted, and keeps complete ones', async () => {
    const incompleteData = randomBytes(40_000);
    const incomplete = await granted(incompleteData.length);
    assert.equal((await create(a, incomplete, incompleteData.length)).status, 201);
    assert.equal((await patch(a, incomplete, 0, incompleteData.subarray(0, 10_000))).status, 204);
    const completeData = randomBytes(30_000);
    const complete = await granted(completeData.length);
    assert.equal((await create(a, complete, completeData.length)).status, 201);
    assert.equal((await patch(a, complete, 0, completeData)).status, 204);
    const keysOf = async (uploadId: string) => {
      const keys: string[] = [];
      for await (const object of storage.quarantine.list('')) if (object.key.startsWith(uploadId)) keys.push(object.key);
      return keys;
    };
    assert.deepEqual(await keysOf(incomplete.uploadId), [`${incomplete.uploadId}.info`, `${incomplete.uploadId}.part`]);

    // A parts ledger without `.info`: a creation under way (or one that failed halfway) ages from its own time.
    const ledgers = await busA.kv(BUCKETS.uploadParts);
    const halfCreated = ulid();
    await ledgers.put(halfCreated, encodeJson({ created_at_ms: Date.now(), parts: [] }));
    assert.equal(await b.tus.cleanUpExpiredUploads(), 0);
    assert.ok(await ledgers.get(halfCreated), 'a creation under way keeps its ledger');

    const later = await replica(busB, { now: () => Date.now() + INCOMPLETE_TTL_MS + 1_000 });
    extra.push(later);
    assert.ok((await later.tus.cleanUpExpiredUploads()) >= 1);
    assert.equal(await ledgers.get(halfCreated), undefined, 'an old ledger without .info goes');
    assert.deepEqual(await keysOf(incomplete.uploadId), []);
    assert.equal(await (await busB.kv(BUCKETS.uploadParts)).get(incomplete.uploadId), undefined);
    assert.equal((await b.uploads.get(incomplete.uploadId))?.status, 'deleted');
    assert.equal(sha256((await storedBytes(complete.uploadId))!), sha256(completeData));
    assert.equal((await b.uploads.get(complete.uploadId))?.status, 'checking');
    assert.equal((await head(b, incomplete)).status, 404, 'an expired upload cannot be resumed');
  });

  it('moderation reads the upload from the S3 quarantine', async () => {
    const fixtures = await mediaFixtures();
    const video = await readFile(fixtures.validMp4);
    const grant = await granted(video.length);
    assert.equal((await create(a, grant, video.length)).status, 201);
    assert.equal((await patch(b, grant, 0, video)).status, 204);
    const worker = new ModerationWorker({
      bus: busA,
      uploads: a.uploads,
      audit: new AuditLog(busA),
      quarantine,
      rules: fixedModerationRules(builtInModerationRules('review')),
      checks: defaultModerationChecks(await HashBlocklist.open(busA)),
      logger: silent,
    });
    await worker.start();
    try {
      const record = await eventually(async () => {
        const current = await a.uploads.get(grant.uploadId);
        return current && current.status !== 'checking' ? current : undefined;
      }, 'the upload moderated', 60_000);
      assert.equal(record.status, 'in_review', JSON.stringify(record.checks));
      assert.deepEqual(
        record.checks.map((check) => [check.name, check.result]),
        record.checks.map((check) => [check.name, 'pass']),
      );
      assert.ok(record.checks.length >= 3, 'the checks that read the file ran');
    } finally {
      await worker.stop();
    }
  });
});
