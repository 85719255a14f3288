import { formatChannelRef } from '@live-upload/schema';
import { DEMO_CHANNEL } from './demo-routes.js';

/**
 * The demo channel's state outlives the process when the bus keeps it (the embedded
 * nats-server's file store), but the simulated streamer and its local live stream do not: a
 * run stopped while LIVE would come back LIVE with nothing behind it. As Twitch does when an
 * encoder dies, the streamer ends that broadcast: an `offline` through the simulator, so the
 * badge goes offline after the grace window and the panel counts it down. Called once the
 * server listens; answers whether there was a broadcast to end.
 */
export async function endPreviousDemoBroadcast(server: { url: string }): Promise<boolean> {
  const status = await fetch(`${server.url}/api/v1/channels/${formatChannelRef(DEMO_CHANNEL)}/status`);
  if (!status.ok) throw new Error(`reading the demo channel's status failed: ${status.status} ${await status.text()}`);
  if (((await status.json()) as { status?: unknown }).status !== 'live') return false;
  const ended = await fetch(`${server.url}/demo/api/simulate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ action: 'offline' }),
  });
  if (!ended.ok) throw new Error(`ending the previous demo broadcast failed: ${ended.status} ${await ended.text()}`);
  return true;
}
