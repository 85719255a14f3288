import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { AUDIENCE_PAGE_ASSET_PREFIX, audiencePageHtml, uPlotAssetPath } from '../audience-page/audience-page-html.js';
import { AppError } from '../errors/index.js';
import type { AppState } from './app-state.js';
import { channelFromParams } from './middleware/channel-param.js';

const clientDir = fileURLToPath(new URL('../audience-page/client/', import.meta.url));

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The page's own files: a fixed table, so no request path ever becomes a file path. Not built: plain modules. */
const PAGE_FILES: Readonly<Record<string, string>> = {
  'audience-page.js': JS,
  'audience-report-view.js': JS,
  'audience-table.js': JS,
  'audience-format.js': JS,
  'audience-chart.js': JS,
  'audience-page.css': CSS,
};

/**
 * The page takes a token and hosts no element: its own modules and stylesheets and uPlot's, all
 * from this origin, the API of this origin; nothing inline, never framed, no forms posted anywhere.
 * uPlot styles its canvas and legend through the CSSOM, which no `style-src` governs.
 */
export const AUDIENCE_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Where an installed package's file lives on disk, or undefined when it is not installed. */
function resolveInstalled(specifier: string): string | undefined {
  try {
    return fileURLToPath(import.meta.resolve(specifier));
  } catch {
    return undefined;
  }
}

/** The installed uPlot: its version (for the cache-busting path) and where its two browser files are. */
async function installedUPlot(): Promise<{ version: string; files: Record<string, { path: string; type: string }> } | undefined> {
  const manifest = resolveInstalled('uplot/package.json');
  const esm = resolveInstalled('uplot/dist/uPlot.esm.js');
  const css = resolveInstalled('uplot/dist/uPlot.min.css');
  if (!manifest || !esm || !css) return undefined;
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  return {
    version,
    files: {
      [uPlotAssetPath(version, 'uPlot.esm.js')]: { path: esm, type: JS },
      [uPlotAssetPath(version, 'uPlot.min.css')]: { path: css, type: CSS },
    },
  };
}

/**
 * The publisher's audience page (issue 27):
 * - `GET /c/:publisher/:slug/broadcasts/:canonical_id/audience`: the page, next to the channel's
 *   landing page `/c/:publisher/:slug`. It is the same for everyone; the data comes from
 *   `GET /api/v1/channels/:publisher/:slug/broadcasts/:canonical_id/audience` with the token the
 *   publisher types, so the page itself reveals nothing and any refusal shows on it.
 * - `GET /audience-page/{file}`: its modules and stylesheet (revalidated: their names carry no
 *   version), and uPlot from its installed package under `/audience-page/uplot@{version}/`,
 *   cached for a year (never a CDN).
 */
export function audiencePageRoute(): Router<AppState> {
  const router = new Router<AppState>();
  const uPlot = installedUPlot();

  router.get('/c/:publisher/:slug/broadcasts/:canonical_id/audience', async (ctx) => {
    channelFromParams(ctx.params);
    const installed = await uPlot;
    if (!installed) throw new AppError('not_found', 'the audience page needs the uplot package; run npm install');
    ctx.type = 'text/html; charset=utf-8';
    ctx.set({
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': AUDIENCE_PAGE_CSP,
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
    });
    ctx.body = audiencePageHtml(installed.version);
  });

  router.get(new RegExp(`^${AUDIENCE_PAGE_ASSET_PREFIX}(.+)$`), async (ctx) => {
    const name = ctx.path.slice(AUDIENCE_PAGE_ASSET_PREFIX.length);
    const vendored = (await uPlot)?.files[ctx.path];
    const ownType = Object.hasOwn(PAGE_FILES, name) ? PAGE_FILES[name] : undefined;
    if (!vendored && !ownType) throw new AppError('not_found', `no audience page file ${name.slice(0, 100)}`);
    ctx.type = vendored?.type ?? ownType ?? JS;
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', vendored ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.body = await readFile(vendored?.path ?? clientDir + name);
  });
  return router;
}
