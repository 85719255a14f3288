import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';

/**
 * HTTP Signatures as Mastodon speaks them (draft-cavage-http-signatures-12, `rsa-sha256`
 * over `(request-target) host date digest`, a `SHA-256=` Digest header). Pure functions: the
 * routes and the delivery worker call them, the tests check them against Joyent's
 * `http-signature`, which is not ours.
 */

/** The headers we sign on a POST and require on an incoming one. */
export const SIGNED_POST_HEADERS = ['(request-target)', 'host', 'date', 'digest'] as const;

/** `SHA-256=` + base64 of the body's SHA-256 (RFC 3230, as Mastodon sends and checks it). */
export function digestHeader(body: Uint8Array | string): string {
  return `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
}

/** The string a signature covers: one `name: value` line per signed header, in the header's order. */
export function signingString(components: readonly string[], method: string, path: string, header: (name: string) => string | undefined): string {
  return components
    .map((name) => {
      if (name === '(request-target)') return `(request-target): ${method.toLowerCase()} ${path}`;
      const value = header(name);
      if (value === undefined) throw new SignatureError(`signed header ${name} is missing`, 'missing_header');
      return `${name}: ${value}`;
    })
    .join('\n');
}

/** A signature that cannot be checked: a header it covers is missing, or the key is not a key. */
export class SignatureError extends Error {
  constructor(
    message: string,
    readonly kind: 'missing_header' | 'bad_key',
  ) {
    super(message);
    this.name = 'SignatureError';
  }
}

export interface SignedPost {
  readonly keyId: string;
  readonly privateKeyPem: string;
  readonly url: URL;
  readonly body: string;
  readonly date: Date;
}

/** The headers of a signed POST: `Host`, `Date`, `Digest` and `Signature`. */
export function signPost(request: SignedPost): Record<string, string> {
  const headers: Record<string, string> = {
    host: request.url.host,
    date: request.date.toUTCString(),
    digest: digestHeader(request.body),
  };
  const text = signingString(SIGNED_POST_HEADERS, 'POST', `${request.url.pathname}${request.url.search}`, (name) => headers[name]);
  const signature = sign('sha256', Buffer.from(text), createPrivateKey(request.privateKeyPem)).toString('base64');
  headers.signature = `keyId="${request.keyId}",algorithm="rsa-sha256",headers="${SIGNED_POST_HEADERS.join(' ')}",signature="${signature}"`;
  return headers;
}

/** The headers we sign on a GET (Mastodon's authorized fetch checks these). */
export const SIGNED_GET_HEADERS = ['(request-target)', 'host', 'date'] as const;

/**
 * The headers of a signed GET: servers in Mastodon's secure mode (authorized fetch) serve their
 * actors only to signed requests, so fetching a signer's key must be signed itself.
 */
export function signGet(request: { keyId: string; privateKeyPem: string; url: URL; date: Date }): Record<string, string> {
  const headers: Record<string, string> = { host: request.url.host, date: request.date.toUTCString() };
  const text = signingString(SIGNED_GET_HEADERS, 'GET', `${request.url.pathname}${request.url.search}`, (name) => headers[name]);
  const signature = sign('sha256', Buffer.from(text), createPrivateKey(request.privateKeyPem)).toString('base64');
  headers.signature = `keyId="${request.keyId}",algorithm="rsa-sha256",headers="${SIGNED_GET_HEADERS.join(' ')}",signature="${signature}"`;
  return headers;
}

export interface ParsedSignature {
  readonly keyId: string;
  readonly algorithm: string | undefined;
  readonly headers: readonly string[];
  readonly signature: Buffer;
}

/** Parses a `Signature` header; undefined when it is not `k="v",...` with a keyId and a signature. */
export function parseSignatureHeader(value: string): ParsedSignature | undefined {
  const fields = new Map<string, string>();
  const pattern = /\s*([a-zA-Z]+)="([^"]*)"\s*(?:,|$)/y;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < value.length && (match = pattern.exec(value)) !== null) fields.set(match[1]!, match[2]!);
  if (pattern.lastIndex !== value.length && value.trim() !== '') return undefined;
  const keyId = fields.get('keyId');
  const signature = fields.get('signature');
  if (!keyId || !signature) return undefined;
  return {
    keyId,
    algorithm: fields.get('algorithm'),
    // draft-cavage: without `headers`, only Date is signed.
    headers: (fields.get('headers') ?? 'date').toLowerCase().split(/\s+/).filter((name) => name !== ''),
    signature: Buffer.from(signature, 'base64'),
  };
}

/** True when `signature` holds for the request under the PEM public key (RSA-SHA256, or Ed25519 keys). */
export function verifySignature(parsed: ParsedSignature, method: string, path: string, header: (name: string) => string | undefined, publicKeyPem: string): boolean {
  const text = Buffer.from(signingString(parsed.headers, method, path, header));
  let key;
  try {
    key = createPublicKey(publicKeyPem);
  } catch {
    throw new SignatureError('the signer\'s public key is not a PEM key', 'bad_key');
  }
  return verify(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', text, key, parsed.signature);
}
