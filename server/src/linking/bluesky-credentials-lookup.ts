import type { BlueskyCredentials, BlueskyCredentialsLookup } from '../providers/bluesky/bluesky-credentials.js';
import type { Logger } from '../observability/index.js';
import type { LinkedAccountStore } from './linked-account-store.js';

/**
 * The Bluesky write-back's way to sign in as a linked account: the DID's stored app password,
 * opened from the vault, with the configured service. Undefined when the account is not linked
 * by app password, needs the publisher again, or its sealed password does not open.
 */
export function blueskyCredentialsLookup(store: LinkedAccountStore, service: string, log?: Logger): BlueskyCredentialsLookup {
  return async (did) => {
    try {
      return await store.withSecrets('bluesky', did, (secrets, account): BlueskyCredentials | undefined =>
        secrets.app_password === null || account.status !== 'active' ? undefined : { service, identifier: did, password: secrets.app_password },
      );
    } catch (error) {
      log?.warn({ did, err: error }, 'stored Bluesky app password unreadable');
      return undefined;
    }
  };
}
