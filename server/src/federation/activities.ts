import type { ChannelRef, LiveMetadata } from '@live-upload/schema';
import { actorHandle, actorUrls } from './actor-urls.js';

/** The media type of ActivityPub documents (Mastodon sends and accepts it). */
export const ACTIVITY_JSON = 'application/activity+json';
const AS_CONTEXT = 'https://www.w3.org/ns/activitystreams';
const SECURITY_CONTEXT = 'https://w3id.org/security/v1';
const PUBLIC = 'https://www.w3.org/ns/activitystreams#Public';

/** A JSON-LD object we send or serve. */
export type ActivityObject = Record<string, unknown>;

/** The WebFinger answer (RFC 7033) for `acct:{publisher}.{slug}@{host}`. */
export function webfingerDocument(base: string, ref: ChannelRef): ActivityObject {
  const urls = actorUrls(base, ref);
  return {
    subject: `acct:${actorHandle(ref)}@${new URL(base).host}`,
    aliases: [urls.id, urls.landingPage],
    links: [
      { rel: 'self', type: ACTIVITY_JSON, href: urls.id },
      { rel: 'http://webfinger.net/rel/profile-page', type: 'text/html', href: urls.landingPage },
    ],
  };
}

/** The channel's actor (a `Service`, as a bot account), with its RSA public key for HTTP Signatures. */
export function actorDocument(base: string, ref: ChannelRef, publicKeyPem: string, name: string | undefined): ActivityObject {
  const urls = actorUrls(base, ref);
  return {
    '@context': [AS_CONTEXT, SECURITY_CONTEXT],
    id: urls.id,
    type: 'Service',
    preferredUsername: actorHandle(ref),
    name: name ?? `${ref.publisher}/${ref.slug}`,
    summary: `Live broadcasts of ${ref.publisher}/${ref.slug}`,
    url: urls.landingPage,
    inbox: urls.inbox,
    outbox: urls.outbox,
    followers: urls.followers,
    manuallyApprovesFollowers: false,
    discoverable: true,
    publicKey: { id: urls.keyId, owner: urls.id, publicKeyPem },
  };
}

/** An `OrderedCollection` with its items inline (small: the followers count, the last activities). */
export function orderedCollection(id: string, items: readonly unknown[], totalItems = items.length): ActivityObject {
  return { '@context': AS_CONTEXT, id, type: 'OrderedCollection', totalItems, orderedItems: items };
}

/** `Accept` of a follow: the remote server marks the follow as done when it gets this. */
export function acceptActivity(base: string, ref: ChannelRef, follow: ActivityObject, followId: string): ActivityObject {
  const urls = actorUrls(base, ref);
  return { '@context': AS_CONTEXT, id: `${urls.id}/accepts/${encodeURIComponent(followId)}`, type: 'Accept', actor: urls.id, object: follow };
}

/** The id of the `Note` of one broadcast: stable, from its canonical id. */
export function noteId(base: string, ref: ChannelRef, canonicalId: string): string {
  return `${actorUrls(base, ref).id}/notes/${encodeURIComponent(canonicalId)}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The `Note` of a live broadcast: its title, a link to the landing page, the canonical id (in
 * the note's id and as a `PropertyValue`), a preview image when there is one, its tags.
 */
export function liveNote(base: string, record: LiveMetadata & { canonical_id: string }, ref: ChannelRef, previewUrl: string | undefined): ActivityObject {
  const urls = actorUrls(base, ref);
  const title = record.title ?? `${ref.publisher}/${ref.slug} is live`;
  return {
    id: noteId(base, ref, record.canonical_id),
    type: 'Note',
    attributedTo: urls.id,
    to: [PUBLIC],
    cc: [urls.followers],
    published: record.started_at ?? record.updated_at,
    url: urls.landingPage,
    summary: null,
    content: `<p>🔴 Live: ${escapeHtml(title)}</p><p><a href="${escapeHtml(urls.landingPage)}">${escapeHtml(urls.landingPage)}</a></p>`,
    attachment: [
      { type: 'PropertyValue', name: 'canonical_id', value: record.canonical_id },
      ...(previewUrl ? [{ type: 'Image', mediaType: 'image/jpeg', url: previewUrl, name: title }] : []),
    ],
    tag: record.tags.map((tag) => ({ type: 'Hashtag', name: `#${tag}` })),
  };
}

/** `Create` of the broadcast's `Note` (see `liveNote`) when it goes live. */
export function goLiveActivity(base: string, record: LiveMetadata & { canonical_id: string }, ref: ChannelRef, previewUrl: string | undefined): ActivityObject {
  const urls = actorUrls(base, ref);
  const note = liveNote(base, record, ref, previewUrl);
  return { '@context': AS_CONTEXT, id: `${String(note.id)}/activity`, type: 'Create', actor: urls.id, published: note.published, to: [PUBLIC], cc: [urls.followers], object: note };
}

/**
 * True when followers would see a different post: the text (title), the attachments (preview
 * image, canonical id) or the tags changed. Dates and the viewer count are not in the note.
 */
export function noteDiffers(before: ActivityObject, after: ActivityObject): boolean {
  return ['content', 'attachment', 'tag'].some((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
}

/**
 * `Update` of a live broadcast's `Note` when its title or preview changed mid-broadcast: the
 * whole note again (as Mastodon expects), its first `published` kept and `updated` set. The
 * activity's id carries the status record's per-channel `seq`, so each change that reached
 * `live.status` is one Update, and a redelivered status makes the same delivery ids again.
 * Two Updates may arrive out of order (retries, a status decided twice after a lost
 * compare-and-set); `updated` is the status record's time, and Mastodon ignores an Update older
 * than the edit it already has, so followers end on the newest title.
 */
export function noteUpdateActivity(base: string, ref: ChannelRef, note: ActivityObject, updatedAt: string, seq: number): ActivityObject {
  const urls = actorUrls(base, ref);
  const updated = { ...note, updated: updatedAt };
  return { '@context': AS_CONTEXT, id: `${String(note.id)}/updates/${seq}`, type: 'Update', actor: urls.id, published: updatedAt, to: [PUBLIC], cc: [urls.followers], object: updated };
}

/**
 * `Reject` of a follower's `Follow`, sent when the admin removes the follower: their server
 * then stops showing the channel as followed (Mastodon's "remove from followers" sends the same).
 */
export function rejectFollowActivity(base: string, ref: ChannelRef, follower: string, followId: string | null): ActivityObject {
  const urls = actorUrls(base, ref);
  const follow = { ...(followId ? { id: followId } : {}), type: 'Follow', actor: follower, object: urls.id };
  return { '@context': AS_CONTEXT, id: `${urls.id}/rejects/${encodeURIComponent(followId ?? follower)}`, type: 'Reject', actor: urls.id, object: follow };
}

/** `Delete` of the broadcast's note when it ends (a `Tombstone`, as Mastodon expects). */
export function endedActivity(base: string, ref: ChannelRef, canonicalId: string): ActivityObject {
  const urls = actorUrls(base, ref);
  const id = noteId(base, ref, canonicalId);
  return { '@context': AS_CONTEXT, id: `${id}/delete`, type: 'Delete', actor: urls.id, to: [PUBLIC], cc: [urls.followers], object: { id, type: 'Tombstone' } };
}
