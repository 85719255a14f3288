import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { buildElement } from '../element/scripts/build.js';

/** The `<live-badge>` bundle, Lit included, must stay within this many gzipped bytes. */
export const BADGE_GZIP_BUDGET_BYTES = 8192;

/** Bundles and minifies `<live-badge>` in memory and measures it raw and gzipped (level 9). */
export async function measureBadgeSize(): Promise<{ bytes: number; gzipBytes: number }> {
  const { files } = await buildElement({ write: false, sourcemap: false });
  const js = files.get('live-badge.js');
  if (!js) throw new Error('esbuild produced no live-badge.js');
  return { bytes: js.byteLength, gzipBytes: gzipSync(js, { level: 9 }).byteLength };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { bytes, gzipBytes } = await measureBadgeSize();
  console.log(`live-badge: ${bytes} bytes, ${gzipBytes} bytes gzipped (budget ${BADGE_GZIP_BUDGET_BYTES})`);
  if (gzipBytes > BADGE_GZIP_BUDGET_BYTES) process.exitCode = 1;
}
