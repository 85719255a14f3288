import { executeServerCommand } from '@web/test-runner-commands';
import type { LiveStatus } from '@live-upload/schema';
import { oneEvent } from '@open-wc/testing';

/** The channel the test server creates (test/support/test-server.ts). */
export const TEST_CHANNEL = 'acme/morning-show';

/**
 * The real server booted by `element/web-test-runner.config.mjs` (test/support/test-server.ts),
 * driven through its commands. One server serves the whole run, so tests set the state they need.
 */
export const liveServer = {
  url: () => executeServerCommand<string, undefined>('live-server-url'),
  goLive: (title?: string) => executeServerCommand<boolean, { title?: string }>('live-go-live', title === undefined ? {} : { title }),
  goOffline: () => executeServerCommand<boolean, undefined>('live-go-offline'),
  updateTitle: (title: string) => executeServerCommand<boolean, { title: string }>('live-update-title', { title }),
  /** Sets (or, without `hls`, clears) the test channel's `playback.hls`; `vod` sets its replay policy (default `unlisted` otherwise). */
  setPlayback: (hls?: string, vod?: 'public' | 'unlisted' | 'off') =>
    executeServerCommand<boolean, { hls?: string; vod?: string }>('live-set-playback', { ...(hls === undefined ? {} : { hls }), ...(vod === undefined ? {} : { vod }) }),
  /**
   * A real replay of the test channel (ffmpeg source, the server's own VOD worker makes its
   * ladder), one per run: resolves once its master playlist is served.
   */
  publishReplay: async (timeoutMs = 150_000) => {
    const replay = await executeServerCommand<{ canonical_id: string; master: string }, undefined>('live-publish-replay');
    const deadline = Date.now() + timeoutMs;
    while ((await fetch(replay.master, { cache: 'no-store' })).status !== 200) {
      if (Date.now() > deadline) throw new Error(`the test replay ${replay.canonical_id} was not published within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return replay;
  },
  /** An upload's record as a moderator reads it (`clip`, `provenance`, `status`, ...). */
  uploadRecord: (id: string) => executeServerCommand<Record<string, unknown>, { id: string }>('live-upload-record', { id }),
  /** A `go-live` publisher grant's token for `channel`, as the host page's backend gets it (admin API). */
  publisherGrant: (channel: string) => executeServerCommand<string, { channel: string }>('live-publisher-grant', { channel }),
  createChannel: (channel: string, title: string) =>
    executeServerCommand<boolean, { channel: string; title: string }>('live-create-channel', { channel, title }),
};

/** Resolves once `badge` shows `status`, waiting on its `live-status-change` events. */
export async function statusReached(badge: HTMLElement & { status?: LiveStatus | undefined }, status: LiveStatus): Promise<void> {
  while (badge.status !== status) await oneEvent(badge, 'live-status-change');
}

/**
 * Records every EventSource the page opens, by wrapping the browser's constructor (our code is
 * untouched; it calls the global `EventSource`). `restore()` puts the native one back.
 */
export function recordEventSources(): { readonly opened: EventSource[]; restore(): void } {
  const Native = window.EventSource;
  const opened: EventSource[] = [];
  window.EventSource = class RecordingEventSource extends Native {
    constructor(url: string | URL, init?: EventSourceInit) {
      super(url, init);
      opened.push(this);
    }
  };
  return {
    opened,
    restore: () => {
      window.EventSource = Native;
    },
  };
}
