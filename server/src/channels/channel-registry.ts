import type { ChannelRef } from '@live-upload/schema';
import { formatChannelRef } from '@live-upload/schema';
import { BUCKETS, KvConflictError, decodeJson, decodeText, encodeJson, type Bus, type KvBucket } from '../bus/index.js';
import { AppError } from '../errors/index.js';
import { DEFAULT_UPLOAD_POLICY, channelConfigSchema, type ChannelConfig, type ChannelInput } from './channel-config.js';

/** Key of a provider account in the `provider-links` bucket. */
function linkKey(provider: string, accountId: string): string {
  return `${provider}.${accountId}`;
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

  /** The channel a provider account is linked to. */
  async findByAccount(provider: 'twitch', accountId: string): Promise<string | undefined> {
    if (!/^[0-9]{1,20}$/.test(accountId)) return undefined;
    const entry = await this.links.get(linkKey(provider, accountId));
    return entry && decodeText(entry.value);
  }

  /** Creates or updates a channel; a provider account already linked elsewhere is a 409. */
  async upsert(ref: ChannelRef, input: ChannelInput): Promise<UpsertResult> {
    const channel = formatChannelRef(ref);
    const nowIso = new Date(this.now()).toISOString();
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.configs.get(channel);
      const previous = existing && decodeJson(existing.value, channelConfigSchema);
      const twitch = input.providers.twitch;

      if (twitch && previous?.providers.twitch?.user_id !== twitch.user_id) {
        await this.claim('twitch', twitch.user_id, channel);
      }
      const config: ChannelConfig = {
        channel,
        title: input.title === undefined ? (previous?.title ?? null) : input.title,
        uploads: input.uploads ?? previous?.uploads ?? DEFAULT_UPLOAD_POLICY,
        providers: {
          twitch: twitch && {
            user_id: twitch.user_id,
            login: twitch.login,
            state: previous?.providers.twitch?.user_id === twitch.user_id ? previous.providers.twitch.state : 'active',
          },
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
      const released = previous?.providers.twitch;
      if (released && released.user_id !== twitch?.user_id) await this.release('twitch', released.user_id, channel);
      return { config, created: !existing };
    }
    throw new AppError('conflict', `channel ${channel} is being changed concurrently; retry`);
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

  private async claim(provider: 'twitch', accountId: string, channel: string): Promise<void> {
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

  private async release(provider: 'twitch', accountId: string, channel: string): Promise<void> {
    const key = linkKey(provider, accountId);
    const owner = await this.links.get(key);
    if (owner && decodeText(owner.value) === channel) await this.links.delete(key);
  }
}
