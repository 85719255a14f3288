/**
 * What the simulated streamer's panel shows: the streamer's own last action (from the demo
 * API) against the channel's real status (from the live-status stream), and, between Go
 * offline and the channel going offline, the grace window counting down.
 */

/** `GET /demo/api/streamer`, as far as the panel reads it. */
export interface StreamerView {
  readonly streaming: boolean;
  readonly grace_window_ms: number;
  readonly offline_in_ms: number | null;
}

export const STREAMER_STATES = ['unknown', 'going-live', 'live', 'grace', 'going-offline', 'offline'] as const;
export type StreamerState = (typeof STREAMER_STATES)[number];

/** Every word the panel shows or announces. */
export const STREAMER_LABELS = {
  pill: { unknown: '', 'going-live': 'Going live', live: 'Live', grace: 'Live', 'going-offline': 'Live', offline: 'Offline' },
  detail: {
    unknown: '',
    'going-live': 'Waiting for the badge…',
    live: 'You are streaming.',
    grace: (seconds: number) => `Offline in ${seconds} s: the badge holds Live for the grace window.`,
    'going-offline': 'Offline any moment now.',
    offline: 'You are not streaming.',
  },
  announce: {
    unknown: '',
    'going-live': 'Going live.',
    live: 'Live.',
    grace: (seconds: number) => `Stream stopped. The badge shows Offline in ${seconds} seconds.`,
    'going-offline': 'Offline any moment now.',
    offline: 'Offline.',
  },
} as const;

/** The panel's state: the channel's status decides, the streamer's last action and the countdown refine it. */
export function streamerState(channelStatus: string | undefined, streaming: boolean | undefined, offlineInMs: number | null): StreamerState {
  if (channelStatus === undefined) return 'unknown';
  if (channelStatus !== 'live') return streaming ? 'going-live' : 'offline';
  if (streaming !== false || offlineInMs === null) return 'live';
  return offlineInMs > 0 ? 'grace' : 'going-offline';
}

/** Whole seconds left, as a countdown shows them: 27.2 s left reads 28, never 0 while time is left. */
export function countdownSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
