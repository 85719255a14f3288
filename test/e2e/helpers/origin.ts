import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import type { LatestReplay } from '@live-upload/schema';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_PATH, ensureBrowserBundles } from '../../support/browser.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

const run = promisify(execFile);

/** What a viewer's `<video>` shows: its time, picture, state and what it has buffered. */
export interface VideoState {
  readonly currentTime: number;
  readonly width: number;
  readonly height: number;
  readonly paused: boolean;
  readonly error: string | null;
  readonly buffered: number[][];
}

/** The `<video part~="{part}">` in the shadow root of the element `selector` on `page` (undefined: none yet). */
export function videoOf(page: Page, selector: string, part: string): Promise<VideoState | undefined> {
  return page.evaluate(
    ([host, wanted]) => {
      const video = document.querySelector(host!)?.shadowRoot?.querySelector<HTMLVideoElement>(`video[part~="${wanted}"]`);
      if (!video) return undefined;
      const buffered = Array.from({ length: video.buffered.length }, (_, i) => [video.buffered.start(i), video.buffered.end(i)]);
      return { currentTime: video.currentTime, width: video.videoWidth, height: video.videoHeight, paused: video.paused, error: video.error?.message ?? null, buffered };
    },
    [selector, part] as const,
  );
}

/** The channel's `latest_replay` on `/status` (undefined: none yet, or rate-limited this time). */
export async function latestReplay(serverUrl: string, channel: string): Promise<LatestReplay | undefined> {
  const response = await fetch(`${serverUrl}/api/v1/channels/${channel}/status`);
  if (response.status === 429) return undefined;
  assert.equal(response.status, 200, `/status answered ${response.status}`);
  return ((await response.json()) as { latest_replay?: LatestReplay | null }).latest_replay ?? undefined;
}

/**
 * The pid of session `sessionId`'s live ladder ffmpeg: a child of this process (the test's
 * server runs in it), found by its arguments (its work directory is named by the session).
 */
export async function ladderFfmpegPid(sessionId: string): Promise<number> {
  const { stdout } = await run('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)]);
  const line = stdout.split('\n').find((entry) => entry.includes('ffmpeg') && entry.includes(sessionId) && entry.includes('-hls_time'));
  assert.ok(line, `the ladder's ffmpeg among this process's children:\n${stdout}`);
  return Number(line.trim().split(/\s+/)[0]);
}

/** A real server with our origin, a channel on it, a host site on another origin with `<live-upload>` pages, and a Chromium. */
export interface OriginScene {
  readonly server: TestServer;
  readonly browser: Browser;
  /** The host site: `/publish` has `<live-upload publish>`, every other path a viewer's `<live-upload>`. */
  readonly siteUrl: string;
  close(): Promise<void>;
}

/**
 * Starts an `OriginScene`: the server with a 360p + 240p live ladder at `preset`, the grace
 * window `graceMs`, a 5 s media timeout; the channel `channel` (open uploads, public replays, no
 * provider); Chromium with fake camera and microphone and autoplay allowed.
 */
export async function startOriginScene(options: { readonly channel: string; readonly title: string; readonly graceMs: number; readonly preset: string }): Promise<OriginScene> {
  await ensureBrowserBundles();
  const server = await startTestServer({
    graceMs: options.graceMs,
    env: { ORIGIN_LADDER_PRESET: options.preset, ORIGIN_LADDER_RUNGS: '360,240', ORIGIN_MEDIA_TIMEOUT_MS: '5000' },
  });
  const created = await server.request(`/api/v1/channels/${options.channel}`, {
    method: 'PUT',
    admin: true,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: options.title, uploads: 'open', vod: 'public', providers: {} }),
  });
  assert.ok(created.ok, `the channel: ${created.status} ${await created.text()}`);
  const site = createServer((request, response) => {
    const publisher = request.url === '/publish';
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(
      `<!doctype html><html lang="en"><title>${publisher ? 'Studio' : 'Watch'}</title>` +
        `<script type="module" src="${server.url}/element/live-upload.js"></script>` +
        `<live-upload ${publisher ? 'publish ' : ''}channel="${options.channel}" endpoint="${server.url}"></live-upload></html>`,
    );
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'],
  });
  return {
    server,
    browser,
    siteUrl: `http://127.0.0.1:${(site.address() as AddressInfo).port}`,
    close: async () => {
      await browser.close();
      await new Promise<void>((resolve) => site.close(() => resolve()));
      await server.close();
    },
  };
}
