import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { AppError } from '../errors/index.js';
import type { AppState } from './app-state.js';
import { sendFile } from './send-file.js';

const elementDist = fileURLToPath(new URL('../../../element/dist/', import.meta.url));

const JS = 'text/javascript; charset=utf-8';
const JSON_TYPE = 'application/json';

/** Files of `element/dist` (`npm run build`) served under `/element/`; the entries keep their names, so a short cache. */
const BUILT_FILES: Readonly<Record<string, string>> = {
  'live-badge.js': JS,
  'live-badge.js.map': JSON_TYPE,
  'live-upload.js': JS,
  'live-upload.js.map': JSON_TYPE,
  'ffmpeg/ffmpeg-worker.js': JS,
  'custom-elements.json': JSON_TYPE,
};

/** The lazy chunks of `live-upload.js`: content-hashed names, listed per build in `assets.json`. */
const CHUNK_NAME = /^chunks\/[A-Za-z0-9_-]{1,80}\.js(\.map)?$/;

/** FFmpeg.wasm's cores, from the installed packages (never a CDN): `[package export, content type]`. */
const FFMPEG_CORE_FILES: Readonly<Record<string, readonly [string, string]>> = {
  'ffmpeg/core/ffmpeg-core.js': ['@ffmpeg/core', JS],
  'ffmpeg/core/ffmpeg-core.wasm': ['@ffmpeg/core/wasm', 'application/wasm'],
  'ffmpeg/core-mt/ffmpeg-core.js': ['@ffmpeg/core-mt', JS],
  'ffmpeg/core-mt/ffmpeg-core.wasm': ['@ffmpeg/core-mt/wasm', 'application/wasm'],
  'ffmpeg/core-mt/ffmpeg-core.worker.js': ['@ffmpeg/core-mt/worker', JS],
};

/** Where an installed package export lives on disk, or undefined when it is not installed. */
function resolveExport(specifier: string): string | undefined {
  try {
    return fileURLToPath(import.meta.resolve(specifier));
  } catch {
    return undefined;
  }
}

/** The names `assets.json` lists that look like chunks, re-read when the build rewrites it. */
function chunkList(): () => Promise<ReadonlySet<string>> {
  let cached: { mtimeMs: number; names: ReadonlySet<string> } | undefined;
  return async () => {
    const path = `${elementDist}assets.json`;
    const mtimeMs = await stat(path).then(
      (stats) => stats.mtimeMs,
      () => -1,
    );
    if (mtimeMs < 0) return new Set();
    if (cached?.mtimeMs !== mtimeMs) {
      let files: unknown;
      try {
        files = (JSON.parse(await readFile(path, 'utf8')) as { files?: unknown }).files;
      } catch {
        files = [];
      }
      const names = Array.isArray(files) ? files.filter((name): name is string => typeof name === 'string' && CHUNK_NAME.test(name)) : [];
      cached = { mtimeMs, names: new Set(names) };
    }
    return cached.names;
  };
}

/** Cross-origin pages load these as module scripts, workers and wasm, also from cross-origin-isolated pages (COEP). */
const OPEN_HEADERS = { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin', 'X-Content-Type-Options': 'nosniff' } as const;

/** The scripts a worker starts from: FFmpeg's class worker and the multi-thread core's pthread worker. */
export const FFMPEG_WORKER_SCRIPTS: readonly string[] = ['ffmpeg/ffmpeg-worker.js', 'ffmpeg/core-mt/ffmpeg-core.worker.js'];

/**
 * What a worker started from one of `FFMPEG_WORKER_SCRIPTS` runs under (a worker from a URL gets
 * the policy and embedder policy of its own response, not its page's):
 * - `Cross-Origin-Embedder-Policy: require-corp`: a cross-origin-isolated page (the demo) may
 *   start only a worker that is isolated too, and the multi-thread core needs SharedArrayBuffer;
 * - a CSP of exactly what FFmpeg.wasm does there: `import()` its core from the same place,
 *   compile the wasm (`'wasm-unsafe-eval'`), `fetch` the wasm, start its pthread workers.
 */
export const FFMPEG_WORKER_HEADERS = {
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Content-Security-Policy': "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; worker-src 'self'",
} as const;

/**
 * Serves the built element and FFmpeg.wasm to any page, on any origin: `GET /element/{name}`
 * from a fixed table (the entry bundles, the FFmpeg worker, the manifest, the cores from their
 * installed packages) plus the hashed chunks the last build listed in `assets.json`, which are
 * cached for a year. No path from the request reaches the disk; anything else is a 404. Built
 * by `npm run build` (which `npm start` runs); a missing build is a clear 404.
 */
export function elementAssetsRoute(): Router<AppState> {
  const router = new Router<AppState>();
  const chunks = chunkList();
  router.get(/^\/element\/(.+)$/, async (ctx) => {
    const name = ctx.path.slice('/element/'.length);
    const builtType = Object.hasOwn(BUILT_FILES, name) ? BUILT_FILES[name] : undefined;
    const core = Object.hasOwn(FFMPEG_CORE_FILES, name) ? FFMPEG_CORE_FILES[name] : undefined;
    if (core) {
      const [specifier, type] = core;
      const file = resolveExport(specifier);
      if (!file) throw new AppError('not_found', `${ctx.path}: ${specifier.split('/').slice(0, 2).join('/')} is not installed`);
      // The version is in the package, not the name: cache for a day, revalidate after.
      await sendFile(ctx, { root: dirname(file), path: `/${file.slice(dirname(file).length + 1)}` }, {
        send: { maxAge: 0, immutable: false, cacheControl: false },
        headers: { ...OPEN_HEADERS, ...(FFMPEG_WORKER_SCRIPTS.includes(name) ? FFMPEG_WORKER_HEADERS : {}), 'Content-Type': type, 'Cache-Control': 'public, max-age=86400' },
      });
      return;
    }
    const chunk = !builtType && CHUNK_NAME.test(name) && (await chunks()).has(name);
    if (!builtType && !chunk) throw new AppError('not_found', `no element asset ${name.slice(0, 100)}`);
    let body: Buffer;
    try {
      body = await readFile(elementDist + name);
    } catch {
      throw new AppError('not_found', `${ctx.path.slice(0, 120)} is not built; run npm run build`);
    }
    ctx.type = builtType ?? (name.endsWith('.map') ? JSON_TYPE : JS);
    ctx.set(OPEN_HEADERS);
    if (FFMPEG_WORKER_SCRIPTS.includes(name)) ctx.set(FFMPEG_WORKER_HEADERS);
    ctx.set('Cache-Control', chunk ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
    ctx.body = body;
  });
  return router;
}
