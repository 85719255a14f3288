// Browser tests for the element, in Debian's Chromium: `npx web-test-runner --config element/web-test-runner.config.mjs`
// (from the repo root). Tests import TypeScript source; esbuild strips types with the root tsconfig.
import { existsSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';

const rootDir = fileURLToPath(new URL('..', import.meta.url));
const rootTsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
const testServerModule = new URL('../test/support/test-server.ts', import.meta.url);

/**
 * Boots the real server (test/support/test-server.ts: Koa app, memory bus, short grace window,
 * signed Twitch EventSub webhooks) once per run, and lets tests drive it through
 * `executeServerCommand`: `live-server-url`, `live-go-live` ({ title? }), `live-go-offline`,
 * `live-update-title` ({ title }), `live-create-channel` ({ channel, title }).
 * Tests that do not need it never wait for it; a boot failure fails only the tests that ask.
 */
function liveTestServerPlugin() {
  /** @type {Promise<import('../test/support/test-server.ts').TestServer> | undefined} */
  let booting;
  const server = () => {
    if (!booting) throw new Error(`${fileURLToPath(testServerModule)} is missing: the live-server tests cannot run`);
    return booting;
  };
  return {
    name: 'live-test-server',
    serverStart() {
      if (!existsSync(testServerModule)) return;
      booting = import('tsx/esm/api')
        .then(({ tsImport }) => tsImport(testServerModule.href, import.meta.url))
        .then(({ startTestServer }) => startTestServer());
      booting.catch(() => {}); // reported to the test that asks for it
    },
    async serverStop() {
      if (booting) await (await booting.catch(() => undefined))?.close();
    },
    async executeCommand({ command, payload }) {
      switch (command) {
        case 'live-server-url':
          return (await server()).url;
        case 'live-go-live':
          await (await server()).goLive(payload?.title);
          return true;
        case 'live-go-offline':
          await (await server()).goOffline();
          return true;
        case 'live-update-title':
          await (await server()).updateTitle(String(payload?.title ?? ''));
          return true;
        case 'live-create-channel': {
          const response = await (await server()).request(`/api/v1/channels/${payload.channel}`, {
            method: 'PUT',
            admin: true,
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ title: payload.title ?? payload.channel, providers: {} }),
          });
          if (!response.ok) throw new Error(`PUT channel ${payload.channel}: ${response.status} ${await response.text()}`);
          return true;
        }
        default:
          return undefined;
      }
    },
  };
}

export default {
  rootDir,
  files: ['element/src/**/*.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  browserStartTimeout: 60_000,
  testsStartTimeout: 60_000,
  testsFinishTimeout: 120_000,
  testFramework: { config: { timeout: 10_000 } },
  filterBrowserLogs: ({ args }) => !String(args[0] ?? '').startsWith('Lit is in dev mode'),
  plugins: [esbuildPlugin({ ts: true, tsconfig: rootTsconfig, target: 'es2022' }), liveTestServerPlugin()],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-dev-shm-usage',
          '--use-fake-device-for-media-stream',
          '--use-fake-ui-for-media-stream',
        ],
      },
    }),
  ],
};
