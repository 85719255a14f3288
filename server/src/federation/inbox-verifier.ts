import { AppError } from '../errors/index.js';
import type { FederationInboxRefusal } from '../observability/index.js';
import { SIGNED_POST_HEADERS, SignatureError, digestHeader, parseSignatureHeader, verifySignature } from './http-signature.js';
import { RemoteActorError, type RemoteActor } from './remote-actor.js';

/** How far a request's Date may be from our clock (Mastodon allows about an hour of skew). */
export const MAX_DATE_SKEW_MS = 60 * 60 * 1000;

/** An inbox POST refused (401 `unauthorized`, or 403 for a blocked signer), with why, for the metrics. */
export class InboxRefusedError extends AppError {
  constructor(
    readonly reason: FederationInboxRefusal,
    message: string,
  ) {
    super(reason === 'blocked' ? 'forbidden' : 'unauthorized', message);
  }
}

/**
 * The signer's actor answered 404 or 410: its account is gone, so nothing it signed can be
 * verified. Still a 401, unless the caller recognises the account's own `Delete` (see `Federation.receive`).
 */
export class SignerGoneError extends InboxRefusedError {
  constructor(
    readonly actorUrl: string,
    message: string,
  ) {
    super('signer_gone', message);
  }
}

export interface IncomingPost {
  readonly method: string;
  /** Path and query as received. */
  readonly path: string;
  readonly header: (name: string) => string | undefined;
  readonly body: Buffer;
}

/**
 * Checks an inbox POST's HTTP Signature before anything else looks at it: a Signature covering
 * `(request-target) host date digest`, a Date within the skew, a Digest of the exact body, and a
 * signature that holds under the key the signer's actor document serves. Any failure is a 401
 * `unauthorized` saying which; the verified signer comes back.
 */
export async function verifyInboxPost(post: IncomingPost, fetchActor: (keyId: string, fresh: boolean) => Promise<{ actor: RemoteActor; cached: boolean }>, nowMs: number): Promise<RemoteActor> {
  const header = post.header('signature');
  if (header === undefined) throw new InboxRefusedError('unsigned', 'inbox POSTs must carry an HTTP Signature (Signature header)');
  const parsed = parseSignatureHeader(header);
  if (!parsed) throw new InboxRefusedError('malformed_signature', 'the Signature header is malformed');
  if (parsed.algorithm !== undefined && !['rsa-sha256', 'hs2019', 'ed25519'].includes(parsed.algorithm)) {
    throw new InboxRefusedError('malformed_signature', `signature algorithm ${parsed.algorithm} is not accepted`);
  }
  for (const name of SIGNED_POST_HEADERS) {
    if (!parsed.headers.includes(name)) throw new InboxRefusedError('malformed_signature', `the signature must cover ${SIGNED_POST_HEADERS.join(' ')}`);
  }
  const date = Date.parse(post.header('date') ?? '');
  if (Number.isNaN(date)) throw new InboxRefusedError('date', 'the Date header is missing or malformed');
  if (Math.abs(nowMs - date) > MAX_DATE_SKEW_MS) throw new InboxRefusedError('date', 'the Date header is too far from now (stale or future request)');
  const digests = (post.header('digest') ?? '').split(',').map((value) => value.trim());
  const sha256 = digests.find((value) => value.toLowerCase().startsWith('sha-256='));
  if (sha256 === undefined) throw new InboxRefusedError('digest', 'a SHA-256 Digest header is required');
  if (`SHA-256=${sha256.slice('sha-256='.length)}` !== digestHeader(post.body)) throw new InboxRefusedError('digest', 'the Digest header does not match the body');
  const holdsUnder = async (fresh: boolean): Promise<{ holds: boolean; actor: RemoteActor; cached: boolean }> => {
    let found: { actor: RemoteActor; cached: boolean };
    try {
      found = await fetchActor(parsed.keyId, fresh);
    } catch (error) {
      if (error instanceof RemoteActorError && (error.status === 404 || error.status === 410)) throw new SignerGoneError(parsed.keyId.split('#')[0]!, error.message);
      if (error instanceof RemoteActorError) throw new InboxRefusedError('key_unavailable', error.message);
      throw error;
    }
    try {
      return { holds: verifySignature(parsed, post.method, post.path, post.header, found.actor.publicKeyPem), ...found };
    } catch (error) {
      if (error instanceof SignatureError) throw new InboxRefusedError(error.kind === 'bad_key' ? 'key_unavailable' : 'malformed_signature', error.message);
      throw error;
    }
  };
  let outcome = await holdsUnder(false);
  // A cached key may have been rotated since: one fresh fetch decides.
  if (!outcome.holds && outcome.cached) outcome = await holdsUnder(true);
  if (!outcome.holds) throw new InboxRefusedError('bad_signature', 'the HTTP Signature does not verify');
  return outcome.actor;
}
