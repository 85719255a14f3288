import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { z } from 'zod';
import type { ChannelInput, ChannelRegistry } from '../channels/index.js';
import type { Config } from '../config.js';
import { AppError } from '../errors/index.js';
import type { AppState } from '../http/app-state.js';
import { readJsonBody } from '../http/middleware/read-body.js';
import type { Logger } from '../observability/index.js';
import { demoLiveRoute } from './demo-live-route.js';
import { demoFileHeaders, type DemoFileKind } from './demo-page-headers.js';
import type { DemoLiveStream } from './demo-live-stream.js';
import { SimulatedStreamer } from './simulated-streamer.js';
import { DEMO_BROADCASTER, SIMULATOR_ACTIONS, TwitchSimulator, type SimulatorAction } from './twitch-simulator.js';

/** The demo channel the demo page shows. */
export const DEMO_CHANNEL = { publisher: 'acme', slug: 'morning-show' } as const;

/** The demo channel's config: uploads open, linked to the simulated Twitch broadcaster. */
export const DEMO_CHANNEL_INPUT = {
  title: 'Acme Morning Show',
  uploads: 'open',
  // The demo shows what a replay is: its broadcasts are listed at /api/v1/channels/acme/morning-show/vods.
  vod: 'public',
  providers: { twitch: { user_id: DEMO_BROADCASTER.user_id, login: DEMO_BROADCASTER.login } },
} as const satisfies ChannelInput;

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The only files the demo serves: a fixed table, so no request path ever becomes a file path. */
const DEMO_FILES: Record<string, { file: string; type: string; kind: DemoFileKind; cache?: string }> = {
  '/': { file: 'demo/index.html', type: 'text/html; charset=utf-8', kind: 'element-page' },
  '/demo.css': { file: 'demo/demo.css', type: 'text/css; charset=utf-8', kind: 'asset' },
  '/demo.js': { file: 'demo/dist/demo.js', type: 'text/javascript; charset=utf-8', kind: 'asset' },
  '/moderation': { file: 'demo/moderation.html', type: 'text/html; charset=utf-8', kind: 'moderation-page' },
  '/moderation.js': { file: 'demo/dist/moderation.js', type: 'text/javascript; charset=utf-8', kind: 'asset' },
  // The pages link the SVG; browsers still ask for /favicon.ico on their own.
  '/favicon.svg': { file: 'demo/favicon.svg', type: 'image/svg+xml', kind: 'asset', cache: 'public, max-age=86400' },
  '/favicon.ico': { file: 'demo/favicon.svg', type: 'image/svg+xml', kind: 'asset', cache: 'public, max-age=86400' },
};

function originOf(url: string | undefined): string | undefined {
  try {
    return url === undefined ? undefined : new URL(url).origin;
  } catch {
    return undefined;
  }
}

const simulateSchema = z.strictObject({
  action: z.enum(SIMULATOR_ACTIONS),
  title: z.string().trim().min(1).max(140).optional(),
});

export interface DemoParts {
  readonly config: Config;
  readonly channels: ChannelRegistry;
  readonly logger: Logger;
  /** The local live stream; undefined without ffmpeg (the demo channel then has no player). */
  readonly live?: DemoLiveStream | undefined;
}

/**
 * Demo mode only: the demo site at `/`, the demo channel linked to a simulated Twitch
 * broadcaster, and `POST /demo/api/simulate`, which sends correctly signed EventSub messages
 * to this server's own `/webhooks/twitch`, exactly as Twitch would; going live and offline
 * also starts and stops the local live stream served under `/demo/live/`. `GET
 * /demo/api/streamer` says what the streamer did last and how long the grace window has left.
 */
export async function demoRoutes(parts: DemoParts): Promise<Router<AppState>> {
  // With a live stream, its playback URL is linked once the server knows its URL (`linkDemoPlayback`).
  await parts.channels.upsert(DEMO_CHANNEL, { ...DEMO_CHANNEL_INPUT, ...(parts.live ? {} : { playback: null }) });
  const router = new Router<AppState>();

  for (const [path, { file, type, kind, cache }] of Object.entries(DEMO_FILES)) {
    router.get(path, async (ctx) => {
      let body: Buffer;
      try {
        body = await readFile(repoRoot + file);
      } catch {
        throw new AppError('not_found', `${path} is not built; run npm run build`);
      }
      // The page's player fetches the demo channel's HLS from wherever its playback URL says.
      const playback = kind === 'element-page' ? (await parts.channels.get(DEMO_CHANNEL))?.playback?.hls : undefined;
      ctx.type = type;
      ctx.set('Cache-Control', cache ?? 'no-cache');
      ctx.set(demoFileHeaders(kind, originOf(playback)));
      ctx.body = body;
    });
  }

  let simulator: TwitchSimulator | undefined;
  const streamer = new SimulatedStreamer(parts.config.offlineGraceMs);
  router.get('/demo/api/streamer', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = streamer.view();
  });
  router.post('/demo/api/simulate', async (ctx) => {
    const { action, title } = await readJsonBody(ctx, simulateSchema, 4096);
    const webhookUrl = `http://127.0.0.1:${ctx.socket.localPort}/webhooks/twitch`;
    simulator ??= new TwitchSimulator(parts.config.twitchEventSubSecret, `${parts.config.publicUrl}/webhooks/twitch`);
    if (action === 'online' && parts.live) {
      // A streamer streams before the platform says they are live: the playlist exists before the badge turns LIVE.
      await parts.live.start();
      await parts.live.ready().catch((error: unknown) => parts.logger.warn({ err: error }, 'demo live stream not ready; going live without it'));
    }
    // Going live with a title: the streamer sets it first (a channel update), then goes live, so LIVE shows it at once.
    const steps: Array<{ action: SimulatorAction; title: string | undefined }> =
      action === 'online' && title !== undefined ? [{ action: 'update', title }, { action: 'online', title: undefined }] : [{ action, title: action === 'update' ? title : undefined }];
    let webhookStatus = 0;
    for (const step of steps) {
      const delivery = simulator.build(step.action, step.title);
      const response = await fetch(webhookUrl, { method: 'POST', headers: delivery.headers, body: delivery.body });
      await response.arrayBuffer();
      webhookStatus = response.status;
      parts.logger.info({ action: step.action, webhook_status: response.status }, 'simulated twitch delivery');
      if (!response.ok) break;
      streamer.accepted(step.action, step.title);
    }
    const ok = webhookStatus >= 200 && webhookStatus < 300;
    if (ok && action === 'offline') await parts.live?.stop();
    ctx.status = ok ? 202 : 502;
    ctx.body = { action, webhook_status: webhookStatus, streamer: streamer.view() };
  });

  router.use(demoLiveRoute(parts.live).routes());
  return router;
}
