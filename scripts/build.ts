import { build, type BuildResult } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildCustomElementsManifest, buildElement, buildElementTypes } from '../element/scripts/build.js';

const root = fileURLToPath(new URL('../', import.meta.url));

/** The demo's page scripts and the bundle each becomes in `demo/dist/`. */
const DEMO_ENTRY_POINTS = [
  { in: `${root}demo/src/demo-page.ts`, out: 'demo' },
  { in: `${root}demo/src/moderation-page.ts`, out: 'moderation' },
];

/**
 * Bundles the demo pages' scripts into `demo/dist/demo.js` and `demo/dist/moderation.js` (or
 * only in memory, with `write: false`).
 */
export function buildDemo(options: { write?: boolean } = {}): Promise<BuildResult<{ write: false }>> {
  return build({
    entryPoints: DEMO_ENTRY_POINTS,
    outdir: `${root}demo/dist`,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
    write: (options.write ?? true) as false,
  });
}

/**
 * Builds what the server serves to browsers: the element bundles (with their lazy chunks and
 * the FFmpeg worker), the element's Custom Elements Manifest and type declarations, and the
 * demo page scripts.
 */
export async function buildAll(): Promise<void> {
  await Promise.all([buildElement().then(() => Promise.all([buildCustomElementsManifest(), buildElementTypes()])), buildDemo()]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await buildAll();
}
