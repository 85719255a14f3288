import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, transform, type Metafile, type Plugin } from 'esbuild';

const elementDir = fileURLToPath(new URL('..', import.meta.url));
const rootTsconfig = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));

/** The define file: importing it registers `<live-badge>`. */
export const LIVE_BADGE_ENTRY = join(elementDir, 'src/live-badge/live-badge.ts');

export interface BuildElementOptions {
  /** Output directory. Default `element/dist`. */
  readonly outdir?: string;
  /** Write the files. Default true; false only returns them. */
  readonly write?: boolean;
  /** Emit a linked source map. Default true. */
  readonly sourcemap?: boolean;
}

export interface BuildElementResult {
  /** Output files by name: `live-badge.js` and, with source maps, `live-badge.js.map`. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly metafile: Metafile;
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

/** Bundles and minifies `<live-badge>` with Lit into one ES2022 module, `element/dist/live-badge.js`. */
export async function buildElement(options: BuildElementOptions = {}): Promise<BuildElementResult> {
  const outdir = options.outdir ?? join(elementDir, 'dist');
  const result = await build({
    entryPoints: { 'live-badge': LIVE_BADGE_ENTRY },
    outdir,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: (options.sourcemap ?? true) ? 'linked' : false,
    tsconfig: rootTsconfig,
    legalComments: 'none',
    metafile: true,
    write: false,
    logLevel: 'warning',
    plugins: [minifyLitCss],
  });
  const files = new Map(result.outputFiles.map((file) => [basename(file.path), file.contents] as const));
  if (options.write ?? true) {
    await mkdir(outdir, { recursive: true });
    await Promise.all([...files].map(([name, contents]) => writeFile(join(outdir, name), contents)));
  }
  return { files, metafile: result.metafile };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const { files } = await buildElement();
  const bytes = files.get('live-badge.js')?.byteLength ?? 0;
  console.log(`element/dist/live-badge.js: ${bytes} bytes in ${Math.round(performance.now() - started)} ms`);
}
