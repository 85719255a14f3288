import { build, type BuildResult } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildElement } from '../element/scripts/build.js';

const root = fileURLToPath(new URL('../', import.meta.url));

/** Bundles the demo page's own script into `demo/dist/demo.js` (or only in memory, with `write: false`). */
export function buildDemo(options: { write?: boolean } = {}): Promise<BuildResult<{ write: false }>> {
  return build({
    entryPoints: [`${root}demo/src/demo-page.ts`],
    outfile: `${root}demo/dist/demo.js`,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
    write: (options.write ?? true) as false,
  });
}

/** Builds what the server serves to browsers: the element bundles and the demo page script. */
export async function buildAll(): Promise<void> {
  await Promise.all([buildElement(), buildDemo()]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await buildAll();
}
