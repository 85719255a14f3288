/** Channel references, free of zod so the browser element can share them. */
/** A publisher or slug: lowercase letters, digits and dashes, 1-39 chars, not starting with a dash. */
export const CHANNEL_PART_PATTERN = /^[a-z0-9][a-z0-9-]{0,38}$/;

export interface ChannelRef {
  readonly publisher: string;
  readonly slug: string;
}

/** Parses `publisher/slug`; undefined when either part is not a valid channel part. */
export function parseChannelRef(value: string): ChannelRef | undefined {
  const parts = value.split('/');
  if (parts.length !== 2) return undefined;
  const [publisher, slug] = parts as [string, string];
  if (!CHANNEL_PART_PATTERN.test(publisher) || !CHANNEL_PART_PATTERN.test(slug)) return undefined;
  return { publisher, slug };
}

export function formatChannelRef(ref: ChannelRef): string {
  return `${ref.publisher}/${ref.slug}`;
}
