import type Hls from 'hls.js';
import { hasMediaSource, loadPolicy } from './live-player.js';

/** A rung of the replay's ladder as the quality menu offers it. */
export interface ReplayRung {
  /** hls.js' level index: what `setQuality` takes. */
  readonly level: number;
  readonly width: number;
  readonly height: number;
  readonly bitrate: number;
}

/** `setQuality`'s value for hls.js' own choice (ABR). */
export const AUTO_QUALITY = -1;

export interface ReplayPlayerEvents {
  /** The ladder is known (once, after the master playlist): the rungs, largest first. */
  onRungs(rungs: readonly ReplayRung[]): void;
  /** The rung on screen changed (ABR or the viewer's choice). */
  onRung(level: number): void;
  /** Something that no retry fixes; `detail` is technical. */
  onFatal(detail: string): void;
}

/** A replay playing in a `<video>`: hls.js' ABR over the ladder, or one rung chosen by the viewer. */
export interface ReplayPlayer {
  readonly engine: 'hls.js' | 'native';
  /** `AUTO_QUALITY` or the level the viewer chose. */
  readonly quality: number;
  setQuality(level: number): void;
  destroy(): void;
}

/**
 * Plays the replay's master playlist `src` in `video`, with the same hls.js (loaded now, with
 * dynamic `import()`) and the same load policy as the live player: hls.js' ABR picks the rung
 * unless the viewer chose one. Where Media Source Extensions are missing (iOS), the browser's own
 * HLS plays it and chooses the rung itself (`onRungs` is never called, so the menu offers none).
 */
export async function attachReplayPlayer(video: HTMLVideoElement, src: string, events: ReplayPlayerEvents): Promise<ReplayPlayer> {
  if (!hasMediaSource() && video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = src;
    return {
      engine: 'native',
      quality: AUTO_QUALITY,
      setQuality: () => {},
      destroy: () => {
        video.removeAttribute('src');
        video.load();
      },
    };
  }
  const { default: HlsClass } = await import('hls.js');
  if (!HlsClass.isSupported()) throw new Error('this browser plays neither HLS nor Media Source Extensions');
  return new HlsReplayPlayer(HlsClass, video, src, events);
}

class HlsReplayPlayer implements ReplayPlayer {
  readonly engine = 'hls.js';
  quality = AUTO_QUALITY;
  readonly #hls: Hls;
  #mediaRecoveries = 0;

  constructor(HlsClass: typeof Hls, video: HTMLVideoElement, src: string, events: ReplayPlayerEvents) {
    const hls = new HlsClass({
      lowLatencyMode: false,
      manifestLoadPolicy: loadPolicy(1),
      playlistLoadPolicy: loadPolicy(2),
      fragLoadPolicy: loadPolicy(3),
    });
    this.#hls = hls;
    hls.on(HlsClass.Events.MANIFEST_PARSED, (_event, data) => {
      const rungs = data.levels
        .map((level, index): ReplayRung => ({ level: index, width: level.width, height: level.height, bitrate: level.bitrate }))
        .filter((rung) => rung.height > 0)
        .sort((a, b) => b.height - a.height || b.bitrate - a.bitrate);
      events.onRungs(rungs);
    });
    hls.on(HlsClass.Events.LEVEL_SWITCHED, (_event, data) => events.onRung(data.level));
    hls.on(HlsClass.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      if (data.type === HlsClass.ErrorTypes.MEDIA_ERROR && this.#mediaRecoveries++ < 2) {
        hls.recoverMediaError();
        return;
      }
      events.onFatal(`${data.type}: ${data.details}${data.error ? ` (${data.error.message})` : ''}`);
    });
    hls.loadSource(src);
    hls.attachMedia(video);
  }

  /** One rung from now on (the buffer ahead is replaced), or `AUTO_QUALITY` for ABR again. */
  setQuality(level: number): void {
    const valid = level === AUTO_QUALITY || (Number.isInteger(level) && level >= 0 && level < this.#hls.levels.length);
    if (!valid) return;
    this.quality = level;
    this.#hls.currentLevel = level;
  }

  destroy(): void {
    this.#hls.destroy();
  }
}
