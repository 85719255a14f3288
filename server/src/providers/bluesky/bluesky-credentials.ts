/** How the write-back signs in as a linked account (an app password; stored encrypted by linking). */
export interface BlueskyCredentials {
  /** The account's PDS (or entryway), e.g. `https://bsky.social`. */
  readonly service: string;
  /** Handle or DID. */
  readonly identifier: string;
  readonly password: string;
}

/** The credentials linked for a DID, or undefined when the account has none (write-back skips it). */
export type BlueskyCredentialsLookup = (did: string) => Promise<BlueskyCredentials | undefined>;
