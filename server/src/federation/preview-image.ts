import type { LiveMetadata } from '@live-upload/schema';

/**
 * A preview image of a live broadcast, from the provider carrying it: YouTube's live thumbnail
 * of the video (`i.ytimg.com/vi/{id}/hqdefault_live.jpg`) or Twitch's live preview of the login
 * (`static-cdn.jtvnw.net/previews-ttv/live_user_{login}-640x360.jpg`), both public URLs the
 * providers serve for any live broadcast. Undefined for a broadcast only on our own origin (it
 * has no still frame yet): the Note then goes without an image.
 */
export function livePreviewUrl(record: LiveMetadata): string | undefined {
  const youtube = record.providers.youtube;
  if (youtube?.id && /^[A-Za-z0-9_-]{6,20}$/.test(youtube.id)) return `https://i.ytimg.com/vi/${youtube.id}/hqdefault_live.jpg`;
  const twitch = record.providers.twitch;
  if (twitch?.login && /^[A-Za-z0-9_]{1,25}$/.test(twitch.login)) return `https://static-cdn.jtvnw.net/previews-ttv/live_user_${twitch.login.toLowerCase()}-640x360.jpg`;
  return undefined;
}
