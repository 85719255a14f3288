import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { audioFixtures, type AudioFixtures } from '../../../test/fixtures/audio-fixtures.js';
import { eventually } from '../../../test/support/eventually.js';
import { requestFrom } from '../../../test/support/raw-http.js';
import { TEST_ADMIN_TOKEN, TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { uploadThroughTus } from '../../../test/support/tus-upload.js';
import { AuditLog } from '../audit/index.js';
import { BUCKETS, STREAMS, createMemoryBus, decodeJson } from '../bus/index.js';
import { AudioReferences } from '../moderation/index.js';
import { uploadRecordSchema, type UploadRecord } from '../uploads/index.js';
import type { AppState } from './app-state.js';
import { audioReferenceRoutes } from './audio-reference-routes.js';
import { errorHandler } from './middleware/error-handler.js';

const MODERATOR_TOKEN = 'moderator-token-0123456789abcdef';
const asAdmin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const PATH = '/api/v1/moderation/audio-references';
const TEMP_PREFIX = 'live-upload-audio-reference-';

interface Summary {
  id: string;
  title: string;
  owner: string | null;
  notes: string | null;
  duration_s: number;
  created_by: string;
  fingerprint?: string;
}

interface ErrorBody {
  error: { code: string; message: string };
}

async function errorOf(response: Response): Promise<[number, string, string]> {
  const body = (await response.json()) as ErrorBody;
  return [response.status, body.error.code, body.error.message];
}

/** Our temp directories left in `dir` (each request makes one and must remove it). */
async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith(TEMP_PREFIX));
}

describe('audio reference routes', () => {
  let fixtures: AudioFixtures;
  before(async () => {
    fixtures = await audioFixtures();
  });

  describe('on the real server', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ env: { MODERATOR_TOKENS: MODERATOR_TOKEN, UPLOAD_RATE_LIMIT_PER_MINUTE: '500' } });
    });
    after(() => server.close());

    const add = async (file: string | Uint8Array<ArrayBuffer>, query: string, headers: Record<string, string> = asAdmin): Promise<Response> =>
      server.request(`${PATH}?${query}`, { method: 'POST', headers, body: typeof file === 'string' ? new Uint8Array(await readFile(file)) : file });

    it('adds a reference from a FLAC file, lists it without its fingerprint, audits it, and deletes it', async () => {
      const response = await add(fixtures.referenceFlac, `title=${encodeURIComponent('Morning Theme')}&owner=${encodeURIComponent('Acme Records')}&notes=master`);
      assert.equal(response.status, 201, await response.clone().text());
      const added = (await response.json()) as Summary;
      assert.deepEqual([added.title, added.owner, added.notes, added.created_by], ['Morning Theme', 'Acme Records', 'master', 'admin']);
      assert.equal(added.fingerprint, undefined, 'the answer carries no fingerprint');
      assert.ok(Math.abs(added.duration_s - 60) < 1, `${added.duration_s} s`);

      const listed = (await (await server.request(PATH, { headers: asAdmin })).json()) as { references: Summary[]; next_after: string | null };
      assert.deepEqual(listed.references.map((reference) => reference.id), [added.id]);
      assert.equal(listed.next_after, null);
      assert.equal(listed.references[0]?.fingerprint, undefined);
      assert.equal(((await (await server.request(`${PATH}/${added.id}`, { headers: asAdmin })).json()) as Summary).title, 'Morning Theme');

      assert.equal((await server.request(`${PATH}/${added.id}`, { method: 'DELETE', headers: asAdmin })).status, 204);
      assert.deepEqual(await errorOf(await server.request(`${PATH}/${added.id}`, { method: 'DELETE', headers: asAdmin })), [404, 'not_found', 'no such audio reference']);
      const audit = (await (await server.request('/api/v1/audit?limit=50', { headers: asAdmin })).json()) as { records: Array<{ action: string; target: string; actor: string; reason: string | null }> };
      const mine = audit.records.filter((record) => record.target === added.id).map((record) => [record.action, record.actor, record.reason]);
      assert.deepEqual(mine, [
        ['audio_reference.removed', 'admin', 'Morning Theme'],
        ['audio_reference.added', 'admin', 'Morning Theme'],
      ]);
      assert.deepEqual(await leftovers(tmpdir()), []);
    });

    it('rejects an upload through tus that reuses 10 s of a reference, naming the reference and the spans', async () => {
      const added = (await (await add(fixtures.referenceM4a, 'title=Morning%20Theme')).json()) as Summary;
      const data = await readFile(fixtures.clipReusingReference);
      const grant = await server.request('/api/v1/uploads/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ channel: TEST_CHANNEL, filename: 'clip.mp4', size: data.length, type: 'video/mp4', source: 'file' }),
      });
      assert.equal(grant.status, 201, await grant.clone().text());
      const { upload_url, token, upload_id } = (await grant.json()) as { upload_url: string; token: string; upload_id: string };
      await uploadThroughTus({ upload_url, token }, data);
      const bucket = await server.running.bus.kv(BUCKETS.uploads);
      const record = await eventually(
        async () => {
          const found = await bucket.get(upload_id);
          const current: UploadRecord | undefined = found && decodeJson(found.value, uploadRecordSchema);
          return current && ['rejected', 'in_review', 'approved'].includes(current.status) ? current : undefined;
        },
        'the upload to be moderated',
        60_000,
        { intervalMs: 100 },
      );
      const audio = record.checks.find((check) => check.name === 'audio-fingerprint');
      assert.equal(record.status, 'rejected', JSON.stringify(record.checks));
      assert.equal(audio?.result, 'fail');
      const match = audio?.details?.['match'] as { reference_id: string; title: string; clip_from_s: number; reference_from_s: number };
      assert.equal(match.reference_id, added.id);
      assert.equal(match.title, 'Morning Theme');
      assert.ok(Math.abs(match.clip_from_s - 5) <= 1 && Math.abs(match.reference_from_s - 23) <= 1, JSON.stringify(match));
      await server.request(`${PATH}/${added.id}`, { method: 'DELETE', headers: asAdmin });
    });

    it('answers hostile input with a clear JSON error and leaves no temp file behind', async () => {
      const cases: Array<[string, Promise<Response>, number, string, RegExp]> = [
        ['no token', add(fixtures.referenceFlac, 'title=x', {}), 401, 'unauthorized', /bearer token/],
        ['a moderator, not the admin', add(fixtures.referenceFlac, 'title=x', { Authorization: `Bearer ${MODERATOR_TOKEN}` }), 401, 'unauthorized', /bearer token/],
        ['no title', add(fixtures.referenceFlac, 'owner=Acme'), 400, 'bad_request', /^title: /],
        ['a blank title', add(fixtures.referenceFlac, 'title=%20%20'), 400, 'bad_request', /^title: /],
        ['a control character', add(fixtures.referenceFlac, 'title=a%0Ab'), 400, 'bad_request', /control characters/],
        ['an unknown parameter', add(fixtures.referenceFlac, 'title=x&file=/etc/passwd'), 400, 'bad_request', /unknown parameter file/],
        ['an empty body', add(new Uint8Array(0), 'title=x'), 400, 'bad_request', /body is empty/],
        ['text, not media', add(fixtures.notMedia, 'title=x'), 400, 'bad_request', /not a readable audio or video file/],
        ['an HLS playlist (a file that names other files)', add(new TextEncoder().encode('#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n'), 'title=x'), 400, 'bad_request', /not a readable audio or video file/],
        ['a video without audio', add(fixtures.clipWithoutAudio, 'title=x'), 400, 'bad_request', /no audio stream/],
        ['a list cursor that is not an id', server.request(`${PATH}?after=../x`, { headers: asAdmin }), 400, 'bad_request', /^after: /],
        ['a page size out of range', server.request(`${PATH}?limit=100000`, { headers: asAdmin }), 400, 'bad_request', /^limit: /],
        ['a reference id that is not one', server.request(`${PATH}/..%2F..%2Fetc`, { headers: asAdmin }), 404, 'not_found', /no such audio reference/],
        ['deleting an unknown id', server.request(`${PATH}/01JABCDEFGHJKMNPQRSTVWXYZ0`, { method: 'DELETE', headers: asAdmin }), 404, 'not_found', /no such audio reference/],
      ];
      for (const [label, pending, status, code, message] of cases) {
        const [gotStatus, gotCode, gotMessage] = await errorOf(await pending);
        assert.deepEqual([gotStatus, gotCode], [status, code], `${label}: ${gotMessage}`);
        assert.match(gotMessage, message, label);
      }
      assert.deepEqual(await leftovers(tmpdir()), []);
    });

    it('refuses a body whose declared length is over the limit before reading it', async () => {
      const answer = await requestFrom(`${server.url}${PATH}?title=x`, {
        method: 'POST',
        headers: { ...asAdmin, 'Content-Length': String(300 * 1024 * 1024) },
        body: 'only a little',
      });
      assert.equal(answer.status, 413);
      assert.equal((JSON.parse(answer.body) as ErrorBody).error.code, 'payload_too_large');
    });
  });

  describe('with small limits', () => {
    let server: Server;
    let url: string;
    let tempDir: string;
    before(async () => {
      tempDir = await mkdtemp(join(tmpdir(), 'audio-reference-routes-test-'));
      const bus = createMemoryBus();
      await bus.ensureStreams(Object.values(STREAMS));
      const koa = new Koa<AppState>();
      koa.use(errorHandler());
      const router = audioReferenceRoutes({
        references: await AudioReferences.open(bus),
        audit: new AuditLog(bus),
        tokens: { admin: () => TEST_ADMIN_TOKEN, moderators: () => [] },
        maxBytes: 3 * 1024 * 1024,
        maxDurationS: 30,
        tempDir,
      });
      koa.use(router.routes());
      server = createServer(koa.callback()).listen(0, '127.0.0.1');
      await once(server, 'listening');
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`;
    });
    after(async () => {
      server.close();
      await rm(tempDir, { recursive: true, force: true });
    });

    it('refuses a chunked body once it passes the limit, and removes what it had written', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const request = httpRequest(`${url}?title=x`, { method: 'POST', headers: { ...asAdmin, 'Transfer-Encoding': 'chunked' }, agent: false }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('error', reject);
        const chunk = Buffer.alloc(256 * 1024, 7);
        let sent = 0;
        const pump = (): void => {
          while (sent < 6 * 1024 * 1024) {
            sent += chunk.length;
            if (!request.write(chunk)) {
              request.once('drain', pump);
              return;
            }
          }
          request.end();
        };
        pump();
      });
      assert.equal(status, 413);
      await eventually(async () => (await leftovers(tempDir)).length === 0, 'the temp directory to be removed');
    });

    it('refuses audio longer than the limit, and keeps nothing of it', async () => {
      const response = await fetch(`${url}?title=x`, { method: 'POST', headers: asAdmin, body: await readFile(fixtures.referenceFlac) });
      const [status, code, message] = await errorOf(response);
      assert.deepEqual([status, code], [413, 'payload_too_large']);
      assert.match(message, /longer than 30 s/);
      assert.deepEqual(((await (await fetch(url, { headers: asAdmin })).json()) as { references: unknown[] }).references, []);
      assert.deepEqual(await leftovers(tempDir), []);
    });

    it('takes a clip within the limits, and removes its temp file too', async () => {
      const response = await fetch(`${url}?title=Clip`, { method: 'POST', headers: asAdmin, body: await readFile(fixtures.clipUnrelated) });
      assert.equal(response.status, 201, await response.clone().text());
      assert.deepEqual(await leftovers(tempDir), []);
    });
  });
});
