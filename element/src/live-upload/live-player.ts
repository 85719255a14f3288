import type Hls from 'hls.js';
import type { HlsConfig, LoadPolicy } from 'hls.js';
import type { ClipBuffer } from './clip-buffer.js';

/**
 * What the viewer sees of the stream: `loading` until the first frame, `playing`, `waiting`
 * when the stream went away (its playlist or segments fail, as when the publisher stops) and is
 * asked for again, with backoff, until it is back.
 */
export type LivePlayerState = 'loading' | 'playing' | 'waiting';

/** A live HLS stream playing in a `<video>`, feeding the clip buffer with what it downloads. */
export interface LivePlayer {
  /** `hls.js` over Media Source Extensions, or the browser's own HLS. */
  readonly engine: 'hls.js' | 'native';
  /** Program time (ms since the epoch) of the frame on screen, when the stream carries one. */
  playheadDate(): number | undefined;
  destroy(): void;
}

export interface LivePlayerEvents {
  /** The state changed. */
  onState(state: LivePlayerState): void;
  /** Something that no retry fixes (no HLS, no MSE, a media error that recovery did not mend); `detail` is technical. */
  onFatal(detail: string): void;
}

/**
 * How hard hls.js tries before it gives a load up: a few retries with exponential backoff
 * (1 s, 2 s, 4 s at most), never the tight loop of requests a vanished playlist otherwise
 * draws. A load it gives up becomes our own slower recovery (`RECOVERY_DELAYS_MS`).
 */
export function loadPolicy(maxNumRetry: number): LoadPolicy {
  return {
    default: {
      maxTimeToFirstByteMs: 10_000,
      maxLoadTimeMs: 20_000,
      timeoutRetry: { maxNumRetry: 1, retryDelayMs: 1000, maxRetryDelayMs: 4000, backoff: 'exponential' },
      errorRetry: { maxNumRetry, retryDelayMs: 1000, maxRetryDelayMs: 4000, backoff: 'exponential' },
    },
  };
}

/** After hls.js gave the stream up: ask for the playlist again after these delays (the last repeats). */
export const RECOVERY_DELAYS_MS = [2000, 4000, 8000, 15_000] as const;

/** Whether hls.js can play here: Media Source Extensions (or Apple's Managed Media Source) with H.264. */
export function hasMediaSource(): boolean {
  const global = globalThis as typeof globalThis & { ManagedMediaSource?: typeof MediaSource };
  const source = global.MediaSource ?? global.ManagedMediaSource;
  return typeof source?.isTypeSupported === 'function' && source.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"');
}

/**
 * Plays `src` in `video`. hls.js (loaded now, with dynamic `import()`) wherever Media Source
 * Extensions exist, because it hands us each downloaded segment for clipping; the browser's
 * native HLS otherwise (iOS), where clips fetch the segments again. When the stream goes away,
 * hls.js retries a little (`loadPolicy`), then this waits for the playlist to come back
 * (`RECOVERY_DELAYS_MS`, one request each) and starts over.
 */
export async function attachLivePlayer(video: HTMLVideoElement, src: string, buffer: ClipBuffer, events: LivePlayerEvents): Promise<LivePlayer> {
  if (!hasMediaSource() && video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = src;
    const playing = () => events.onState('playing');
    video.addEventListener('playing', playing);
    return {
      engine: 'native',
      playheadDate: () => {
        const start = (video as HTMLVideoElement & { getStartDate?: () => Date }).getStartDate?.().getTime();
        return start !== undefined && Number.isFinite(start) ? start + video.currentTime * 1000 : undefined;
      },
      destroy: () => {
        video.removeEventListener('playing', playing);
        video.removeAttribute('src');
        video.load();
      },
    };
  }
  const { default: HlsClass } = await import('hls.js');
  if (!HlsClass.isSupported()) throw new Error('this browser plays neither HLS nor Media Source Extensions');
  return new HlsLivePlayer(HlsClass, video, src, buffer, events);
}

class HlsLivePlayer implements LivePlayer {
  readonly engine = 'hls.js';
  #hls: Hls | undefined;
  #recovery: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #mediaRecoveries = 0;
  #destroyed = false;
  readonly #abort = new AbortController();
  readonly #config: Partial<HlsConfig>;

  constructor(
    private readonly HlsClass: typeof Hls,
    private readonly video: HTMLVideoElement,
    private readonly src: string,
    buffer: ClipBuffer,
    private readonly events: LivePlayerEvents,
  ) {
    const BaseLoader = HlsClass.DefaultConfig.loader;
    /** The default loader, keeping a copy of each media segment (before hls.js hands it to its transmuxer). */
    class CapturingLoader extends BaseLoader {
      override load(...[context, config, callbacks]: Parameters<InstanceType<typeof BaseLoader>['load']>): void {
        const onSuccess = callbacks.onSuccess;
        callbacks.onSuccess = (response, stats, ctx, details) => {
          const frag = (ctx as { frag?: { sn: number | 'initSegment'; programDateTime: number | null; duration: number } }).frag;
          if (frag && response.data instanceof ArrayBuffer) {
            const bytes = new Uint8Array(response.data.slice(0));
            if (frag.sn === 'initSegment') buffer.setInit(bytes);
            else if (frag.programDateTime !== null) buffer.add({ sn: frag.sn, programDateMs: frag.programDateTime, durationMs: frag.duration * 1000, bytes });
          }
          onSuccess(response, stats, ctx, details);
        };
        super.load(context, config, callbacks);
      }
    }
    this.#config = {
      fLoader: CapturingLoader as unknown as HlsConfig['fLoader'],
      lowLatencyMode: false,
      manifestLoadPolicy: loadPolicy(1),
      playlistLoadPolicy: loadPolicy(2),
      fragLoadPolicy: loadPolicy(3),
    };
    video.addEventListener('playing', () => this.#playing(), { signal: this.#abort.signal });
    events.onState('loading');
    this.#start();
  }

  #start(): void {
    const hls = new this.HlsClass(this.#config);
    this.#hls = hls;
    hls.on(this.HlsClass.Events.ERROR, (_event, data) => {
      if (!data.fatal || this.#hls !== hls) return;
      if (data.type === this.HlsClass.ErrorTypes.MEDIA_ERROR && this.#mediaRecoveries++ < 2) {
        hls.recoverMediaError();
        return;
      }
      if (data.type === this.HlsClass.ErrorTypes.NETWORK_ERROR) {
        console.info(`live-upload: the stream went away (${data.details}); asking again with backoff`);
        this.#waitForStream();
        return;
      }
      this.events.onFatal(`${data.type}: ${data.details}${data.error ? ` (${data.error.message})` : ''}`);
    });
    hls.loadSource(this.src);
    hls.attachMedia(this.video);
  }

  #playing(): void {
    this.#attempt = 0;
    this.#mediaRecoveries = 0;
    this.events.onState('playing');
  }

  /** hls.js gave up: stop it (no more of its requests), and ask for the playlist ourselves until it is back. */
  #waitForStream(): void {
    this.#hls?.destroy();
    this.#hls = undefined;
    this.events.onState('waiting');
    const delay = RECOVERY_DELAYS_MS[Math.min(this.#attempt, RECOVERY_DELAYS_MS.length - 1)]!;
    this.#attempt++;
    clearTimeout(this.#recovery);
    this.#recovery = setTimeout(() => void this.#probe(), delay);
  }

  async #probe(): Promise<void> {
    let back: boolean;
    try {
      const response = await fetch(this.src, { cache: 'no-store', credentials: 'omit', signal: this.#abort.signal });
      back = response.ok && (await response.text()).includes('#EXTINF');
    } catch {
      back = false;
    }
    if (this.#destroyed) return;
    if (back) this.#start();
    else this.#waitForStream();
  }

  playheadDate(): number | undefined {
    return this.#hls?.playingDate?.getTime();
  }

  destroy(): void {
    this.#destroyed = true;
    this.#abort.abort();
    clearTimeout(this.#recovery);
    this.#hls?.destroy();
    this.#hls = undefined;
  }
}
