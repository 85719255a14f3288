/**
 * A fake atproto PDS (Personal Data Server), written from the lexicons of
 * `com.atproto.server.*` and `com.atproto.repo.*` (https://github.com/bluesky-social/atproto,
 * `lexicons/com/atproto/`) and the XRPC HTTP spec (https://atproto.com/specs/xrpc): a real
 * node:http server on a free port; production code reaches it through its `service` URL.
 *
 * - `POST /xrpc/com.atproto.server.createSession` `{identifier, password}` -> `{did, handle,
 *   accessJwt, refreshJwt, active}`; identifier is the handle or the DID; the password an app password.
 * - `POST /xrpc/com.atproto.server.refreshSession` (Bearer refreshJwt): a new pair; the old
 *   refresh token is revoked (rotation, as the PDS does).
 * - `GET /xrpc/com.atproto.server.getSession` (Bearer accessJwt).
 * - `GET /xrpc/com.atproto.server.describeServer`.
 * - `POST /xrpc/com.atproto.repo.putRecord`, `POST .../deleteRecord` (Bearer accessJwt; `repo`
 *   must be the session's DID or handle), `GET .../getRecord` (public).
 *
 * Tokens are HS256 JWTs with the PDS's scopes (`com.atproto.appPass`, `com.atproto.refresh`).
 * Errors are XRPC errors `{ "error", "message" }`: 401 `AuthenticationRequired` (no or bad
 * credentials, a repo that is not yours), 400 `ExpiredToken` (an expired access token: the
 * status clients refresh on), 400 `InvalidToken` (a refresh token used as access token or the
 * reverse, a revoked refresh token), 400 `InvalidRequest` (bad input), 400 `RecordNotFound`.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Largest request body the fake reads (the PDS caps JSON bodies too). */
const MAX_BODY_BYTES = 1024 * 1024;
const NSID = /^[a-zA-Z]([a-zA-Z0-9-]{0,62})?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})?)+$/;
const RKEY = /^[a-zA-Z0-9._:~-]{1,512}$/;
const DID = /^did:[a-z]+:[a-zA-Z0-9._:%-]{1,2048}$/;

export interface FakePdsAccount {
  readonly did: string;
  readonly handle: string;
  /** An app password (`xxxx-xxxx-xxxx-xxxx`) or any password. */
  readonly password: string;
}

export interface FakePdsRecord {
  readonly uri: string;
  readonly cid: string;
  readonly value: Record<string, unknown>;
}

export interface PdsRequestRecord {
  /** The XRPC method (NSID) or path asked for. */
  readonly method: string;
  readonly status: number;
  /** The error name of an error answer. */
  readonly error?: string;
}

/** A write seen by the repo, as the firehose / Jetstream would carry it. */
export interface PdsCommit {
  readonly did: string;
  readonly operation: 'create' | 'update' | 'delete';
  readonly collection: string;
  readonly rkey: string;
  readonly rev: string;
  readonly cid?: string;
  readonly record?: Record<string, unknown>;
}

export interface FakePdsOptions {
  /** Lifetime of access tokens (the PDS: 2 h). */
  readonly accessTokenLifetimeMs?: number;
  /** Lifetime of refresh tokens (the PDS: 90 days). */
  readonly refreshTokenLifetimeMs?: number;
}

export interface FakePds {
  readonly baseUrl: string;
  /** Every request answered, in order. */
  readonly calls: PdsRequestRecord[];
  addAccount(account: FakePdsAccount): void;
  /** Every access token issued so far is expired from now on (refresh tokens stay good). */
  expireAccessTokens(): void;
  /** Every refresh token issued so far is revoked: only a new createSession works. */
  revokeRefreshTokens(): void;
  /** The next `count` requests (any method) answer `status` with an `InternalServerError` body. */
  failNext(count: number, status?: 500 | 502 | 503): void;
  /** A record as stored, or undefined. */
  record(did: string, collection: string, rkey: string): FakePdsRecord | undefined;
  /** Calls `listener` for each write (to feed a Jetstream fake). Returns an unsubscribe. */
  onCommit(listener: (commit: PdsCommit) => void): () => void;
  /** How many successful calls of `method` were answered. */
  count(method: string, status?: number): number;
  close(): Promise<void>;
}

interface TokenClaims {
  readonly scope: string;
  readonly sub: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

class XrpcFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startFakePds(options: FakePdsOptions = {}): Promise<FakePds> {
  const secret = randomBytes(32);
  const accessLifetimeMs = options.accessTokenLifetimeMs ?? 2 * 60 * 60 * 1000;
  const refreshLifetimeMs = options.refreshTokenLifetimeMs ?? 90 * 24 * 60 * 60 * 1000;
  const accounts = new Map<string, FakePdsAccount>();
  /** Repos: did -> `collection/rkey` -> record. */
  const repos = new Map<string, Map<string, FakePdsRecord>>();
  const expiredJtis = new Set<string>();
  const revokedRefreshJtis = new Set<string>();
  const issuedAccessJtis: string[] = [];
  const issuedRefreshJtis: string[] = [];
  const calls: PdsRequestRecord[] = [];
  const listeners = new Set<(commit: PdsCommit) => void>();
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  let revCounter = 0;
  let serviceDid = 'did:web:localhost';

  function sign(claims: TokenClaims): string {
    const header = Buffer.from(JSON.stringify({ typ: 'at+jwt', alg: 'HS256' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ ...claims, aud: serviceDid })).toString('base64url');
    const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  }

  function verify(token: string): TokenClaims {
    const [header, payload, signature, extra] = token.split('.');
    if (!header || !payload || !signature || extra !== undefined) throw new XrpcFailure(401, 'InvalidToken', 'Token could not be verified');
    const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new XrpcFailure(401, 'InvalidToken', 'Token could not be verified');
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
  }

  function issueSession(account: FakePdsAccount): Record<string, unknown> {
    const nowS = Math.floor(Date.now() / 1000);
    const accessJti = randomBytes(16).toString('hex');
    const refreshJti = randomBytes(16).toString('hex');
    issuedAccessJtis.push(accessJti);
    issuedRefreshJtis.push(refreshJti);
    const accessJwt = sign({ scope: 'com.atproto.appPass', sub: account.did, iat: nowS, exp: nowS + Math.ceil(accessLifetimeMs / 1000), jti: accessJti });
    const refreshJwt = sign({ scope: 'com.atproto.refresh', sub: account.did, iat: nowS, exp: nowS + Math.ceil(refreshLifetimeMs / 1000), jti: refreshJti });
    return { did: account.did, handle: account.handle, accessJwt, refreshJwt, active: true, emailConfirmed: false };
  }

  function bearer(req: IncomingMessage): string {
    const header = req.headers.authorization;
    if (!header) throw new XrpcFailure(401, 'AuthenticationRequired', 'Authentication Required');
    const match = /^Bearer (\S+)$/.exec(header);
    if (!match?.[1]) throw new XrpcFailure(401, 'AuthenticationRequired', 'Unexpected authorization type');
    return match[1];
  }

  function authenticate(req: IncomingMessage, kind: 'access' | 'refresh'): { claims: TokenClaims; account: FakePdsAccount } {
    const claims = verify(bearer(req));
    const wantScope = kind === 'access' ? 'com.atproto.appPass' : 'com.atproto.refresh';
    if (claims.scope !== wantScope) throw new XrpcFailure(400, 'InvalidToken', 'Bad token scope');
    if (kind === 'access' && (expiredJtis.has(claims.jti) || claims.exp * 1000 <= Date.now())) throw new XrpcFailure(400, 'ExpiredToken', 'Token has expired');
    if (kind === 'refresh' && claims.exp * 1000 <= Date.now()) throw new XrpcFailure(400, 'ExpiredToken', 'Token has expired');
    if (kind === 'refresh' && revokedRefreshJtis.has(claims.jti)) throw new XrpcFailure(400, 'ExpiredToken', 'Token has been revoked');
    const account = accounts.get(claims.sub);
    if (!account) throw new XrpcFailure(400, 'AccountNotFound', 'Account not found');
    return { claims, account };
  }

  function findAccount(identifier: string): FakePdsAccount | undefined {
    const lower = identifier.toLowerCase();
    return accounts.get(identifier) ?? [...accounts.values()].find((account) => account.handle === lower);
  }

  function repoOf(account: FakePdsAccount, repo: unknown): Map<string, FakePdsRecord> {
    if (typeof repo !== 'string' || repo === '') throw new XrpcFailure(400, 'InvalidRequest', 'Input/repo must be a string');
    if (repo !== account.did && repo.toLowerCase() !== account.handle) throw new XrpcFailure(401, 'AuthenticationRequired', 'Authentication Required');
    let records = repos.get(account.did);
    if (!records) repos.set(account.did, (records = new Map()));
    return records;
  }

  /** A TID (https://atproto.com/specs/tid): 53 bits of microseconds, 10 of clock id, base32-sortable. */
  function nextRev(): string {
    revCounter += 1;
    let value = (BigInt(Date.now()) * 1000n + BigInt(revCounter % 1000)) * 1024n + 7n;
    const alphabet = '234567abcdefghijklmnopqrstuvwxyz';
    let out = '';
    for (let i = 0; i < 13; i++) {
      out = alphabet[Number(value & 31n)] + out;
      value >>= 5n;
    }
    return out;
  }

  /**
   * A well-formed CIDv1 (dag-cbor codec, sha2-256, base32 multibase `b`), as the PDS answers;
   * the hash is over the JSON form (the fake does not encode DAG-CBOR).
   */
  function cidOf(value: unknown): string {
    const digest = createHash('sha256').update(JSON.stringify(value)).digest();
    return `b${base32(Buffer.concat([Buffer.from([0x01, 0x71, 0x12, 0x20]), digest]))}`;
  }

  function emit(commit: PdsCommit): void {
    for (const listener of listeners) listener(commit);
  }

  function requireString(input: Record<string, unknown>, name: string, pattern?: RegExp): string {
    const value = input[name];
    if (typeof value !== 'string' || value === '') throw new XrpcFailure(400, 'InvalidRequest', `Input must have the property "${name}"`);
    if (pattern && !pattern.test(value)) throw new XrpcFailure(400, 'InvalidRequest', `Input/${name} must be a valid ${name}`);
    return value;
  }

  async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new XrpcFailure(400, 'InvalidRequest', 'Wrong request encoding (Content-Type): expected application/json');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) throw new XrpcFailure(413, 'PayloadTooLarge', 'request entity too large');
      chunks.push(chunk);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new XrpcFailure(400, 'InvalidRequest', 'Invalid JSON body');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new XrpcFailure(400, 'InvalidRequest', 'Input must be an object');
    return parsed as Record<string, unknown>;
  }

  async function handle(method: string, req: IncomingMessage, url: URL): Promise<unknown> {
    const isPost = req.method === 'POST';
    switch (method) {
      case 'com.atproto.server.describeServer':
        return { did: serviceDid, availableUserDomains: ['.test'], inviteCodeRequired: false, links: {} };
      case 'com.atproto.server.createSession': {
        if (!isPost) break;
        const input = await readJson(req);
        const identifier = requireString(input, 'identifier');
        const password = requireString(input, 'password');
        const account = findAccount(identifier);
        const given = Buffer.from(password);
        const expected = Buffer.from(account?.password ?? '');
        if (!account || given.length !== expected.length || !timingSafeEqual(given, expected)) {
          throw new XrpcFailure(401, 'AuthenticationRequired', 'Invalid identifier or password');
        }
        return issueSession(account);
      }
      case 'com.atproto.server.refreshSession': {
        if (!isPost) break;
        const { claims, account } = authenticate(req, 'refresh');
        revokedRefreshJtis.add(claims.jti);
        return issueSession(account);
      }
      case 'com.atproto.server.getSession': {
        const { account } = authenticate(req, 'access');
        return { did: account.did, handle: account.handle, active: true, emailConfirmed: false };
      }
      case 'com.atproto.repo.putRecord': {
        if (!isPost) break;
        const { account } = authenticate(req, 'access');
        const input = await readJson(req);
        const records = repoOf(account, input['repo']);
        const collection = requireString(input, 'collection', NSID);
        const rkey = requireString(input, 'rkey', RKEY);
        const record = input['record'];
        if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new XrpcFailure(400, 'InvalidRequest', 'Input must have the property "record"');
        const value = record as Record<string, unknown>;
        if (value['$type'] !== collection) throw new XrpcFailure(400, 'InvalidRequest', `Invalid $type: expected ${collection}, got ${String(value['$type'])}`);
        if (input['validate'] !== false) validateKnownRecord(collection, rkey, value);
        const key = `${collection}/${rkey}`;
        const existing = records.get(key);
        const uri = `at://${account.did}/${collection}/${rkey}`;
        const stored: FakePdsRecord = { uri, cid: cidOf(value), value };
        records.set(key, stored);
        const rev = nextRev();
        emit({ did: account.did, operation: existing ? 'update' : 'create', collection, rkey, rev, cid: stored.cid, record: value });
        return { uri, cid: stored.cid, commit: { cid: cidOf({ rev }), rev }, validationStatus: input['validate'] === false ? 'unknown' : 'valid' };
      }
      case 'com.atproto.repo.deleteRecord': {
        if (!isPost) break;
        const { account } = authenticate(req, 'access');
        const input = await readJson(req);
        const records = repoOf(account, input['repo']);
        const collection = requireString(input, 'collection', NSID);
        const rkey = requireString(input, 'rkey', RKEY);
        const rev = nextRev();
        // Deleting a record that does not exist succeeds, as in the PDS.
        if (records.delete(`${collection}/${rkey}`)) emit({ did: account.did, operation: 'delete', collection, rkey, rev });
        return { commit: { cid: cidOf({ rev }), rev } };
      }
      case 'com.atproto.repo.getRecord': {
        if (req.method !== 'GET') break;
        const repo = url.searchParams.get('repo') ?? '';
        const collection = url.searchParams.get('collection') ?? '';
        const rkey = url.searchParams.get('rkey') ?? '';
        if (!repo || !NSID.test(collection) || !RKEY.test(rkey)) throw new XrpcFailure(400, 'InvalidRequest', 'Params must have the properties "repo", "collection" and "rkey"');
        const account = findAccount(repo);
        const stored = account && repos.get(account.did)?.get(`${collection}/${rkey}`);
        if (!stored) throw new XrpcFailure(400, 'RecordNotFound', `Could not locate record: at://${repo}/${collection}/${rkey}`);
        return { uri: stored.uri, cid: stored.cid, value: stored.value };
      }
      default:
        throw new XrpcFailure(501, 'MethodNotImplemented', 'Method Not Implemented');
    }
    throw new XrpcFailure(400, 'InvalidRequest', `Incorrect HTTP method (${req.method ?? ''}) for ${method}`);
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://pds.invalid');
    const method = /^\/xrpc\/([^/]+)$/.exec(url.pathname)?.[1] ?? url.pathname;
    const reply = (status: number, body: unknown, error?: string) => {
      calls.push({ method, status, ...(error ? { error } : {}) });
      send(res, status, body);
    };
    if (failures.count > 0) {
      failures = { ...failures, count: failures.count - 1 };
      req.resume();
      reply(failures.status, { error: 'InternalServerError', message: 'Internal Server Error' }, 'InternalServerError');
      return;
    }
    handle(method, req, url).then(
      (body) => reply(200, body),
      (error: unknown) => {
        req.resume();
        if (error instanceof XrpcFailure) reply(error.status, { error: error.error, message: error.message }, error.error);
        else reply(500, { error: 'InternalServerError', message: 'Internal Server Error' }, 'InternalServerError');
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  serviceDid = `did:web:127.0.0.1%3A${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    calls,
    addAccount(account) {
      if (!DID.test(account.did)) throw new Error(`fake PDS: not a DID: ${account.did}`);
      accounts.set(account.did, { ...account, handle: account.handle.toLowerCase() });
    },
    expireAccessTokens() {
      for (const jti of issuedAccessJtis) expiredJtis.add(jti);
    },
    revokeRefreshTokens() {
      for (const jti of issuedRefreshJtis) revokedRefreshJtis.add(jti);
    },
    failNext(count, status = 500) {
      failures = { count, status };
    },
    record(did, collection, rkey) {
      return repos.get(did)?.get(`${collection}/${rkey}`);
    },
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    count(method, status = 200) {
      return calls.filter((call) => call.method === method && call.status === status).length;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Lexicon checks the PDS applies to records it knows (here: the status record our write-back puts). */
function validateKnownRecord(collection: string, rkey: string, value: Record<string, unknown>): void {
  const fail = (message: string) => new XrpcFailure(400, 'InvalidRequest', `Invalid ${collection} record: ${message}`);
  if (collection !== 'app.bsky.actor.status') return;
  if (rkey !== 'self') throw fail('Record key must be "self"');
  if (typeof value['status'] !== 'string') throw fail('Record must have the property "status"');
  if (typeof value['createdAt'] !== 'string' || Number.isNaN(Date.parse(value['createdAt']))) throw fail('Record/createdAt must be an valid atproto datetime');
  const duration = value['durationMinutes'];
  if (duration !== undefined && (typeof duration !== 'number' || !Number.isInteger(duration) || duration < 1)) throw fail('Record/durationMinutes must be an integer >= 1');
  const embed = value['embed'];
  if (embed !== undefined) {
    if (typeof embed !== 'object' || embed === null) throw fail('Record/embed must be an object');
    const union = embed as Record<string, unknown>;
    if (union['$type'] !== 'app.bsky.embed.external') throw fail('Record/embed $type must be one of lex:app.bsky.embed.external');
    const external = union['external'] as Record<string, unknown> | undefined;
    if (!external || typeof external['uri'] !== 'string' || typeof external['title'] !== 'string' || typeof external['description'] !== 'string') {
      throw fail('Record/embed/external must have the properties "uri", "title" and "description"');
    }
  }
}

/** RFC 4648 base32, lowercase, unpadded (the multibase `b` alphabet). */
function base32(bytes: Uint8Array): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let buffer = 0;
  let out = '';
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
}
