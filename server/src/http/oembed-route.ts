import Router from '@koa/router';
import { OEMBED_CACHE_AGE_SECONDS, channelOEmbed, formatChannelRef, parseChannelPageUrl, type OEmbedBounds } from '@live-upload/schema';
import { z } from 'zod';
import { AppError } from '../errors/index.js';
import type { AppState } from './app-state.js';
import { readChannelPage, type LandingPageDeps } from './landing-page-route.js';

/** The landing page's own reads; only landing pages under `publicUrl` are embedded. */
export type OEmbedDeps = LandingPageDeps;

const URL_MAX_LENGTH = 2048;

const positiveInteger = (name: string) =>
  z
    .string({ error: `${name} must be given once` })
    .regex(/^[1-9][0-9]{0,9}$/, `${name} must be a positive integer`)
    .transform(Number)
    .optional();

/** The query as the oEmbed spec (§2.2) defines it; a repeated parameter is an array, so refused. */
const oEmbedQuerySchema = z.object({
  url: z
    .string({ error: 'url is required, once' })
    .min(1, 'url is required')
    .max(URL_MAX_LENGTH, `url must be at most ${URL_MAX_LENGTH} characters`)
    .refine((value) => URL.canParse(value), 'url must be an absolute URL'),
  format: z.string({ error: 'format must be given once' }).optional(),
  maxwidth: positiveInteger('maxwidth'),
  maxheight: positiveInteger('maxheight'),
});

function parseQuery(query: unknown): z.infer<typeof oEmbedQuerySchema> {
  const parsed = oEmbedQuerySchema.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new AppError('bad_request', issue ? `${issue.path.join('.') || 'query'}: ${issue.message}` : 'bad query');
}

/**
 * `GET /oembed?url=&format=json&maxwidth=&maxheight=` (https://oembed.com/): the embed of one
 * of OUR landing pages (same origin as the public URL, path `/c/{publisher}/{slug}` of an existing
 * channel); any other URL is a 404, as the spec says for URLs without a resource. JSON only:
 * `format=xml` is 501 (spec §2.3.5), any other format 400. Readable from any origin.
 */
export function oEmbedRoute(deps: OEmbedDeps): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/oembed', async (ctx) => {
    const query = parseQuery(ctx.query);
    if (query.format === 'xml') throw new AppError('not_implemented', 'format: only json is served');
    if (query.format !== undefined && query.format !== 'json') throw new AppError('bad_request', 'format: must be json');
    const ref = parseChannelPageUrl(deps.publicUrl(), query.url);
    if (!ref) throw new AppError('not_found', 'url: not a landing page of this server');
    const found = await readChannelPage(deps, ref);
    if (!found) throw new AppError('not_found', `url: no channel ${formatChannelRef(ref)}`);
    const bounds: OEmbedBounds = {
      ...(query.maxwidth !== undefined ? { maxWidth: query.maxwidth } : {}),
      ...(query.maxheight !== undefined ? { maxHeight: query.maxheight } : {}),
    };
    ctx.set('Cache-Control', `public, max-age=${OEMBED_CACHE_AGE_SECONDS}`);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = channelOEmbed(found.page, bounds);
  });
  return router;
}
