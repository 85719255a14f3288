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
  /** Sets (or, without `hls`, clears) the test channel's `playback.hls`. */
  setPlayback: (hls?: string) => executeServerCommand<boolean, { hls?: string }>('live-set-playback', hls === undefined ? {} : { hls }),
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
