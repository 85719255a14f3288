import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FFMPEG_CORE_DIRS } from '../src/live-upload/ffmpeg-core-dirs.js';
import { MAX_PTHREAD_POOL, PTHREAD_POOL_PARAM } from '../src/live-upload/ffmpeg-thread-pool.js';

/**
 * The FFmpeg.wasm cores as the element loads them (issue 26): each core in a directory whose
 * name carries its package version and a hash of what is served, so the server can cache every
 * file for a year (`immutable`) and a new version or a new transform is a new URL. The cores'
 * JavaScript is written into `element/dist` by the element build (the multi-thread one with its
 * pthread pool made sizeable, `sizePthreadPool`); the ~32 MB wasm files are served from the
 * installed packages, which the server checks are the version the build named.
 *
 * The element learns the directory names from `element/src/live-upload/ffmpeg-core-dirs.ts`,
 * which this script writes (`node --import tsx element/scripts/ffmpeg-cores.ts --write`) and the
 * build checks (`checkFFmpegCoreDirs`): after an upgrade of the cores the build fails until it is
 * rewritten.
 */

/** The generated module the element imports its core directories from. */
export const FFMPEG_CORE_DIRS_MODULE = fileURLToPath(new URL('../src/live-upload/ffmpeg-core-dirs.ts', import.meta.url));

/** The command that rewrites `FFMPEG_CORE_DIRS_MODULE`. */
export const WRITE_FFMPEG_CORE_DIRS = 'node --import tsx element/scripts/ffmpeg-cores.ts --write';

/** What a served file of a core is made from: the package export it comes from, and whether the build writes it (JavaScript) or the server streams it from the package (wasm). */
interface CoreFileSource {
  readonly specifier: string;
  readonly from: 'build' | 'package';
}

/** The two cores: their packages, the directory prefix under `ffmpeg/`, and their files (the ESM builds). */
const CORES = {
  core: {
    packageName: '@ffmpeg/core',
    prefix: 'core',
    files: {
      'ffmpeg-core.js': { specifier: '@ffmpeg/core', from: 'build' },
      'ffmpeg-core.wasm': { specifier: '@ffmpeg/core/wasm', from: 'package' },
    },
  },
  coreMt: {
    packageName: '@ffmpeg/core-mt',
    prefix: 'core-mt',
    files: {
      'ffmpeg-core.js': { specifier: '@ffmpeg/core-mt', from: 'build' },
      'ffmpeg-core.wasm': { specifier: '@ffmpeg/core-mt/wasm', from: 'package' },
      'ffmpeg-core.worker.js': { specifier: '@ffmpeg/core-mt/worker', from: 'build' },
    },
  },
} as const satisfies Record<keyof typeof FFMPEG_CORE_DIRS, { packageName: string; prefix: string; files: Record<string, CoreFileSource> }>;

/** Emscripten's fixed pool in `@ffmpeg/core-mt` 0.12's `ffmpeg-core.js` (built with `-sPTHREAD_POOL_SIZE=32`). */
const FIXED_POOL = 'var pthreadPoolSize=32;';

/**
 * `@ffmpeg/core-mt`'s `ffmpeg-core.js` with its pthread pool sized by the page instead of
 * Emscripten's fixed 32 workers, all started before the core is ready (why:
 * `element/src/live-upload/ffmpeg-thread-pool.ts`). The pool is the `pthreads` query parameter
 * of the core's own URL (`?pthreads=16`, 0 to `MAX_PTHREAD_POOL`), which the element sets to
 * what its jobs need; without it, 32 as before. Throws when the package no longer has the one
 * line this rewrites, so an upgrade cannot silently ship the fixed pool.
 */
export function sizePthreadPool(coreJs: string): string {
  const found = coreJs.split(FIXED_POOL).length - 1;
  if (found !== 1) {
    throw new Error(
      `@ffmpeg/core-mt's ffmpeg-core.js has ${found} occurrences of "${FIXED_POOL}", expected exactly one: the pthread pool can no longer be sized by the page; update sizePthreadPool in element/scripts/ffmpeg-cores.ts`,
    );
  }
  const sized =
    `var pthreadPoolSize=(s=>/^\\d{1,3}$/.test(s)&&+s<=${MAX_PTHREAD_POOL}?+s:32)` +
    `(new URL(import.meta.url).searchParams.get(${JSON.stringify(PTHREAD_POOL_PARAM)})??"");`;
  return coreJs.replace(FIXED_POOL, sized);
}

/** A file served from an installed package, as `assets.json` lists it for the server. */
export interface PackageFile {
  /** The package export to resolve, e.g. `@ffmpeg/core/wasm`. */
  readonly export: string;
  readonly package: string;
  /** The version the build named in the directory; the server refuses another installed one. */
  readonly version: string;
}

export interface FFmpegCoresBuild {
  /** The directories, as `FFMPEG_CORE_DIRS` must have them. */
  readonly dirs: Record<keyof typeof CORES, string>;
  /** Files the build writes into `element/dist`, by path under it. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Files the server streams from the installed packages, by path under `element/dist`'s URL space. */
  readonly packageFiles: Readonly<Record<string, PackageFile>>;
}

/** The installed package's `package.json`: found by walking up from one of its files. */
async function installedVersion(file: string, packageName: string): Promise<string> {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = await readFile(join(dir, 'package.json'), 'utf8').then(
      (text) => JSON.parse(text) as { name?: unknown; version?: unknown },
      () => undefined,
    );
    if (manifest?.name === packageName && typeof manifest.version === 'string') return manifest.version;
  }
  throw new Error(`no package.json of ${packageName} above ${file}`);
}

/**
 * Reads the installed cores and makes what is served of them: the JavaScript (the multi-thread
 * core's sized by `sizePthreadPool`) and each core's directory, `ffmpeg/{core|core-mt}-{version}-{hash}/`,
 * the hash over the served JavaScript, the package and version the wasm comes from, and the
 * wasm's size (a published npm version never changes, and the lockfile pins its integrity).
 */
export async function buildFFmpegCores(): Promise<FFmpegCoresBuild> {
  const files = new Map<string, Uint8Array>();
  const packageFiles: Record<string, PackageFile> = {};
  const dirs = {} as Record<keyof typeof CORES, string>;
  for (const [key, core] of Object.entries(CORES) as [keyof typeof CORES, (typeof CORES)[keyof typeof CORES]][]) {
    const hash = createHash('sha256');
    const built = new Map<string, Uint8Array>();
    const fromPackage: Array<[string, PackageFile]> = [];
    let version: string | undefined;
    for (const [name, source] of Object.entries(core.files) as [string, CoreFileSource][]) {
      const path = fileURLToPath(import.meta.resolve(source.specifier));
      version ??= await installedVersion(path, core.packageName);
      hash.update(`${name}\0`);
      if (source.from === 'package') {
        hash.update(`${core.packageName}@${version} ${(await stat(path)).size}\0`);
        fromPackage.push([name, { export: source.specifier, package: core.packageName, version }]);
        continue;
      }
      const text = await readFile(path, 'utf8');
      const bytes = new TextEncoder().encode(key === 'coreMt' && name === 'ffmpeg-core.js' ? sizePthreadPool(text) : text);
      hash.update(bytes);
      hash.update('\0');
      built.set(name, bytes);
    }
    const dir = `ffmpeg/${core.prefix}-${version}-${hash.digest('hex').slice(0, 12)}/`;
    dirs[key] = dir;
    for (const [name, bytes] of built) files.set(dir + name, bytes);
    for (const [name, file] of fromPackage) packageFiles[dir + name] = file;
  }
  return { dirs, files, packageFiles };
}

/** The source of `FFMPEG_CORE_DIRS_MODULE` for `dirs`. */
export function ffmpegCoreDirsSource(dirs: FFmpegCoresBuild['dirs']): string {
  return `/**
 * Where the FFmpeg.wasm cores are served, under the element's asset base: one directory per core
 * whose name carries its package version and a hash of what is served, so every file in it is
 * cached for a year. Generated from the installed packages by
 * \`${WRITE_FFMPEG_CORE_DIRS}\`; the element build fails while it does not match them.
 */
export const FFMPEG_CORE_DIRS = {
  core: ${JSON.stringify(dirs.core).replaceAll('"', "'")},
  coreMt: ${JSON.stringify(dirs.coreMt).replaceAll('"', "'")},
} as const;
`;
}

/** Throws, naming the command that fixes it, when the element's `FFMPEG_CORE_DIRS` are not the installed cores' `dirs`. */
export function checkFFmpegCoreDirs(dirs: FFmpegCoresBuild['dirs']): void {
  if (dirs.core === FFMPEG_CORE_DIRS.core && dirs.coreMt === FFMPEG_CORE_DIRS.coreMt) return;
  throw new Error(
    `element/src/live-upload/ffmpeg-core-dirs.ts names ${FFMPEG_CORE_DIRS.core} and ${FFMPEG_CORE_DIRS.coreMt}, but the installed cores are served as ${dirs.core} and ${dirs.coreMt}: run \`${WRITE_FFMPEG_CORE_DIRS}\` and commit it`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { dirs } = await buildFFmpegCores();
  if (process.argv.includes('--write')) {
    await writeFile(FFMPEG_CORE_DIRS_MODULE, ffmpegCoreDirsSource(dirs));
    console.log(`wrote ${FFMPEG_CORE_DIRS_MODULE}: ${dirs.core}, ${dirs.coreMt}`);
  } else {
    checkFFmpegCoreDirs(dirs);
    console.log(`FFMPEG_CORE_DIRS match the installed cores: ${dirs.core}, ${dirs.coreMt}`);
  }
}
