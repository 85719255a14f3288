import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, transform, type Metafile, type Plugin } from 'esbuild';
import { buildFFmpegCores, checkFFmpegCoreDirs } from './ffmpeg-cores.js';

const elementDir = fileURLToPath(new URL('..', import.meta.url));
const rootTsconfig = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));

/** The define file: importing it registers `<live-badge>`. */
export const LIVE_BADGE_ENTRY = join(elementDir, 'src/live-badge/live-badge.ts');

/** The define file of `<live-upload>` (it registers `<live-badge>` too). */
export const LIVE_UPLOAD_ENTRY = join(elementDir, 'src/live-upload/live-upload.ts');

/** `@ffmpeg/ffmpeg`'s worker module, bundled into one file: the worker starts from its own URL (see `ffmpegWorkerSource`). */
const FFMPEG_WORKER_ENTRY = createRequire(join(elementDir, 'package.json')).resolve('@ffmpeg/ffmpeg/worker');

/**
 * Lists every file of `element/dist` the server may serve (`server/src/http/element-assets-route.ts`
 * reads it): the lazy chunks and the FFmpeg.wasm cores' directories have content hashes in their
 * names, so the list is written per build. `{ files: string[], packageFiles: { [name]: PackageFile } }`:
 * `packageFiles` are served from an installed package (the cores' wasm), not from `element/dist`.
 */
export const ELEMENT_ASSET_LIST = 'assets.json';

export interface BuildElementOptions {
  /** Output directory. Default `element/dist`. */
  readonly outdir?: string;
  /** Write the files. Default true; false only returns them. */
  readonly write?: boolean;
  /** Emit a linked source map. Default true. */
  readonly sourcemap?: boolean;
}

export interface BuildElementResult {
  /**
   * Output files by path under the output directory: `live-badge.js`, `live-upload.js`, its lazy
   * `chunks/*.js`, `ffmpeg/ffmpeg-worker.js`, the FFmpeg.wasm cores' JavaScript
   * (`ffmpeg/core-*-{version}-{hash}/*.js`, see `ffmpeg-cores.ts`), `assets.json`, and with
   * source maps their `.map`s.
   */
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly metafile: Metafile;
  readonly outdir: string;
}

/**
 * esbuild minifies JS but leaves the CSS inside Lit's css`` templates alone. This minifies each
 * interpolation-free css`` template in `*.styles.ts` with esbuild's own CSS minifier.
 */
const minifyLitCss: Plugin = {
  name: 'minify-lit-css',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.styles\.ts$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      let contents = '';
      let last = 0;
      for (const match of source.matchAll(/\bcss`([^`$\\]*)`/g)) {
        const minified = await transform(match[1] ?? '', { loader: 'css', minify: true });
        contents += `${source.slice(last, match.index)}css\`${minified.code.trim()}\``;
        last = match.index + match[0].length;
      }
      return { contents: contents + source.slice(last), loader: 'ts' };
    });
  },
};

const common = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  tsconfig: rootTsconfig,
  legalComments: 'none',
  metafile: true,
  write: false,
  logLevel: 'warning',
} as const;

/**
 * Bundles and minifies, all ES2022 modules with Lit inside:
 * - `live-badge.js`: `<live-badge>` alone, one file;
 * - `live-upload.js`: `<live-upload>` (and the badge) with hls.js, FFmpeg.wasm's class and
 *   tus-js-client split into `chunks/*-[hash].js`, loaded by dynamic `import()` when first needed;
 * - `ffmpeg/ffmpeg-worker.js`: `@ffmpeg/ffmpeg`'s worker as one file;
 * - the FFmpeg.wasm cores' JavaScript in their versioned directories (`ffmpeg-cores.ts`); fails
 *   when the element's `FFMPEG_CORE_DIRS` do not name the installed cores.
 */
export async function buildElement(options: BuildElementOptions = {}): Promise<BuildElementResult> {
  const outdir = options.outdir ?? join(elementDir, 'dist');
  const sourcemap = (options.sourcemap ?? true) ? ('linked' as const) : false;
  const [cores, badge, upload, worker] = await Promise.all([
    buildFFmpegCores(),
    build({ ...common, entryPoints: { 'live-badge': LIVE_BADGE_ENTRY }, outdir, sourcemap, plugins: [minifyLitCss] }),
    build({
      ...common,
      entryPoints: { 'live-upload': LIVE_UPLOAD_ENTRY },
      outdir,
      sourcemap,
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      plugins: [minifyLitCss],
    }),
    build({ ...common, entryPoints: { 'ffmpeg/ffmpeg-worker': FFMPEG_WORKER_ENTRY }, outdir, sourcemap: false }),
  ]);
  const outputs = [...badge.outputFiles, ...upload.outputFiles, ...worker.outputFiles];
  checkFFmpegCoreDirs(cores.dirs);
  const files = new Map(outputs.map((file) => [relative(outdir, file.path).split('\\').join('/'), file.contents] as const));
  for (const [name, contents] of cores.files) files.set(name, contents);
  files.set(ELEMENT_ASSET_LIST, new TextEncoder().encode(`${JSON.stringify({ files: [...files.keys()].sort(), packageFiles: cores.packageFiles }, null, 2)}\n`));
  if (options.write ?? true) {
    await Promise.all(
      [...files].map(async ([name, contents]) => {
        await mkdir(dirname(join(outdir, name)), { recursive: true });
        await writeFile(join(outdir, name), contents);
      }),
    );
  }
  const metafile: Metafile = {
    inputs: { ...badge.metafile.inputs, ...upload.metafile.inputs, ...worker.metafile.inputs },
    outputs: Object.assign({}, badge.metafile.outputs, upload.metafile.outputs, worker.metafile.outputs),
  };
  return { files, metafile, outdir };
}

/**
 * The bytes a page loads before any interaction: the entry and the chunks it imports statically
 * (not the `import()`ed ones). `entry` is a key of `files`.
 */
export function firstLoadFiles(result: BuildElementResult, entry: string): string[] {
  const name = (path: string): string => relative(result.outdir, resolve(path)).split('\\').join('/');
  const byName = new Map(Object.entries(result.metafile.outputs).map(([path, output]) => [name(path), output] as const));
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file) || !byName.has(file)) return;
    seen.add(file);
    for (const imported of byName.get(file)!.imports) {
      if (imported.kind === 'import-statement') visit(name(imported.path));
    }
  };
  visit(entry);
  return [...seen];
}

/**
 * Writes the Custom Elements Manifest (`custom-elements.json`) of the components with
 * `@custom-elements-manifest/analyzer` (`cem analyze`), from the JSDoc tags on the classes.
 */
export async function buildCustomElementsManifest(outdir = join(elementDir, 'dist')): Promise<string> {
  const cli = createRequire(join(elementDir, 'package.json')).resolve('@custom-elements-manifest/analyzer/cem.js');
  await promisify(execFile)(process.execPath, [cli, 'analyze', '--config', 'custom-elements-manifest.config.mjs', '--outdir', relative(elementDir, outdir)], { cwd: elementDir });
  return join(outdir, 'custom-elements.json');
}

/**
 * Emits the element's TypeScript declarations (`dist/types/`, what `types` in package.json
 * names) with `tsc -p tsconfig.types.json`: the public classes, events and labels, typed.
 */
export async function buildElementTypes(): Promise<string> {
  const tsc = createRequire(join(elementDir, 'package.json')).resolve('typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.types.json'], { cwd: elementDir });
  return join(elementDir, 'dist', 'types', 'index.d.ts');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const { files } = await buildElement();
  await Promise.all([buildCustomElementsManifest(), buildElementTypes()]);
  for (const name of ['live-badge.js', 'live-upload.js']) {
    console.log(`element/dist/${name}: ${files.get(name)?.byteLength ?? 0} bytes`);
  }
  console.log(`element/dist: ${files.size} files and custom-elements.json in ${Math.round(performance.now() - started)} ms`);
}
