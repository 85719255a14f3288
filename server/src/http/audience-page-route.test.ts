import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config.js';
import { createLogger } from '../observability/index.js';
import { startServer, type RunningServer } from '../start-server.js';
import { TEST_ADMIN_TOKEN, TEST_SECRET } from '../../../test/support/test-server.js';
import { AUDIENCE_PAGE_CSP } from './audience-page-route.js';

const installedUPlot = JSON.parse(await readFile(fileURLToPath(import.meta.resolve('uplot/package.json')), 'utf8')) as { version: string };
const PAGE = '/c/acme/morning-show/broadcasts/stream:acme:morning-show:01J0000000000000000000000A/audience';

describe('audience page route', () => {
  let server: RunningServer;

  before(async () => {
    const config = loadConfig({ PORT: '0', TWITCH_EVENTSUB_SECRET: TEST_SECRET, ADMIN_TOKEN: TEST_ADMIN_TOKEN, DEMO: '0', LOG_LEVEL: 'silent' });
    server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
  });
  after(() => server.close());

  it('serves the page under a strict CSP with no inline script, naming uPlot at its installed version', async () => {
    const response = await fetch(`${server.url}${PAGE}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(response.headers.get('content-security-policy'), AUDIENCE_PAGE_CSP);
    assert.doesNotMatch(AUDIENCE_PAGE_CSP, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    const html = await response.text();
    assert.ok(html.includes(`/audience-page/uplot@${installedUPlot.version}/uPlot.esm.js`));
    // Every script is a same-origin file; nothing from the request is in the page.
    assert.deepEqual([...html.matchAll(/<script([^>]*)>/g)].map((match) => match[1]), [' type="module" src="/audience-page/audience-page.js"']);
    assert.doesNotMatch(html, /morning-show|01J0000/);
  });

  it('serves uPlot from its installed package for a year, and the page modules revalidated', async () => {
    for (const file of ['uPlot.esm.js', 'uPlot.min.css']) {
      const response = await fetch(`${server.url}/audience-page/uplot@${installedUPlot.version}/${file}`);
      assert.equal(response.status, 200, file);
      assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.match(response.headers.get('content-type') ?? '', file.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      assert.ok((await response.text()).length > 1000);
    }
    for (const file of ['audience-page.js', 'audience-chart.js', 'audience-report-view.js', 'audience-table.js', 'audience-format.js', 'audience-page.css']) {
      const response = await fetch(`${server.url}/audience-page/${file}`);
      assert.equal(response.status, 200, file);
      assert.equal(response.headers.get('cache-control'), 'no-cache');
      await response.arrayBuffer();
    }
  });

  it('answers anything else with a JSON 404: another uPlot version, files beside the modules, traversal; a bad channel is a 400', async () => {
    for (const path of ['/audience-page/uplot@0.0.1/uPlot.esm.js', '/audience-page/audience-page-html.ts', '/audience-page/../audience-page-html.ts', '/audience-page/%2e%2e%2faudience-page-html.ts', '/audience-page/uPlot.esm.js']) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 404, path);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/, path);
      await response.arrayBuffer();
    }
    const badChannel = await fetch(`${server.url}/c/ACME/morning-show/broadcasts/x/audience`);
    assert.equal(badChannel.status, 400);
    assert.equal(((await badChannel.json()) as { error: { code: string } }).error.code, 'invalid_channel');
  });
});
