import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { Context } from 'koa';
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

/**
 * A file of an FFmpeg.wasm core in its versioned directory (`element/scripts/ffmpeg-cores.ts`):
 * `ffmpeg/{core|core-mt}-{version}-{hash}/{file}`. The name changes with the package version and
 * with what is served, so these are cached for a year.
 */
const VERSIONED_CORE_FILE = /^ffmpeg\/(core|core-mt)-\d{1,4}\.\d{1,4}\.\d{1,4}-[0-9a-f]{12}\/(ffmpeg-core\.(?:js|wasm|worker\.js))$/;

/** The cores' old unversioned names (`ffmpeg/core/ffmpeg-core.js`): redirected to this build's versioned ones. */
const UNVERSIONED_CORE_FILE = /^ffmpeg\/(core|core-mt)\/(ffmpeg-core\.(?:js|wasm|worker\.js))$/;

/** A file `assets.json` says is served from an installed package (a core's wasm): the export, and the version the build named. */
interface PackageFile {
  readonly export: string;
  readonly package: string;
  readonly version: string;
}

/** What the last build listed in `assets.json`. */
interface AssetList {
  /** Chunks and the cores' built JavaScript, served from `element/dist`. */
  readonly built: ReadonlySet<string>;
  /** The cores' wasm, served from their installed packages. */
  readonly fromPackages: ReadonlyMap<string, PackageFile>;
}

const NO_ASSETS: AssetList = { built: new Set(), fromPackages: new Map() };

function isPackageFile(value: unknown): value is PackageFile {
  const file = value as Partial<PackageFile> | null;
  return typeof file === 'object' && file !== null && typeof file.export === 'string' && file.export.startsWith('@ffmpeg/') && typeof file.package === 'string' && typeof file.version === 'string';
}

/** Reads `assets.json` (the hashed names only), again whenever the build rewrites it. */
function assetList(): () => Promise<AssetList> {
  let cached: { mtimeMs: number; list: AssetList } | undefined;
  return async () => {
    const path = `${elementDist}assets.json`;
    const mtimeMs = await stat(path).then(
      (stats) => stats.mtimeMs,
      () => -1,
    );
    if (mtimeMs < 0) return NO_ASSETS;
    if (cached?.mtimeMs !== mtimeMs) {
      let parsed: { files?: unknown; packageFiles?: unknown } = {};
      try {
        parsed = JSON.parse(await readFile(path, 'utf8')) as typeof parsed;
      } catch {
        // A build in progress or a broken file: nothing hashed is served until it is whole.
      }
      const files = Array.isArray(parsed.files) ? parsed.files.filter((name): name is string => typeof name === 'string') : [];
      const built = new Set(files.filter((name) => CHUNK_NAME.test(name) || (VERSIONED_CORE_FILE.test(name) && !name.endsWith('.wasm'))));
      const packageFiles = typeof parsed.packageFiles === 'object' && parsed.packageFiles !== null ? Object.entries(parsed.packageFiles) : [];
      const fromPackages = new Map(packageFiles.filter((entry): entry is [string, PackageFile] => VERSIONED_CORE_FILE.test(entry[0]) && entry[0].endsWith('.wasm') && isPackageFile(entry[1])));
      cached = { mtimeMs, list: { built, fromPackages } };
    }
    return cached.list;
  };
}

/** Where an installed package export lives on disk and the package's version, or undefined when it is not installed. */
async function resolveInstalled(file: PackageFile): Promise<{ path: string; version: string } | undefined> {
  let path: string;
  try {
    path = fileURLToPath(import.meta.resolve(file.export));
  } catch {
    return undefined;
  }
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = await readFile(join(dir, 'package.json'), 'utf8').then(
      (text) => JSON.parse(text) as { name?: unknown; version?: unknown },
      () => undefined,
    );
    if (manifest?.name === file.package) return typeof manifest.version === 'string' ? { path, version: manifest.version } : undefined;
  }
  return undefined;
}

/** A year, never revalidated: for names that change whenever their content does. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Cross-origin pages load these as module scripts, workers and wasm, also from cross-origin-isolated pages (COEP). */
const OPEN_HEADERS = { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin', 'X-Content-Type-Options': 'nosniff' } as const;

/** Whether `name` is a script a worker starts from: FFmpeg's class worker, or the multi-thread core's pthread worker. */
export function isFFmpegWorkerScript(name: string): boolean {
  return name === 'ffmpeg/ffmpeg-worker.js' || (VERSIONED_CORE_FILE.exec(name)?.[2] === 'ffmpeg-core.worker.js');
}

/**
 * What a worker started from a script `isFFmpegWorkerScript` names runs under (a worker from a URL gets
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
 * from a fixed table (the entry bundles, the FFmpeg worker, the manifest) plus the hashed names
 * the last build listed in `assets.json`, which are cached for a year: the lazy chunks, and the
 * FFmpeg.wasm cores in their versioned directories (their JavaScript as the build wrote it,
 * their wasm from the installed package the build named, refused if another version is
 * installed). The cores' old unversioned names redirect to this build's. No path from the
 * request reaches the disk; anything else is a 404. Built by `npm run build` (which `npm start`
 * runs); a missing build is a clear 404.
 */
export function elementAssetsRoute(): Router<AppState> {
  const router = new Router<AppState>();
  const assets = assetList();
  router.get(/^\/element\/(.+)$/, async (ctx) => {
    const name = ctx.path.slice('/element/'.length);
    const builtType = Object.hasOwn(BUILT_FILES, name) ? BUILT_FILES[name] : undefined;
    if (!builtType && (VERSIONED_CORE_FILE.test(name) || UNVERSIONED_CORE_FILE.test(name))) {
      await serveCoreFile(ctx, name, await assets());
      return;
    }
    const chunk = !builtType && CHUNK_NAME.test(name) && (await assets()).built.has(name);
    if (!builtType && !chunk) throw new AppError('not_found', `no element asset ${name.slice(0, 100)}`);
    let body: Buffer;
    try {
      body = await readFile(elementDist + name);
    } catch {
      throw new AppError('not_found', `${ctx.path.slice(0, 120)} is not built; run npm run build`);
    }
    ctx.type = builtType ?? (name.endsWith('.map') ? JSON_TYPE : JS);
    ctx.set(OPEN_HEADERS);
    if (isFFmpegWorkerScript(name)) ctx.set(FFMPEG_WORKER_HEADERS);
    ctx.set('Cache-Control', chunk ? IMMUTABLE : 'public, max-age=300');
    ctx.body = body;
  });
  return router;
}

/**
 * One file of an FFmpeg.wasm core (`name` matches `VERSIONED_CORE_FILE` or `UNVERSIONED_CORE_FILE`):
 * a versioned name this build listed is served for a year, its JavaScript from `element/dist`
 * and its wasm from the installed package; an old unversioned name is a temporary redirect to
 * this build's versioned one (relative, so it holds behind a proxy's path prefix), never cached
 * since the next build may name another.
 */
async function serveCoreFile(ctx: Context, name: string, assets: AssetList): Promise<void> {
  const unversioned = UNVERSIONED_CORE_FILE.exec(name);
  if (unversioned) {
    const [, core, file] = unversioned;
    const current = [...assets.built, ...assets.fromPackages.keys()].find((listed) => {
      const match = VERSIONED_CORE_FILE.exec(listed);
      return match !== null && match[1] === core && match[2] === file;
    });
    if (!current) throw new AppError('not_found', `${ctx.path} is not built; run npm run build`);
    ctx.set(OPEN_HEADERS);
    ctx.set('Cache-Control', 'no-cache');
    ctx.redirect(`../${current.slice('ffmpeg/'.length)}`);
    return;
  }
  const type = name.endsWith('.wasm') ? 'application/wasm' : JS;
  const headers = { ...OPEN_HEADERS, ...(isFFmpegWorkerScript(name) ? FFMPEG_WORKER_HEADERS : {}), 'Content-Type': type, 'Cache-Control': IMMUTABLE };
  const fromPackage = assets.fromPackages.get(name);
  if (fromPackage) {
    const installed = await resolveInstalled(fromPackage);
    if (!installed) throw new AppError('not_found', `${ctx.path}: ${fromPackage.package} is not installed`);
    if (installed.version !== fromPackage.version) {
      throw new AppError('not_found', `${ctx.path}: the build named ${fromPackage.package} ${fromPackage.version}, but ${installed.version} is installed; run npm run build`);
    }
    await sendFile(ctx, { root: dirname(installed.path), path: `/${basename(installed.path)}` }, { send: { maxAge: 0, immutable: false, cacheControl: false }, headers });
    return;
  }
  if (!assets.built.has(name)) throw new AppError('not_found', `no element asset ${name.slice(0, 100)}`);
  await sendFile(ctx, { root: elementDist, path: `/${name}` }, { send: { maxAge: 0, immutable: false, cacheControl: false }, headers });
}
