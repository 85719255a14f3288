/** Where the page's own files and uPlot's are served (see `audiencePageRoute`). */
export const AUDIENCE_PAGE_ASSET_PREFIX = '/audience-page/';

/** uPlot's files under a path with its installed version in it, so they can be cached for a year. */
export function uPlotAssetPath(version: string, file: 'uPlot.esm.js' | 'uPlot.min.css'): string {
  return `${AUDIENCE_PAGE_ASSET_PREFIX}uplot@${version}/${file}`;
}

/**
 * The publisher's audience page: a static shell with nothing from the request in it (the script
 * reads the channel and broadcast from the address and fetches the report with the token the
 * publisher types, which stays in the tab's sessionStorage and is never put in a link). No inline
 * script or style, so the page's CSP needs no nonce or hash. `uPlotModule` is the versioned path
 * the page script imports uPlot from.
 */
export function audiencePageHtml(uPlotVersion: string): string {
  const module = uPlotAssetPath(uPlotVersion, 'uPlot.esm.js');
  return `<!doctype html>
<html lang="en" data-uplot-module="${module}">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>Audience · live-upload</title>
    <link rel="stylesheet" href="${uPlotAssetPath(uPlotVersion, 'uPlot.min.css')}" />
    <link rel="stylesheet" href="${AUDIENCE_PAGE_ASSET_PREFIX}audience-page.css" />
    <link rel="modulepreload" href="${module}" />
    <script type="module" src="${AUDIENCE_PAGE_ASSET_PREFIX}audience-page.js"></script>
  </head>
  <body>
    <header>
      <h1 id="page-heading">Audience</h1>
      <p id="broadcast-name" class="hint"></p>
      <p id="live-state" role="status" aria-live="polite"></p>
      <!-- Not announced: it changes at every refresh; the state above is announced only when it changes. -->
      <p id="updated-at" class="hint"></p>
    </header>
    <main>
      <section aria-labelledby="token-heading" class="card" id="token-section">
        <h2 id="token-heading">Access</h2>
        <div id="token-entry">
          <p id="token-help">
            Paste the admin token, or a publisher grant of this channel with the <code>audience</code> capability.
            It stays in this tab only and is never put in a link.
          </p>
          <!-- The input has no name: even without the script, a submission could not carry the token anywhere. -->
          <form id="token-form" class="controls" novalidate>
            <label for="token-input">Admin token or publisher grant</label>
            <input id="token-input" type="password" autocomplete="off" autocapitalize="off" spellcheck="false" aria-describedby="token-help" />
            <button type="submit">Show the audience</button>
          </form>
        </div>
        <div id="token-held" class="controls" hidden>
          <p>A token is in use for this tab.</p>
          <button type="button" id="forget-token">Forget the token</button>
        </div>
      </section>
      <p id="page-error" role="alert" class="error-text"></p>
      <div id="report" hidden>
        <section aria-labelledby="totals-heading" class="card">
          <h2 id="totals-heading">Totals</h2>
          <dl id="totals" class="totals"></dl>
        </section>
        <div id="charts"></div>
      </div>
    </main>
  </body>
</html>
`;
}
