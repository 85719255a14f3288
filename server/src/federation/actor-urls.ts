import type { ChannelRef } from '@live-upload/schema';
import { CHANNEL_PART_PATTERN } from '@live-upload/schema';

/**
 * A channel's ActivityPub handle is `{publisher}.{slug}`: a slug is unique only within its
 * publisher, and neither part may hold a dot, so the handle is unique and reversible
 * (`@acme.news@host` is the channel `acme/news`).
 */
export function actorHandle(ref: ChannelRef): string {
  return `${ref.publisher}.${ref.slug}`;
}

/** The channel a handle names; undefined for anything that is not `{publisher}.{slug}`. */
export function parseActorHandle(handle: string): ChannelRef | undefined {
  const parts = handle.split('.');
  if (parts.length !== 2) return undefined;
  const [publisher, slug] = parts as [string, string];
  if (!CHANNEL_PART_PATTERN.test(publisher) || !CHANNEL_PART_PATTERN.test(slug)) return undefined;
  return { publisher, slug };
}

/** Every URL of one channel's actor, from the public base URL (no trailing slash). */
export interface ActorUrls {
  readonly id: string;
  readonly keyId: string;
  readonly inbox: string;
  readonly outbox: string;
  readonly followers: string;
  readonly landingPage: string;
}

export function actorUrls(base: string, ref: ChannelRef): ActorUrls {
  const id = `${base}/ap/actors/${actorHandle(ref)}`;
  return {
    id,
    keyId: `${id}#main-key`,
    inbox: `${id}/inbox`,
    outbox: `${id}/outbox`,
    followers: `${id}/followers`,
    landingPage: `${base}/c/${ref.publisher}/${ref.slug}`,
  };
}
