import { formatChannelRef } from '@live-upload/schema';
import { DEMO_LIVE_PATH } from './demo-live-route.js';
import { DEMO_CHANNEL, DEMO_CHANNEL_INPUT } from './demo-routes.js';

/**
 * Links the demo stream as the demo channel's playback URL through the admin API, as an
 * operator would, so the canonical record (and every badge and player) follows at once.
 * Called once the server listens: only then is its public URL known.
 */
export async function linkDemoPlayback(server: { url: string; publicUrl: string; adminToken: string }): Promise<void> {
  const response = await fetch(`${server.url}/api/v1/channels/${formatChannelRef(DEMO_CHANNEL)}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.adminToken}` },
    body: JSON.stringify({ ...DEMO_CHANNEL_INPUT, playback: { hls: `${server.publicUrl}${DEMO_LIVE_PATH}` } }),
  });
  if (!response.ok) throw new Error(`linking the demo playback URL failed: ${response.status} ${await response.text()}`);
}
