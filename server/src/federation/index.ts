export { Federation, type FederationOptions, type FederationSettings } from './federation.js';
export { ACTIVITY_JSON, actorDocument, orderedCollection, webfingerDocument } from './activities.js';
export { actorHandle, actorUrls, parseActorHandle } from './actor-urls.js';
export { blockInputSchema, type Block } from './federation-stores.js';
export { MAX_DATE_SKEW_MS } from './inbox-verifier.js';
export { FEDERATION_STREAM } from './delivery-queue.js';
export { digestHeader, parseSignatureHeader, signPost, signingString, verifySignature } from './http-signature.js';
