import type { ChannelRef } from '@live-upload/schema';
import { formatChannelRef, isBlueskyDid, isYoutubeChannelId } from '@live-upload/schema';
import { BUCKETS, KvConflictError, decodeJson, decodeText, encodeJson, type Bus, type KvBucket } from '../bus/index.js';
import { AppError } from '../errors/index.js';
import { DEFAULT_UPLOAD_POLICY, channelConfigSchema, type ChannelConfig, type ChannelInput, type TwitchLinkConfig } from './channel-config.js';

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
    private readonly configs: KvBucket,
    private readonly links: KvBucket,
    private readonly now: () => number,
  ) {}

  static async open(bus: Bus, now: () => number = Date.now): Promise<ChannelRegistry> {
    return new ChannelRegistry(await bus.kv(BUCKETS.channelConfig), await bus.kv(BUCKETS.providerLinks), now);
  }

  async get(ref: ChannelRef): Promise<ChannelConfig | undefined> {
    const entry = await this.configs.get(formatChannelRef(ref));
    return entry && decodeJson(entry.value, channelConfigSchema);
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

  /** One compare-and-set write; `inputFor` sees the current config on each attempt. */
  private async write(ref: ChannelRef, inputFor: (previous: ChannelConfig | undefined) => ChannelInput): Promise<UpsertResult> {
    const channel = formatChannelRef(ref);
    const nowIso = new Date(this.now()).toISOString();
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.configs.get(channel);
      const previous = existing && decodeJson(existing.value, channelConfigSchema);
      const input = inputFor(previous);
      const { twitch, youtube, bluesky } = input.providers;

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
      const config: ChannelConfig = {
        channel,
        title: input.title === undefined ? (previous?.title ?? null) : input.title,
        uploads: input.uploads ?? previous?.uploads ?? DEFAULT_UPLOAD_POLICY,
        playback: input.playback === undefined ? (previous?.playback ?? null) : input.playback,
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
      try {
        if (existing) await this.configs.update(channel, encodeJson(config), existing.revision);
        else await this.configs.create(channel, encodeJson(config));
      } catch (error) {
        if (error instanceof KvConflictError) continue;
        throw error;
      }
      for (const provider of LINKED_PROVIDERS) {
        const released = linkedAccount(previous?.providers, provider);
        if (released !== undefined && released !== linkedAccount(input.providers, provider)) await this.release(provider, released, channel);
      }
      return { config, created: !existing };
    }
    throw new AppError('conflict', `channel ${channel} is being changed concurrently; retry`);
  }

  /** Every linked Twitch account with its channel and link state: what EventSub subscriptions should exist for. */
  async listTwitchLinks(): Promise<Array<TwitchLinkConfig & { channel: string }>> {
    const links: Array<TwitchLinkConfig & { channel: string }> = [];
    for (const key of await this.configs.keys()) {
      const entry = await this.configs.get(key);
      const config = entry && decodeJson(entry.value, channelConfigSchema);
      if (config?.providers.twitch) links.push({ ...config.providers.twitch, channel: config.channel });
    }
    return links.sort((a, b) => a.channel.localeCompare(b.channel));
  }

  /** Marks a provider link revoked (the provider withdrew our subscription). */
  async markRevoked(provider: 'twitch', accountId: string, reason: string): Promise<string | undefined> {
    const channel = await this.findByAccount(provider, accountId);
    if (!channel) return undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.configs.get(channel);
      if (!entry) return undefined;
      const config = decodeJson(entry.value, channelConfigSchema);
      const link = config.providers.twitch;
      if (!link || link.user_id !== accountId) return undefined;
      const nowIso = new Date(this.now()).toISOString();
      const updated: ChannelConfig = {
        ...config,
        providers: { ...config.providers, twitch: { ...link, state: 'revoked', revoked_reason: reason, revoked_at: nowIso } },
        updated_at: nowIso,
      };
      try {
        await this.configs.update(channel, encodeJson(updated), entry.revision);
        return channel;
      } catch (error) {
        if (!(error instanceof KvConflictError)) throw error;
      }
    }
    return channel;
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
