import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LatestReplay } from '@live-upload/schema';
import type { Page } from 'playwright-core';

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
