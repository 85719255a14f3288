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
 * (the landing page, its embed, the demo pages): exactly what the element needs and nothing
 * inline. Scripts (the bundle and its chunks) only from us; media and requests to us and the
 * playback origin (hls.js fetches the playlist, MSE plays from `blob:`).
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
