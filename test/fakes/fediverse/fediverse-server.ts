import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type * as HttpSignature from 'http-signature';
import type { ParsedSignature } from 'http-signature';

// A CommonJS package whose exports Node's ESM loader cannot see by name: loaded with require.
const { parseRequest, signRequest, verifySignature } = createRequire(import.meta.url)('http-signature') as typeof HttpSignature;

/**
 * A fake fediverse server (Mastodon-like) for federation tests: one user, `alice`, with an RSA
 * key, whose actor document serves `publicKeyPem`. It looks our actors up through WebFinger,
 * fetches their actor documents, POSTs Follows signed as Mastodon signs them
 * (draft-cavage-http-signatures, `(request-target) host date digest`, `Digest: SHA-256=`), and
 * checks every activity our server POSTs to alice's inbox with Joyent's `http-signature`
 * (an implementation that is not ours) against the key our actor document serves.
 */

/** Something our server POSTed to alice's inbox, and what the independent check made of it. */
export interface ReceivedActivity {
  readonly activity: Record<string, unknown>;
  /** True when the signature verified under our actor's key and the Digest matched the body. */
  readonly verified: boolean;
  readonly problem: string | undefined;
  readonly contentType: string | undefined;
  /** `/users/alice/inbox` or the shared `/inbox`. */
  readonly path: string;
}

/** Ways to spoil a Follow, for the hostile-input tests. */
export interface FollowTampering {
  readonly unsigned?: boolean;
  /** Sign, then change one byte of the signature. */
  readonly badSignature?: boolean;
  /** A Digest of some other body. */
  readonly wrongDigest?: boolean;
  /** A Date this many ms in the past. */
  readonly dateOffsetMs?: number;
  /** A body this large (padding in an extra field). */
  readonly padToBytes?: number;
}

export interface FakeFediverse {
  readonly base: string;
  readonly actorId: string;
  readonly inbox: string;
  readonly received: ReceivedActivity[];
  /** Status codes alice's inbox answers next (then 202). */
  readonly failNext: number[];
  /** GETs of alice's actor answered so far (how often our server fetched her key). */
  readonly actorFetches: () => number;
  /** Deletes alice's account: her actor answers 410 Gone from now on. */
  markGone(): void;
  /** Gives alice a new key pair (as a key rotation does): later POSTs are signed with it, her actor serves it. */
  rotateKey(): void;
  /** WebFinger `acct:{handle}@{host}` on our server: the actor URL its `self` link names. */
  webfinger(ourBase: string, acct: string): Promise<string>;
  /** GETs a document with `Accept: application/activity+json`. */
  fetchJson(url: string): Promise<{ status: number; contentType: string | undefined; body: Record<string, unknown> }>;
  /** POSTs alice's signed Follow of `actorId` to `inbox`; returns status and body. */
  follow(actorId: string, inbox: string, tampering?: FollowTampering): Promise<{ status: number; body: Record<string, unknown>; followId: string }>;
  /** POSTs an arbitrary signed activity from alice. */
  post(inbox: string, activity: Record<string, unknown>, tampering?: FollowTampering): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function rawRequest(method: string, url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      readBody(res).then((data) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data.toString('utf8') }), reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface FakeFediverseOptions {
  /**
   * Mastodon's secure mode (AUTHORIZED_FETCH): alice's actor is served only to GETs signed over
   * `(request-target) host date` by a key whose actor document verifies them; others get 401.
   */
  readonly authorizedFetch?: boolean;
}

export async function startFakeFediverse(options: FakeFediverseOptions = {}): Promise<FakeFediverse> {
  const newKeyPair = () => generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  let { publicKey, privateKey } = newKeyPair();
  let actorFetches = 0;
  let gone = false;
  const received: ReceivedActivity[] = [];
  const failNext: number[] = [];
  let base = '';
  const actorId = () => `${base}/users/alice`;

  /** Checks one request of ours the way a receiving server does, with `http-signature`. */
  async function check(req: IncomingMessage, body: Buffer | undefined): Promise<string | undefined> {
    if (body !== undefined) {
      const expected = `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
      if (req.headers['digest'] !== expected) return `digest ${String(req.headers['digest'])} != ${expected}`;
    }
    let parsed: ParsedSignature;
    try {
      parsed = parseRequest(req, { headers: ['(request-target)', 'host', 'date', ...(body === undefined ? [] : ['digest'])], clockSkew: 300 });
    } catch (error) {
      return `parseRequest: ${(error as Error).message}`;
    }
    const actorUrl = parsed.keyId.split('#')[0]!;
    const actor = await rawRequest('GET', actorUrl, { accept: 'application/activity+json' });
    if (actor.status !== 200) return `our actor answered ${actor.status}`;
    const document = JSON.parse(actor.body) as { publicKey?: { id?: string; publicKeyPem?: string } };
    if (document.publicKey?.id !== parsed.keyId || !document.publicKey.publicKeyPem) return 'keyId is not the actor\'s key';
    return verifySignature(parsed, document.publicKey.publicKeyPem) ? undefined : 'signature does not verify';
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const send = (status: number, value: unknown, type = 'application/activity+json') => {
        res.writeHead(status, { 'content-type': type });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'GET' && req.url === '/users/alice') {
        actorFetches += 1;
        if (gone) {
          send(410, { error: 'gone' }, 'application/json');
          return;
        }
        if (options.authorizedFetch) {
          const problem = await check(req, undefined);
          if (problem !== undefined) {
            send(401, { error: `authorized fetch: ${problem}` }, 'application/json');
            return;
          }
        }
        send(200, {
          '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'],
          id: actorId(),
          type: 'Person',
          preferredUsername: 'alice',
          inbox: `${actorId()}/inbox`,
          outbox: `${actorId()}/outbox`,
          endpoints: { sharedInbox: `${base}/inbox` },
          publicKey: { id: `${actorId()}#main-key`, owner: actorId(), publicKeyPem: publicKey },
        });
        return;
      }
      if (req.method === 'POST' && (req.url === '/users/alice/inbox' || req.url === '/inbox')) {
        const problem = await check(req, body);
        received.push({ activity: JSON.parse(body.toString('utf8')) as Record<string, unknown>, verified: problem === undefined, problem, contentType: req.headers['content-type'], path: req.url });
        const status = failNext.shift() ?? (problem === undefined ? 202 : 401);
        send(status, {});
        return;
      }
      send(404, { error: 'not found' }, 'application/json');
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** A POST signed as Mastodon signs it, by `http-signature.signRequest` on the real request. */
  function signedPost(inbox: string, activity: Record<string, unknown>, tampering: FollowTampering = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const padded = tampering.padToBytes ? { ...activity, padding: 'x'.repeat(tampering.padToBytes) } : activity;
    const body = JSON.stringify(padded);
    const digest = `SHA-256=${createHash('sha256').update(tampering.wrongDigest ? `${body} ` : body).digest('base64')}`;
    const date = new Date(Date.now() - (tampering.dateOffsetMs ?? 0)).toUTCString();
    return new Promise((resolve, reject) => {
      const req = request(inbox, { method: 'POST', headers: { 'content-type': 'application/activity+json', date, digest } }, (res) => {
        readBody(res).then((data) => {
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
          } catch {
            parsed = { raw: data.toString('utf8') };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        }, reject);
      });
      req.on('error', reject);
      if (!tampering.unsigned) {
        // Mastodon sends the signature in a `Signature` header, not `Authorization: Signature`.
        signRequest(req, { key: privateKey, keyId: `${actorId()}#main-key`, algorithm: 'rsa-sha256', headers: ['(request-target)', 'host', 'date', 'digest'], authorizationHeaderName: 'Signature' });
        if (tampering.badSignature) {
          const header = String(req.getHeader('signature'));
          req.setHeader('signature', header.replace(/signature="(.)/, (_m, first: string) => `signature="${first === 'A' ? 'B' : 'A'}`));
        }
      }
      req.end(body);
    });
  }

  return {
    base,
    get actorId() {
      return actorId();
    },
    get inbox() {
      return `${actorId()}/inbox`;
    },
    received,
    failNext,
    actorFetches: () => actorFetches,
    markGone: () => {
      gone = true;
    },
    rotateKey: () => {
      ({ publicKey, privateKey } = newKeyPair());
    },
    async webfinger(ourBase, acct) {
      const response = await rawRequest('GET', `${ourBase}/.well-known/webfinger?resource=${encodeURIComponent(`acct:${acct}`)}`, { accept: 'application/jrd+json' });
      if (response.status !== 200) throw new Error(`webfinger answered ${response.status}: ${response.body}`);
      const jrd = JSON.parse(response.body) as { links?: Array<{ rel?: string; type?: string; href?: string }> };
      const self = jrd.links?.find((link) => link.rel === 'self' && link.type === 'application/activity+json');
      if (!self?.href) throw new Error('webfinger has no self link');
      return self.href;
    },
    async fetchJson(url) {
      const response = await rawRequest('GET', url, { accept: 'application/activity+json' });
      return { status: response.status, contentType: response.headers['content-type'], body: JSON.parse(response.body) as Record<string, unknown> };
    },
    async follow(targetActor, inbox, tampering) {
      const followId = `${actorId()}#follows/${randomUUID()}`;
      const answer = await signedPost(inbox, { '@context': 'https://www.w3.org/ns/activitystreams', id: followId, type: 'Follow', actor: actorId(), object: targetActor }, tampering);
      return { ...answer, followId };
    },
    post: signedPost,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
