import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { buildElement } from '../element/scripts/build.js';

const root = fileURLToPath(new URL('../', import.meta.url));

/** Builds what the server serves to browsers: the element bundles and the demo page script. */
export async function buildAll(): Promise<void> {
  await Promise.all([
    buildElement(),
    build({
      entryPoints: [`${root}demo/src/demo-page.ts`],
      outfile: `${root}demo/dist/demo.js`,
      bundle: true,
      format: 'esm',
      target: 'es2022',
      minify: true,
      sourcemap: true,
      logLevel: 'warning',
    }),
  ]);
}

await buildAll();
