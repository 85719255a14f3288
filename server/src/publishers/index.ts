/**
 * Publishers (issue 21, reused by issue 23's WHIP go-live): the product has no publisher
 * accounts, so acting as a channel's publisher takes a short-lived publisher grant that the host
 * page's backend asks for with the admin token and hands to its page. `PublisherGrants` signs
 * and verifies them; `authorizePublisher` turns an `Authorization` header into an actor or a
 * 401/403.
 */
export {
  PublisherGrants,
  PublisherGrantError,
  PUBLISHER_CAPABILITIES,
  PUBLISHER_GRANT_AUDIENCE,
  PUBLISHER_GRANT_DEFAULT_TTL_MS,
  PUBLISHER_GRANT_MAX_TTL_MS,
  type PublisherCapability,
  type PublisherGrant,
  type PublisherGrantProblem,
  type PublisherGrantScope,
  type SignedPublisherGrant,
} from './publisher-grant.js';
export { authorizePublisher, type AuthorizePublisherDeps, type PublisherActor } from './authorize-publisher.js';
