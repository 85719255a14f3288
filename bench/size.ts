import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { buildElement, firstLoadFiles } from '../element/scripts/build.js';

/**
 * The `<live-badge>` bundle, Lit's base class included, must stay within this many gzipped bytes.
 * 8 KiB, then 8.25 KiB (issues 24 and 25); the bundle had grown past it to 9,306 B with the
 * audience beacons (issue 27). Since the badge writes its five spans by hand on Lit's
 * `ReactiveElement`, without lit-html, it is 6,476 B: the budget is 7 KiB, so that the room won
 * is not spent unnoticed.
 */
export const BADGE_GZIP_BUDGET_BYTES = 7168;

/** What a page loads for `<live-upload>` before any interaction (hls.js, FFmpeg.wasm and tus are lazy): at most this, gzipped. */
export const UPLOAD_GZIP_BUDGET_BYTES = 35 * 1024;

/** Bundles and minifies `<live-badge>` in memory and measures it raw and gzipped (level 9). */
export async function measureBadgeSize(): Promise<{ bytes: number; gzipBytes: number }> {
  const { files } = await buildElement({ write: false, sourcemap: false });
  const js = files.get('live-badge.js');
  if (!js) throw new Error('esbuild produced no live-badge.js');
  return { bytes: js.byteLength, gzipBytes: gzipSync(js, { level: 9 }).byteLength };
}

export interface UploadSize {
  /** The entry and the chunks it imports statically, each gzipped on its own as served. */
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly files: readonly string[];
  /** Every lazy chunk, gzipped, for the record (loaded only when a feature is first used). */
  readonly lazyGzipBytes: number;
}

/** Bundles `<live-upload>` in memory and measures its first load, raw and gzipped (level 9). */
export async function measureUploadSize(): Promise<UploadSize> {
  const result = await buildElement({ write: false, sourcemap: false });
  const first = firstLoadFiles(result, 'live-upload.js');
  if (!first.includes('live-upload.js')) throw new Error('esbuild produced no live-upload.js');
  const gz = (name: string) => gzipSync(result.files.get(name)!, { level: 9 }).byteLength;
  const lazy = [...result.files.keys()].filter((name) => name.startsWith('chunks/') && name.endsWith('.js') && !first.includes(name));
  return {
    bytes: first.reduce((sum, name) => sum + result.files.get(name)!.byteLength, 0),
    gzipBytes: first.reduce((sum, name) => sum + gz(name), 0),
    files: first,
    lazyGzipBytes: lazy.reduce((sum, name) => sum + gz(name), 0),
  };
}

export function formatUploadSize(size: UploadSize): string {
  return (
    `live-upload first load: ${size.bytes} bytes, ${size.gzipBytes} bytes gzipped (budget ${UPLOAD_GZIP_BUDGET_BYTES}) in ${size.files.join(' + ')}; ` +
    `lazy chunks ${size.lazyGzipBytes} bytes gzipped`
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { bytes, gzipBytes } = await measureBadgeSize();
  console.log(`live-badge: ${bytes} bytes, ${gzipBytes} bytes gzipped (budget ${BADGE_GZIP_BUDGET_BYTES})`);
  const upload = await measureUploadSize();
  console.log(formatUploadSize(upload));
  if (gzipBytes > BADGE_GZIP_BUDGET_BYTES || upload.gzipBytes > UPLOAD_GZIP_BUDGET_BYTES) process.exitCode = 1;
}
