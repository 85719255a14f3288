import { CHANNEL_PART_PATTERN, type ChannelRef } from '@live-upload/schema';
import { AppError } from '../../errors/index.js';

/** Validates `:publisher/:slug` route params; anything else (traversal, case, encoding tricks) is a 400. */
export function channelFromParams(params: Record<string, string | undefined>): ChannelRef {
  const { publisher, slug } = params;
  if (publisher === undefined || slug === undefined || !CHANNEL_PART_PATTERN.test(publisher) || !CHANNEL_PART_PATTERN.test(slug)) {
    throw new AppError('invalid_channel', 'publisher and slug must match ^[a-z0-9][a-z0-9-]{0,38}$');
  }
  return { publisher, slug };
}
