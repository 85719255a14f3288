import { isBlueskyDid } from '@live-upload/schema';
import { z } from 'zod';

/** The collections the provider reads from Jetstream, one table. */
export const BLUESKY_COLLECTIONS = {
  status: 'app.bsky.actor.status',
  post: 'app.bsky.feed.post',
} as const;
export const WANTED_COLLECTIONS: readonly string[] = Object.values(BLUESKY_COLLECTIONS);

/** `app.bsky.actor.status#live`: the account is offering live content. */
export const BLUESKY_LIVE_STATUS = 'app.bsky.actor.status#live';
/** The status record's only key (`literal:self` in the lexicon). */
export const BLUESKY_STATUS_RKEY = 'self';

/** NSID (https://atproto.com/specs/nsid) and record key (https://atproto.com/specs/record-key) syntax. */
const NSID_PATTERN = /^[a-zA-Z]([a-zA-Z0-9-]{0,62})?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})?)+$/;
const RKEY_PATTERN = /^[a-zA-Z0-9._:~-]{1,512}$/;

const didSchema = z.string().max(261).refine(isBlueskyDid, 'not a did:plc or did:web DID');
/** Unix microseconds; the range `Date` can represent. */
const timeUsSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const jetstreamCommitSchema = z.object({
  rev: z.string().min(1).max(64),
  operation: z.enum(['create', 'update', 'delete']),
  collection: z.string().max(317).regex(NSID_PATTERN),
  rkey: z.string().regex(RKEY_PATTERN).refine((rkey) => rkey !== '.' && rkey !== '..', 'not a record key'),
  record: z.record(z.string(), z.unknown()).optional(),
  cid: z.string().max(128).optional(),
});

export const jetstreamCommitEventSchema = z.object({
  did: didSchema,
  time_us: timeUsSchema,
  kind: z.literal('commit'),
  commit: jetstreamCommitSchema,
});
export type JetstreamCommitEvent = z.infer<typeof jetstreamCommitEventSchema>;

/**
 * A Jetstream frame (https://github.com/bluesky-social/jetstream): a repo commit, or an
 * identity / account change (read for their DID and time only).
 */
export const jetstreamEventSchema = z.discriminatedUnion('kind', [
  jetstreamCommitEventSchema,
  z.object({ did: didSchema, time_us: timeUsSchema, kind: z.literal('identity') }),
  z.object({ did: didSchema, time_us: timeUsSchema, kind: z.literal('account') }),
]);
export type JetstreamEvent = z.infer<typeof jetstreamEventSchema>;

/** `app.bsky.embed.external` (https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/external.json). */
export const externalEmbedSchema = z.object({
  $type: z.literal('app.bsky.embed.external'),
  external: z.object({
    uri: z.string().max(8192),
    title: z.string().max(8192),
    description: z.string().max(8192),
  }),
});

/** `app.bsky.actor.status`, as far as the provider reads it. */
export const statusRecordSchema = z.object({
  status: z.string().max(512),
  embed: z.unknown().optional(),
  durationMinutes: z.number().int().min(1).optional(),
  createdAt: z.string().max(64),
});

const linkFacetSchema = z.object({ $type: z.literal('app.bsky.richtext.facet#link'), uri: z.string().max(8192) });

/** `app.bsky.feed.post`, as far as the provider reads it: text, link facets, external embed. */
export const postRecordSchema = z.object({
  text: z.string().max(30_000),
  facets: z.array(z.object({ features: z.array(z.unknown()).max(64) })).max(256).optional(),
  embed: z.unknown().optional(),
  createdAt: z.string().max(64),
});

/** The external embed of a record, when it has a valid one. */
export function externalEmbedOf(embed: unknown): z.infer<typeof externalEmbedSchema>['external'] | undefined {
  const parsed = externalEmbedSchema.safeParse(embed);
  return parsed.success ? parsed.data.external : undefined;
}

/** Link URIs of a post's facets. */
export function facetLinksOf(facets: z.infer<typeof postRecordSchema>['facets']): string[] {
  const links: string[] = [];
  for (const facet of facets ?? []) {
    for (const feature of facet.features) {
      const parsed = linkFacetSchema.safeParse(feature);
      if (parsed.success) links.push(parsed.data.uri);
    }
  }
  return links;
}

/** `at://{did}/{collection}/{rkey}`: the record's AT URI. */
export function recordUri(did: string, collection: string, rkey: string): string {
  return `at://${did}/${collection}/${rkey}`;
}
