import { z } from 'zod';
import { ACTIVITY_JSON } from './activities.js';
import { guardedRequest, type FederationNetworkPolicy } from './guarded-http.js';
import { signGet } from './http-signature.js';

/** Bytes of a remote actor document we read (Mastodon's are a few KB). */
export const MAX_ACTOR_DOCUMENT_BYTES = 256 * 1024;

const remoteActorSchema = z.looseObject({
  id: z.url(),
  inbox: z.url(),
  endpoints: z.looseObject({ sharedInbox: z.url().optional() }).optional(),
  publicKey: z.looseObject({ id: z.string(), owner: z.string(), publicKeyPem: z.string().max(16_384) }),
});

/** What we use of a remote actor: its id, its inbox and the key its signatures are checked with. */
export interface RemoteActor {
  readonly id: string;
  readonly inbox: string;
  /** The server's shared inbox, when it has one: public posts go there once per server. */
  readonly sharedInbox: string | undefined;
  readonly keyId: string;
  readonly publicKeyPem: string;
}

/** A remote actor document that could not be fetched or is not an actor with a key. */
export class RemoteActorError extends Error {
  constructor(
    message: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RemoteActorError';
    this.status = options?.status;
  }

  /** The actor URL's HTTP status when it answered other than 200 (404 / 410: the account is gone). */
  readonly status: number | undefined;
}

/** The key our GETs are signed with (one of our channels' actors). */
export interface FetchSigner {
  readonly keyId: string;
  readonly privateKeyPem: string;
}

/**
 * Fetches the actor that owns `keyId` (the key id without its fragment is the actor, as on
 * Mastodon) under the outbound SSRF rules, and checks that the key belongs to that actor. The
 * GET is signed by `signer`, so servers in secure mode (authorized fetch) answer it.
 */
export async function fetchRemoteActor(keyId: string, policy: FederationNetworkPolicy, signer?: FetchSigner): Promise<RemoteActor> {
  const actorUrl = keyId.split('#')[0]!;
  let response;
  try {
    let signed: Record<string, string> = {};
    if (signer) {
      try {
        signed = signGet({ ...signer, url: new URL(actorUrl), date: new Date() });
      } catch {
        throw new RemoteActorError(`the key id ${keyId} is not a URL`);
      }
    }
    response = await guardedRequest({ method: 'GET', url: actorUrl, headers: { ...signed, accept: `${ACTIVITY_JSON}, application/ld+json; profile="https://www.w3.org/ns/activitystreams"` }, maxResponseBytes: MAX_ACTOR_DOCUMENT_BYTES }, policy);
  } catch (error) {
    throw new RemoteActorError(`could not fetch the signer's actor ${actorUrl}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (response.status !== 200) throw new RemoteActorError(`the signer's actor ${actorUrl} answered ${response.status}`, { status: response.status });
  let parsed;
  try {
    parsed = remoteActorSchema.safeParse(JSON.parse(response.body.toString('utf8')));
  } catch {
    throw new RemoteActorError(`the signer's actor ${actorUrl} is not JSON`);
  }
  if (!parsed.success) throw new RemoteActorError(`the signer's actor ${actorUrl} has no id, inbox or publicKey`);
  const actor = parsed.data;
  if (actor.publicKey.id !== keyId || actor.publicKey.owner !== actor.id || actor.id !== actorUrl) {
    throw new RemoteActorError(`the key ${keyId} does not belong to the actor ${actorUrl}`);
  }
  return { id: actor.id, inbox: actor.inbox, sharedInbox: actor.endpoints?.sharedInbox, keyId, publicKeyPem: actor.publicKey.publicKeyPem };
}
