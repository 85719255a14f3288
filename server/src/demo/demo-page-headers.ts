import { elementPageCsp } from '../http/element-page-csp.js';

/** What a demo file is, for the headers it gets. */
export const DEMO_FILE_KINDS = ['element-page', 'moderation-page', 'asset'] as const;
export type DemoFileKind = (typeof DEMO_FILE_KINDS)[number];

/**
 * The demo pages are cross-origin isolated (COOP same-origin + COEP require-corp), so
 * `<live-upload>` gets SharedArrayBuffer and the multi-threaded FFmpeg.wasm core.
 */
const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } as const;

/**
 * The moderation page takes the admin token, and hosts no element: its own bundle and
 * stylesheet, the API of this origin, previews played from `blob:` (fetched with the token),
 * evidence frames shown from `blob:` (fetched with the token too), the favicon; nothing inline, never framed, no forms posted anywhere.
 */
export const MODERATION_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "media-src blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The headers of one demo file. Pages get a strict CSP (`elementPageCsp` for the page with the
 * element, its HLS from `playbackOrigin`), isolation, no framing; the token page sends no
 * referrer. Everything is `nosniff`.
 */
export function demoFileHeaders(kind: DemoFileKind, playbackOrigin: string | undefined): Record<string, string> {
  const nosniff = { 'X-Content-Type-Options': 'nosniff' };
  switch (kind) {
    case 'asset':
      return nosniff;
    case 'element-page':
      return {
        ...nosniff,
        ...ISOLATION_HEADERS,
        'Content-Security-Policy': elementPageCsp({ playbackOrigin, selfStylesheets: true, frameAncestors: "'none'" }),
        'Referrer-Policy': 'strict-origin-when-cross-origin',
      };
    case 'moderation-page':
      return { ...nosniff, ...ISOLATION_HEADERS, 'Content-Security-Policy': MODERATION_PAGE_CSP, 'Referrer-Policy': 'no-referrer' };
  }
}
