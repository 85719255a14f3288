import type { ClipBuffer } from './clip-buffer.js';

/** A live HLS stream playing in a `<video>`, feeding the clip buffer with what it downloads. */
export interface LivePlayer {
  /** `hls.js` over Media Source Extensions, or the browser's own HLS. */
  readonly engine: 'hls.js' | 'native';
  /** Program time (ms since the epoch) of the frame on screen, when the stream carries one. */
  playheadDate(): number | undefined;
  destroy(): void;
}

/** Whether hls.js can play here: Media Source Extensions (or Apple's Managed Media Source) with H.264. */
function hasMediaSource(): boolean {
  const global = globalThis as typeof globalThis & { ManagedMediaSource?: typeof MediaSource };
  const source = global.MediaSource ?? global.ManagedMediaSource;
  return typeof source?.isTypeSupported === 'function' && source.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"');
}

/**
 * Plays `src` in `video`. hls.js (loaded now, with dynamic `import()`) wherever Media Source
 * Extensions exist, because it hands us each downloaded segment for clipping; the browser's
 * native HLS otherwise (iOS), where clips fetch the segments again.
 */
export async function attachLivePlayer(video: HTMLVideoElement, src: string, buffer: ClipBuffer, onFatal: (message: string) => void): Promise<LivePlayer> {
  if (!hasMediaSource() && video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = src;
    return {
      engine: 'native',
      playheadDate: () => {
        const start = (video as HTMLVideoElement & { getStartDate?: () => Date }).getStartDate?.().getTime();
        return start !== undefined && Number.isFinite(start) ? start + video.currentTime * 1000 : undefined;
      },
      destroy: () => {
        video.removeAttribute('src');
        video.load();
      },
    };
  }
  const { default: Hls } = await import('hls.js');
  if (!Hls.isSupported()) throw new Error('this browser plays neither HLS nor Media Source Extensions');
  const BaseLoader = Hls.DefaultConfig.loader;
  /** The default loader, keeping a copy of each media segment (before hls.js hands it to its worker). */
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
  const hls = new Hls({ fLoader: CapturingLoader as unknown as typeof Hls.DefaultConfig.fLoader, lowLatencyMode: false });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (data.fatal) onFatal(data.details);
  });
  hls.loadSource(src);
  hls.attachMedia(video);
  return {
    engine: 'hls.js',
    playheadDate: () => hls.playingDate?.getTime(),
    destroy: () => hls.destroy(),
  };
}
