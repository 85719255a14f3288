import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { AppError } from '../errors/index.js';
import type { AppState } from './app-state.js';

const elementDist = fileURLToPath(new URL('../../../element/dist/', import.meta.url));

/** The bundles a page loads with `<script type="module" src="{endpoint}/element/...">`: a fixed table, no path from the request reaches the disk. */
const ELEMENT_ASSETS: Record<string, { file: string; type: string }> = {
  '/element/live-badge.js': { file: 'live-badge.js', type: 'text/javascript; charset=utf-8' },
  '/element/live-badge.js.map': { file: 'live-badge.js.map', type: 'application/json' },
};

/**
 * Serves the built element to any page, on any origin (module scripts need CORS). Built by
 * `npm run build` (which `npm start` runs); a missing build is a clear 404.
 */
export function elementAssetsRoute(): Router<AppState> {
  const router = new Router<AppState>();
  for (const [path, { file, type }] of Object.entries(ELEMENT_ASSETS)) {
    router.get(path, async (ctx) => {
      let body: Buffer;
      try {
        body = await readFile(elementDist + file);
      } catch {
        throw new AppError('not_found', `${path} is not built; run npm run build`);
      }
      ctx.type = type;
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.body = body;
    });
  }
  return router;
}
