export { Federation, type FederationOptions, type FederationSettings } from './federation.js';
export { ACTIVITY_JSON, actorDocument, orderedCollection, webfingerDocument } from './activities.js';
export { actorHandle, actorUrls, parseActorHandle } from './actor-urls.js';
export { FOLLOWER_ID_PATTERN, blockInputSchema, type Block, type ListedFollower } from './federation-stores.js';
export { DEAD_LETTER_CURSOR_PATTERN, FEDERATION_DELIVERY_ID_PATTERN, type DeadLetter, type DeadLetterPage, type DeadLetterSummary } from './dead-letters.js';
export { FederationAdmin } from './federation-admin.js';
export { MAX_DATE_SKEW_MS } from './inbox-verifier.js';
export { FEDERATION_STREAM } from './delivery-queue.js';
export { digestHeader, parseSignatureHeader, signPost, signingString, verifySignature } from './http-signature.js';
