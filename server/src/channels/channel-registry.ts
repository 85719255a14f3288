import type { ChannelRef } from '@live-upload/schema';
import { formatChannelRef, isBlueskyDid, isYoutubeChannelId } from '@live-upload/schema';
import { BUCKETS, KvConflictError, KvContentionError, SKIP, decodeText, jsonCodec, typedKv, type Bus, type KvBucket, type KvConflictCounter, type KvUpdateResult, type TypedKv } from '../bus/index.js';
import { AppError } from '../errors/index.js';
import { DEFAULT_UPLOAD_POLICY, DEFAULT_VOD_POLICY, channelConfigSchema, type ChannelConfig, type ChannelInput, type ChannelOriginLimitsInput, type TwitchLinkConfig } from './channel-config.js';

/** Providers whose accounts link to one channel each. */
export const LINKED_PROVIDERS = ['twitch', 'youtube', 'bluesky'] as const;
export type LinkedProvider = (typeof LINKED_PROVIDERS)[number];

/** Whether `accountId` has the syntax of an account id of `provider`; a lookup for anything else finds nothing. */
const ACCOUNT_ID_CHECKS: Record<LinkedProvider, (accountId: string) => boolean> = {
  twitch: (accountId) => /^[0-9]{1,20}$/.test(accountId),
  youtube: isYoutubeChannelId,
  bluesky: isBlueskyDid,
};

/**
 * Key of a provider account in the `provider-links` bucket. Twitch and YouTube ids are key-safe
 * as they are; a DID holds `:` (not a KV key character), so it is base64url-encoded.
 */
function linkKey(provider: LinkedProvider, accountId: string): string {
  return `${provider}.${provider === 'bluesky' ? Buffer.from(accountId, 'utf8').toString('base64url') : accountId}`;
}

/** The account id a channel config links for `provider`, if any. */
export function linkedAccount(providers: ChannelConfig['providers'] | ChannelInput['providers'] | undefined, provider: LinkedProvider): string | undefined {
  switch (provider) {
    case 'twitch':
      return providers?.twitch?.user_id;
    case 'youtube':
      return providers?.youtube?.channel_id;
    case 'bluesky':
      return providers?.bluesky?.did;
  }
}

/** A proven provider account to link: what `linkAccount` takes. */
export type LinkAccount =
  | { readonly provider: 'twitch'; readonly user_id: string; readonly login: string }
  | { readonly provider: 'youtube'; readonly channel_id: string }
  | { readonly provider: 'bluesky'; readonly did: string };

function providersOf(link: LinkAccount): ChannelInput['providers'] {
  switch (link.provider) {
    case 'twitch':
      return { twitch: { user_id: link.user_id, login: link.login.toLowerCase() } };
    case 'youtube':
      return { youtube: { channel_id: link.channel_id } };
    case 'bluesky':
      return { bluesky: { did: link.did } };
  }
}

/** A stored config's links as admin input (so a write that changes one provider keeps the others). */
function inputProviders(providers: ChannelConfig['providers']): ChannelInput['providers'] {
  return {
    ...(providers.twitch ? { twitch: { user_id: providers.twitch.user_id, login: providers.twitch.login } } : {}),
    ...(providers.youtube ? { youtube: { channel_id: providers.youtube.channel_id } } : {}),
    ...(providers.bluesky ? { bluesky: { did: providers.bluesky.did } } : {}),
  };
}

/** Compare-and-sets a channel write tries before answering 409. */
const WRITE_ATTEMPTS = 5;

/** The config `input` makes of `previous` (absent: a new channel), stamped `nowIso`. */
function configOf(channel: string, previous: ChannelConfig | undefined, input: ChannelInput, nowIso: string): ChannelConfig {
  const { twitch, youtube, bluesky } = input.providers;
  return {
    channel,
    title: input.title === undefined ? (previous?.title ?? null) : input.title,
    uploads: input.uploads ?? previous?.uploads ?? DEFAULT_UPLOAD_POLICY,
    vod: input.vod ?? previous?.vod ?? DEFAULT_VOD_POLICY,
    playback: input.playback === undefined ? (previous?.playback ?? null) : input.playback,
    origin_limits: input.origin_limits === undefined ? (previous?.origin_limits ?? null) : storedOriginLimits(input.origin_limits),
    providers: {
      twitch: twitch && {
        user_id: twitch.user_id,
        login: twitch.login,
        state: previous?.providers.twitch?.user_id === twitch.user_id ? previous.providers.twitch.state : 'active',
      },
      youtube: youtube && { channel_id: youtube.channel_id },
      bluesky: bluesky && { did: bluesky.did },
    },
    created_at: previous?.created_at ?? nowIso,
    updated_at: nowIso,
  };
}

/** The limits as stored: only those set, none at all as `null` (so `{}` and `null` both mean the server's). */
function storedOriginLimits(limits: ChannelOriginLimitsInput | null): ChannelConfig['origin_limits'] {
  const stored = {
    ...(limits?.max_bitrate_kbps !== undefined ? { max_bitrate_kbps: limits.max_bitrate_kbps } : {}),
    ...(limits?.max_short_side_px !== undefined ? { max_short_side_px: limits.max_short_side_px } : {}),
  };
  return Object.keys(stored).length > 0 ? stored : null;
}

export interface UpsertResult {
  readonly config: ChannelConfig;
  readonly created: boolean;
}

/**
 * Channels and their provider links, in two KV buckets: the config per channel, and the
 * reverse index from a provider account to the one channel it belongs to. The index is
 * written with KV `create`, so two channels racing for one account cannot both win.
 */
export class ChannelRegistry {
  private constructor(
    private readonly configs: TypedKv<ChannelConfig>,
    private readonly links: KvBucket,
    private readonly now: () => number,
  ) {}

  static async open(bus: Bus, now: () => number = Date.now, options: { readonly conflicts?: KvConflictCounter } = {}): Promise<ChannelRegistry> {
    const configs = typedKv(await bus.kv(BUCKETS.channelConfig), jsonCodec(channelConfigSchema), { conflicts: options.conflicts, maxAttempts: WRITE_ATTEMPTS });
    return new ChannelRegistry(configs, await bus.kv(BUCKETS.providerLinks), now);
  }

  async get(ref: ChannelRef): Promise<ChannelConfig | undefined> {
    return (await this.configs.get(formatChannelRef(ref)))?.value;
  }

  /**
   * The channel a provider account is linked to: a Twitch user id, a YouTube channel id
   * (`UC…`) or a Bluesky DID. An id of the wrong syntax finds nothing.
   */
  async findByAccount(provider: LinkedProvider, accountId: string): Promise<string | undefined> {
    if (!ACCOUNT_ID_CHECKS[provider](accountId)) return undefined;
    const entry = await this.links.get(linkKey(provider, accountId));
    return entry && decodeText(entry.value);
  }

  /**
   * Creates or updates a channel; a provider account already linked elsewhere is a 409 (and
   * the accounts claimed on the way are given back). `providers` is the whole set of links:
   * a provider left out is unlinked and its account freed.
   */
  async upsert(ref: ChannelRef, input: ChannelInput): Promise<UpsertResult> {
    return this.write(ref, () => input);
  }

  /**
   * Links one provider account to an existing channel (proven by OAuth or an app password),
   * keeping its other links and settings. An account linked to another channel is a 409; the
   * account the channel had for this provider before is freed. 404 when the channel does not exist.
   */
  async linkAccount(ref: ChannelRef, link: LinkAccount): Promise<ChannelConfig> {
    const { config } = await this.write(ref, (previous) => {
      if (!previous) throw new AppError('not_found', `no channel ${formatChannelRef(ref)}`);
      return { providers: { ...inputProviders(previous.providers), ...providersOf(link) } };
    });
    return config;
  }

  /** Unlinks a provider from a channel and frees its account; the config unchanged when nothing was linked. */
  async unlinkAccount(ref: ChannelRef, provider: LinkedProvider): Promise<ChannelConfig> {
    const { config } = await this.write(ref, (previous) => {
      if (!previous) throw new AppError('not_found', `no channel ${formatChannelRef(ref)}`);
      const providers = inputProviders(previous.providers);
      delete providers[provider];
      return { providers };
    });
    return config;
  }

  /**
   * One compare-and-set write; `inputFor` sees the current config on each attempt. The accounts
   * a new config links are claimed before it is written (a repeated claim of our own is a
   * no-op); those it no longer links are freed once it is.
   */
  private async write(ref: ChannelRef, inputFor: (previous: ChannelConfig | undefined) => ChannelInput): Promise<UpsertResult> {
    const channel = formatChannelRef(ref);
    const nowIso = new Date(this.now()).toISOString();
    let written: KvUpdateResult<ChannelConfig>;
    try {
      written = await this.configs.update(channel, async (previous) => {
        const input = inputFor(previous);
        await this.claimAll(channel, previous, input);
        return configOf(channel, previous, input, nowIso);
      });
    } catch (error) {
      if (error instanceof KvContentionError) throw new AppError('conflict', `channel ${channel} is being changed concurrently; retry`);
      throw error;
    }
    const { previous, value: config } = written;
    for (const provider of LINKED_PROVIDERS) {
      const released = linkedAccount(previous?.providers, provider);
      if (released !== undefined && released !== linkedAccount(config?.providers, provider)) await this.release(provider, released, channel);
    }
    return { config: config!, created: written.outcome === 'created' };
  }

  /** Claims the accounts `input` links that `previous` did not; on a refusal gives back those claimed here and throws. */
  private async claimAll(channel: string, previous: ChannelConfig | undefined, input: ChannelInput): Promise<void> {
    const claimed: Array<[LinkedProvider, string]> = [];
    try {
      for (const provider of LINKED_PROVIDERS) {
        const account = linkedAccount(input.providers, provider);
        if (account !== undefined && account !== linkedAccount(previous?.providers, provider)) {
          await this.claim(provider, account, channel);
          claimed.push([provider, account]);
        }
      }
    } catch (error) {
      for (const [provider, account] of claimed) await this.release(provider, account, channel);
      throw error;
    }
  }

  /** Every linked Twitch account with its channel and link state: what EventSub subscriptions should exist for. */
  async listTwitchLinks(): Promise<Array<TwitchLinkConfig & { channel: string }>> {
    const links: Array<TwitchLinkConfig & { channel: string }> = [];
    for (const key of await this.configs.bucket.keys()) {
      const config = (await this.configs.get(key))?.value;
      if (config?.providers.twitch) links.push({ ...config.providers.twitch, channel: config.channel });
    }
    return links.sort((a, b) => a.channel.localeCompare(b.channel));
  }

  /** Marks a provider link revoked (the provider withdrew our subscription). */
  async markRevoked(provider: 'twitch', accountId: string, reason: string): Promise<string | undefined> {
    const channel = await this.findByAccount(provider, accountId);
    if (!channel) return undefined;
    try {
      const result = await this.configs.update(channel, (config) => {
        const link = config?.providers.twitch;
        if (!config || !link || link.user_id !== accountId) return SKIP;
        const nowIso = new Date(this.now()).toISOString();
        return {
          ...config,
          providers: { ...config.providers, twitch: { ...link, state: 'revoked', revoked_reason: reason, revoked_at: nowIso } },
          updated_at: nowIso,
        };
      });
      return result.outcome === 'updated' ? channel : undefined;
    } catch (error) {
      // Still contended after every attempt: the channel is named all the same (as before the helper).
      if (error instanceof KvContentionError) return channel;
      throw error;
    }
  }

  private async claim(provider: LinkedProvider, accountId: string, channel: string): Promise<void> {
    const key = linkKey(provider, accountId);
    try {
      await this.links.create(key, new TextEncoder().encode(channel));
    } catch (error) {
      if (!(error instanceof KvConflictError)) throw error;
      const owner = await this.links.get(key);
      if (owner && decodeText(owner.value) !== channel) {
        throw new AppError('conflict', `${provider} account ${accountId} is already linked to another channel`);
      }
    }
  }

  private async release(provider: LinkedProvider, accountId: string, channel: string): Promise<void> {
    const key = linkKey(provider, accountId);
    const owner = await this.links.get(key);
    if (owner && decodeText(owner.value) === channel) await this.links.delete(key);
  }
}
