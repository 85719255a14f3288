import { executeServerCommand } from '@web/test-runner-commands';

/** The wtr config's real live HLS stream (ffmpeg, 2 s segments, program date time), same origin as the page. */
export const liveHls = {
  /** The playlist URL; resolves once three segments exist. */
  url: () => executeServerCommand<string, undefined>('live-hls-url'),
};

/** Takes the page's network away for `offlineMs` (Chrome DevTools offline mode), then gives it back. */
export const dropNetwork = (offlineMs: number) => executeServerCommand<boolean, { offlineMs: number }>('live-network', { offlineMs });

export interface ProbeReport {
  readonly format: { readonly duration?: string; readonly format_name?: string };
  readonly streams: ReadonlyArray<{ readonly codec_type: string; readonly codec_name: string; readonly width?: number; readonly height?: number }>;
}

/** The real ffprobe's report on `media`, run on the server side of the test runner. */
export async function ffprobe(media: Blob): Promise<ProbeReport> {
  const response = await fetch('/__ffprobe', { method: 'POST', body: media });
  if (!response.ok) throw new Error(`ffprobe: ${response.status} ${await response.text()}`);
  return (await response.json()) as ProbeReport;
}

/** A live HLS stream on a clock the test controls (see `controllableHls` in the wtr config). */
export const controlledHls = {
  start: (position?: number) => executeServerCommand<{ id: string; url: string }, { position?: number }>('ctl-hls-start', position === undefined ? {} : { position }),
  set: (id: string, change: { position?: number; gone?: boolean }) => executeServerCommand<boolean, { id: string; position?: number; gone?: boolean }>('ctl-hls-set', { id, ...change }),
  /** When (ms since the epoch, server clock) each playlist request arrived. */
  requests: (id: string) => executeServerCommand<number[], { id: string }>('ctl-hls-requests', { id }),
};

/** The URLs of the dedicated workers Chromium runs for the test page now (from DevTools, not from the page). */
export const pageWorkers = () => executeServerCommand<string[], undefined>('live-workers');
