import { parseChannelRef } from '@live-upload/schema';
import type { ChannelRegistry } from '../channels/index.js';
import { AppError } from '../errors/index.js';

/**
 * The channel `{publisher}/{slug}` when it exists and keeps replays; 400, 404, or 409 when its
 * vod policy is `off` (a recording would become a replay nobody may watch). Its viewer upload
 * policy does not matter: the publisher uploads to their own channel.
 */
export async function openReplayChannel(channels: ChannelRegistry, name: string): Promise<string> {
  const ref = parseChannelRef(name);
  if (!ref) throw new AppError('invalid_channel', 'channel: must be publisher/slug');
  const channel = await channels.get(ref);
  if (!channel) throw new AppError('not_found', `channel: no channel ${name}`);
  if (channel.vod === 'off') throw new AppError('conflict', `channel: ${name} keeps no replays (its vod policy is off), so a broadcast recording has nowhere to go`);
  return channel.channel;
}
