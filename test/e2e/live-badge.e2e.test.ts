/**
 * The badge end to end, in real Chromium: Twitch's signed EventSub deliveries (the fake, which
 * shares no code with our verifier) -> the real server on a real NATS JetStream -> SSE -> the
 * built `<live-badge>` bundle, on the demo page (same origin) and on another site that drops the
 * tag in with `endpoint` pointing at the API (cross-origin, so CORS is exercised).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { loadConfig } from '../../server/src/config.js';
import { DEMO_BROADCASTER, demoRoutes } from '../../server/src/demo/index.js';
import { createLogger } from '../../server/src/observability/index.js';
import { startServer, type RunningServer } from '../../server/src/start-server.js';
import { createEventSubSender, deliver, type EventSubSender, type EventSubWebhookRequest } from '../fakes/twitch/eventsub.js';
import { ensureBrowserBundles, launchChromium } from '../support/browser.js';
import { startNatsServer, type NatsServerHandle } from '../support/nats-server.js';
import { TEST_ADMIN_TOKEN, TEST_SECRET } from '../support/test-server.js';
import { badgePillText, badgeStatus, collectPageErrors, waitForBadge } from './helpers/badge.js';

const GRACE_MS = 1_000;
const CHANNEL = 'acme/morning-show';
const SCREENSHOT = '/tmp/e2e-live.png';
/** A title with markup in it: the badge must show it as text. */
const TITLE = 'E2E: pancakes & <b>bold</b> claims';

/** The other site: its own origin, its own copy of the badge bundle, the API elsewhere. */
function serveEmbeddingSite(liveBadgeJs: Uint8Array, endpoint: string): Promise<Server> {
  const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>A site that embeds the badge</title>
    <script type="module" src="/live-badge.js"></script>
  </head>
  <body>
    <main>
      <h1>Somebody else's site</h1>
      <live-badge id="embedded" channel="${CHANNEL}" endpoint="${endpoint}"></live-badge>
    </main>
  </body>
</html>`;
  const server = createServer((request, response) => {
    if (request.url === '/') {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
    } else if (request.url === '/live-badge.js') {
      response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(liveBadgeJs);
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function closeSite(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

describe('<live-badge> in Chromium, fed by Twitch EventSub through the server on NATS', () => {
  let nats: NatsServerHandle | undefined;
  let server: RunningServer | undefined;
  let site: Server | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let twitch: EventSubSender;
  let siteUrl: string;

  before(
    async () => {
      const { liveBadgeJs } = await ensureBrowserBundles();
      nats = await startNatsServer();
      const config = loadConfig({
        NODE_ENV: 'test',
        PORT: '0',
        HOST: '127.0.0.1',
        NATS_URL: nats.url,
        TWITCH_EVENTSUB_SECRET: TEST_SECRET,
        ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        OFFLINE_GRACE_MS: String(GRACE_MS),
        COALESCE_MS: '100',
        LOG_LEVEL: 'silent',
        DEMO: '1',
      });
      server = await startServer(config, {
        logger: createLogger({ level: process.env['TEST_LOG_LEVEL'] === 'debug' ? 'debug' : 'silent' }),
        extraRoutes: async (parts) => [await demoRoutes(parts)],
      });
      // Twitch's side, for the broadcaster the demo channel is linked to.
      twitch = createEventSubSender({
        secret: TEST_SECRET,
        callback: `${server.url}/webhooks/twitch`,
        broadcaster: { id: DEMO_BROADCASTER.user_id, login: DEMO_BROADCASTER.login, name: DEMO_BROADCASTER.name },
      });
      site = await serveEmbeddingSite(liveBadgeJs, server.url);
      siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    },
    { timeout: 60_000 },
  );

  after(
    async () => {
      // Browser first, so no page reconnects while the server drains.
      await context?.close().catch(() => undefined);
      await browser?.close().catch(() => undefined);
      if (site) await closeSite(site);
      await server?.close();
      await nats?.stop();
    },
    { timeout: 30_000 },
  );

  async function sendFromTwitch(request: EventSubWebhookRequest): Promise<void> {
    const response = await deliver(`${server!.url}/webhooks/twitch`, request);
    assert.equal(response.status, 204, `the webhook should accept ${request.subscriptionType}: ${await response.text()}`);
  }

  async function open(url: string): Promise<{ page: Page; errors: string[]; liveEvents: Promise<Response> }> {
    const page = await context!.newPage();
    const errors = collectPageErrors(page);
    const liveEvents = page.waitForResponse((response) => response.url().startsWith(`${server!.url}/api/v1/live/events?`), {
      timeout: 10_000,
    });
    // Awaited by the test; never an unhandled rejection if the test fails before that.
    liveEvents.catch(() => undefined);
    await page.goto(url, { waitUntil: 'load', timeout: 10_000 });
    return { page, errors, liveEvents };
  }

  test(
    'a badge on the demo page and one on another origin go offline -> LIVE -> title -> offline after the grace window',
    { timeout: 60_000 },
    async () => {
      const demo = await open(`${server!.url}/`);
      const embed = await open(`${siteUrl}/`);
      const badges = [
        { page: demo.page, badge: '#demo-badge' },
        { page: demo.page, badge: 'live-badge[no-title]' },
        { page: embed.page, badge: '#embedded' },
      ] as const;

      // The embedding page reads the API from another origin: only CORS lets it.
      assert.notEqual(new URL(siteUrl).origin, new URL(server!.url).origin);
      const crossOrigin = await embed.liveEvents;
      assert.equal(crossOrigin.status(), 200);
      assert.equal(await crossOrigin.headerValue('access-control-allow-origin'), '*');
      assert.equal((await demo.liveEvents).status(), 200);

      for (const { page, badge } of badges) {
        await waitForBadge(page, badge, /^Offline$/);
        assert.equal(await badgePillText(page, badge), 'OFFLINE');
      }

      await sendFromTwitch(twitch.streamOnline());
      for (const { page, badge } of badges) {
        await waitForBadge(page, badge, /^Live\b/);
        assert.equal(await badgePillText(page, badge), 'LIVE', `${badge} shows LIVE`);
        assert.equal(await page.locator(badge).getAttribute('status'), 'live');
      }

      await sendFromTwitch(twitch.channelUpdate({ title: TITLE }));
      const expectedSentence = new RegExp(`^Live: ${TITLE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
      await waitForBadge(demo.page, '#demo-badge', expectedSentence);
      await waitForBadge(embed.page, '#embedded', expectedSentence);
      assert.equal(await demo.page.locator('#demo-badge [part="title"]').innerText(), TITLE, 'the title is visible, as text');
      assert.equal(await demo.page.locator('#demo-badge b').count(), 0, 'markup in a title never becomes elements');
      assert.equal(await badgeStatus(demo.page, 'live-badge[no-title]').textContent(), 'Live', 'no-title hides the title');
      await demo.page.screenshot({ path: SCREENSHOT, fullPage: true });

      const offline = twitch.streamOffline();
      const sentAt = performance.now();
      await sendFromTwitch(offline);
      for (const { page, badge } of badges) await waitForBadge(page, badge, /^Offline$/, GRACE_MS + 10_000);
      const heldMs = performance.now() - sentAt;
      assert.ok(heldMs >= GRACE_MS - 100, `offline was held for the grace window (${GRACE_MS} ms), not ${Math.round(heldMs)} ms`);
      for (const { page, badge } of badges) assert.equal(await badgePillText(page, badge), 'OFFLINE');

      assert.deepEqual(demo.errors, [], 'the demo page ran without errors');
      assert.deepEqual(embed.errors, [], 'the embedding page ran without errors');
      await demo.page.close();
      await embed.page.close();
    },
  );
});
