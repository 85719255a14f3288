import { isBlueskyDid } from '@live-upload/schema';
import { BUCKETS, type Bus } from '../../bus/index.js';

/** The linked Bluesky accounts. */
export interface BlueskyDidDirectory {
  linkedBlueskyDids(): Promise<string[]>;
}

const PREFIX = 'bluesky.';

/**
 * The linked Bluesky DIDs, read from the channel registry's reverse index (`provider-links`:
 * `bluesky.{base64url DID}` -> `{publisher}/{slug}`), so every process sees the same set
 * without asking the registry for all channels.
 */
export async function blueskyLinksDirectory(bus: Bus): Promise<BlueskyDidDirectory> {
  const links = await bus.kv(BUCKETS.providerLinks);
  return {
    async linkedBlueskyDids() {
      return (await links.keys(PREFIX))
        .map((key) => Buffer.from(key.slice(PREFIX.length), 'base64url').toString('utf8'))
        .filter(isBlueskyDid)
        .sort();
    },
  };
}
