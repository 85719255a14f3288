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
import type { DemoLiveStream } from './demo-live-stream.js';
import { DEMO_BROADCASTER, SIMULATOR_ACTIONS, TwitchSimulator } from './twitch-simulator.js';

/** The demo channel the demo page shows. */
export const DEMO_CHANNEL = { publisher: 'acme', slug: 'morning-show' } as const;

/** The demo channel's config: uploads open, linked to the simulated Twitch broadcaster. */
export const DEMO_CHANNEL_INPUT = {
  title: 'Acme Morning Show',
  uploads: 'open',
  providers: { twitch: { user_id: DEMO_BROADCASTER.user_id, login: DEMO_BROADCASTER.login } },
} as const satisfies ChannelInput;

/**
 * The demo pages are cross-origin isolated (COOP same-origin + COEP require-corp), so
 * `<live-upload>` gets SharedArrayBuffer and the multi-threaded FFmpeg.wasm core.
 */
const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } as const;

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The only files the demo serves: a fixed table, so no request path ever becomes a file path. */
const DEMO_FILES: Record<string, { file: string; type: string; page?: true }> = {
  '/': { file: 'demo/index.html', type: 'text/html; charset=utf-8', page: true },
  '/demo.css': { file: 'demo/demo.css', type: 'text/css; charset=utf-8' },
  '/demo.js': { file: 'demo/dist/demo.js', type: 'text/javascript; charset=utf-8' },
  '/moderation': { file: 'demo/moderation.html', type: 'text/html; charset=utf-8', page: true },
  '/moderation.js': { file: 'demo/dist/moderation.js', type: 'text/javascript; charset=utf-8' },
};

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
 * also starts and stops the local live stream served under `/demo/live/`.
 */
export async function demoRoutes(parts: DemoParts): Promise<Router<AppState>> {
  // With a live stream, its playback URL is linked once the server knows its URL (`linkDemoPlayback`).
  await parts.channels.upsert(DEMO_CHANNEL, { ...DEMO_CHANNEL_INPUT, ...(parts.live ? {} : { playback: null }) });
  const router = new Router<AppState>();

  for (const [path, { file, type, page }] of Object.entries(DEMO_FILES)) {
    router.get(path, async (ctx) => {
      let body: Buffer;
      try {
        body = await readFile(repoRoot + file);
      } catch {
        throw new AppError('not_found', `${path} is not built; run npm run build`);
      }
      ctx.type = type;
      ctx.set('Cache-Control', 'no-cache');
      if (page) ctx.set(ISOLATION_HEADERS);
      ctx.body = body;
    });
  }

  let simulator: TwitchSimulator | undefined;
  router.post('/demo/api/simulate', async (ctx) => {
    const { action, title } = await readJsonBody(ctx, simulateSchema, 4096);
    const webhookUrl = `http://127.0.0.1:${ctx.socket.localPort}/webhooks/twitch`;
    simulator ??= new TwitchSimulator(parts.config.twitchEventSubSecret, `${parts.config.publicUrl}/webhooks/twitch`);
    if (action === 'online' && parts.live) {
      // A streamer streams before the platform says they are live: the playlist exists before the badge turns LIVE.
      await parts.live.start();
      await parts.live.ready().catch((error: unknown) => parts.logger.warn({ err: error }, 'demo live stream not ready; going live without it'));
    }
    const delivery = simulator.build(action, title);
    const response = await fetch(webhookUrl, { method: 'POST', headers: delivery.headers, body: delivery.body });
    parts.logger.info({ action, webhook_status: response.status }, 'simulated twitch delivery');
    if (response.ok && action === 'offline') await parts.live?.stop();
    ctx.status = response.ok ? 202 : 502;
    ctx.body = { action, webhook_status: response.status };
  });

  router.use(demoLiveRoute(parts.live).routes());
  return router;
}
