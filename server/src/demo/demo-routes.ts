import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { z } from 'zod';
import type { ChannelRegistry } from '../channels/index.js';
import type { Config } from '../config.js';
import { AppError } from '../errors/index.js';
import type { AppState } from '../http/app-state.js';
import { readJsonBody } from '../http/middleware/read-body.js';
import type { Logger } from '../observability/index.js';
import { DEMO_BROADCASTER, SIMULATOR_ACTIONS, TwitchSimulator } from './twitch-simulator.js';

/** The demo channel the demo page shows. */
export const DEMO_CHANNEL = { publisher: 'acme', slug: 'morning-show' } as const;

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The only files the demo serves: a fixed table, so no request path ever becomes a file path. */
const DEMO_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'demo/index.html', type: 'text/html; charset=utf-8' },
  '/demo.css': { file: 'demo/demo.css', type: 'text/css; charset=utf-8' },
  '/demo.js': { file: 'demo/dist/demo.js', type: 'text/javascript; charset=utf-8' },
  '/moderation': { file: 'demo/moderation.html', type: 'text/html; charset=utf-8' },
  '/moderation.js': { file: 'demo/dist/moderation.js', type: 'text/javascript; charset=utf-8' },
};

const simulateSchema = z.strictObject({
  action: z.enum(SIMULATOR_ACTIONS),
  title: z.string().trim().min(1).max(140).optional(),
});

/**
 * Demo mode only: the demo site at `/`, the demo channel linked to a simulated Twitch
 * broadcaster, and `POST /demo/api/simulate`, which sends correctly signed EventSub messages
 * to this server's own `/webhooks/twitch`, exactly as Twitch would.
 */
export async function demoRoutes(parts: { config: Config; channels: ChannelRegistry; logger: Logger }): Promise<Router<AppState>> {
  await parts.channels.upsert(DEMO_CHANNEL, {
    title: 'Acme Morning Show',
    uploads: 'open',
    providers: { twitch: { user_id: DEMO_BROADCASTER.user_id, login: DEMO_BROADCASTER.login } },
  });
  const router = new Router<AppState>();

  for (const [path, { file, type }] of Object.entries(DEMO_FILES)) {
    router.get(path, async (ctx) => {
      let body: Buffer;
      try {
        body = await readFile(repoRoot + file);
      } catch {
        throw new AppError('not_found', `${path} is not built; run npm run build`);
      }
      ctx.type = type;
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = body;
    });
  }

  let simulator: TwitchSimulator | undefined;
  router.post('/demo/api/simulate', async (ctx) => {
    const { action, title } = await readJsonBody(ctx, simulateSchema, 4096);
    const webhookUrl = `http://127.0.0.1:${ctx.socket.localPort}/webhooks/twitch`;
    simulator ??= new TwitchSimulator(parts.config.twitchEventSubSecret, `${parts.config.publicUrl}/webhooks/twitch`);
    const delivery = simulator.build(action, title);
    const response = await fetch(webhookUrl, { method: 'POST', headers: delivery.headers, body: delivery.body });
    parts.logger.info({ action, webhook_status: response.status }, 'simulated twitch delivery');
    ctx.status = response.ok ? 202 : 502;
    ctx.body = { action, webhook_status: response.status };
  });

  return router;
}
