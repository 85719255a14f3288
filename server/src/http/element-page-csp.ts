/** What a page that hosts our element allows, besides what the element itself needs. */
export interface ElementPageCspOptions {
  /** This server's public origin (the element's `endpoint`), when it differs from the page's own. */
  readonly ourOrigin?: string | undefined;
  /** The origin of the channel's live HLS, when it is not ours (hls.js fetches it). */
  readonly playbackOrigin?: string | undefined;
  /** `'sha256-...'` sources of the page's own inline stylesheets. */
  readonly styleHashes?: readonly string[];
  /** The page links stylesheets from its own origin (`style-src 'self'`), like the demo pages. */
  readonly selfStylesheets?: boolean;
  /** Who may frame the page: `'self'` by default, `*` for embeds. */
  readonly frameAncestors?: string;
}

/**
 * The Content-Security-Policy of a page of ours that hosts `<live-badge>` or `<live-upload>`
 * (the landing page, its embed, the demo pages): exactly what the element needs, nothing inline,
 * no `blob:` script or worker.
 * - `script-src`: the bundle and its lazy chunks, from us. No `'wasm-unsafe-eval'`: FFmpeg.wasm
 *   compiles in its worker, which starts from its own URL on our origin and so runs under the
 *   policy of its own response, not this one.
 * - `worker-src`: that worker (and the multi-thread core's pthread workers, started by it).
 *   Workers must be same-origin with the page, so the element is served here from the page's own
 *   origin (`PUBLIC_URL`); a page on another origin needs `worker-src blob:` (the README's
 *   "Embed it").
 * - `style-src`: the page's own stylesheets only; the element's styles are constructed
 *   stylesheets and CSSOM writes, which no `style-src` governs.
 * - `media-src`: the live HLS (MSE plays it from `blob:`) and previews of clips (`blob:`);
 *   `connect-src`: the API, the SSE stream, tus, the playlist and segments hls.js fetches.
 */
export function elementPageCsp(options: ElementPageCspOptions): string {
  const sources = (...candidates: Array<string | undefined>) => [...new Set(candidates.filter((source) => source !== undefined))].join(' ');
  const { ourOrigin: ours, playbackOrigin: playback } = options;
  return [
    "default-src 'none'",
    `script-src ${sources("'self'", ours)}`,
    `style-src ${sources(options.selfStylesheets ? "'self'" : undefined, ...(options.styleHashes ?? [])) || "'none'"}`,
    `img-src ${sources("'self'", ours, 'data:', 'blob:')}`,
    `media-src ${sources("'self'", ours, playback, 'blob:')}`,
    `connect-src ${sources("'self'", ours, playback)}`,
    `worker-src ${sources("'self'", ours)}`,
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${options.frameAncestors ?? "'self'"}`,
  ].join('; ');
}
