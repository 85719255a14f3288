import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readClock } from './origin-clock-code.js';

const run = promisify(execFile);

/** One segment of a live rung, seen appear and read back. */
export interface ClockedSegment {
  readonly name: string;
  /** Wall-clock ms the probe first saw it listed in the rung's playlist. */
  readonly availableAt: number;
  readonly frames: number;
  /** Painted time of its first and last frame whose clock could be read (undefined: none readable). */
  readonly firstPaintedMs: number | undefined;
  readonly lastPaintedMs: number | undefined;
}

/** Reads a file of the ladder by its path relative to the master playlist; undefined when it is not there (yet). */
export type LadderReader = (relativePath: string) => Promise<Buffer | undefined>;

/** Frames are decoded at this size: the clock code is a fraction of the frame, any 16:9 rung reads the same. */
const DECODE_WIDTH = 320;
const DECODE_HEIGHT = 180;

/**
 * A viewer of one rung of a live fMP4 HLS ladder that reads the clock burnt into its frames
 * (`origin-clock-code.ts`): it polls the rung's playlist every `pollMs` like a player at the live
 * edge (faster than one, to time availability), and for each segment that appears after it
 * started fetches the init segment and the segment, decodes them with ffmpeg (gray, small) and
 * reads the painted time of its first and last frames. The segments listed at its first poll
 * are only remembered (when they appeared is unknown). Works on our origin over HTTP and on a
 * local directory (the baseline) alike.
 */
export class ClockProbe {
  private readonly seen = new Set<string>();
  private readonly samples: ClockedSegment[] = [];
  private timer: NodeJS.Timeout | undefined;
  private decoding: Promise<void> = Promise.resolve();
  private first = true;
  private stopped = false;
  private init: { uri: string; bytes: Buffer } | undefined;
  errors = 0;

  constructor(
    private readonly read: LadderReader,
    private readonly rung: string,
    private readonly pollMs = 100,
  ) {}

  start(): void {
    const tick = () => {
      void this.poll()
        .catch(() => (this.errors += 1))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.pollMs);
        });
    };
    tick();
  }

  /** Stops polling and returns every segment measured (after the decodes under way). */
  async stop(): Promise<ClockedSegment[]> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.decoding;
    return [...this.samples];
  }

  /** Segments measured so far. */
  get measured(): readonly ClockedSegment[] {
    return this.samples;
  }

  private async poll(): Promise<void> {
    const playlist = await this.read(`${this.rung}/index.m3u8`);
    if (!playlist) return;
    const availableAt = Date.now();
    // Each segment with the init segment in effect where it is listed (a ladder continued at a faster preset has a second one).
    let initUri: string | undefined;
    for (const line of playlist.toString('utf8').split('\n')) {
      const map = /^#EXT-X-MAP:URI="([^"]+)"/.exec(line)?.[1];
      if (map) initUri = map;
      if (line.length === 0 || line.startsWith('#')) continue;
      const segment = line;
      if (this.seen.has(segment)) continue;
      this.seen.add(segment);
      if (this.first || !initUri) continue;
      const init = initUri;
      this.decoding = this.decoding.then(() => this.measure(segment, init, availableAt)).catch(() => void (this.errors += 1));
    }
    this.first = false;
  }

  private async measure(segment: string, initUri: string, availableAt: number): Promise<void> {
    if (this.init?.uri !== initUri) {
      const bytes = await this.read(`${this.rung}/${initUri}`);
      if (!bytes) throw new Error(`no init segment ${initUri}`);
      this.init = { uri: initUri, bytes };
    }
    const bytes = await this.read(`${this.rung}/${segment}`);
    if (!bytes) throw new Error(`segment ${segment} listed but not there`);
    const painted = await paintedTimes(Buffer.concat([this.init.bytes, bytes]));
    this.samples.push({ name: segment, availableAt, frames: painted.length, firstPaintedMs: painted.find((ms) => ms !== undefined), lastPaintedMs: painted.findLast((ms) => ms !== undefined) });
  }
}

/** The clock of every frame of a self-contained fMP4 (init + one segment), in order; undefined where unreadable. */
export async function paintedTimes(mp4: Buffer): Promise<(number | undefined)[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'origin-bench-probe-'));
  try {
    const file = join(scratch, 'segment.mp4');
    await writeFile(file, mp4);
    const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-an', '-vf', `scale=${DECODE_WIDTH}:${DECODE_HEIGHT},format=gray`, '-f', 'rawvideo', 'pipe:1'], {
      encoding: 'buffer',
      maxBuffer: 256 * 1024 * 1024,
    });
    const frameBytes = DECODE_WIDTH * DECODE_HEIGHT;
    const times: (number | undefined)[] = [];
    for (let offset = 0; offset + frameBytes <= stdout.length; offset += frameBytes) {
      times.push(readClock(new Uint8Array(stdout.buffer, stdout.byteOffset + offset, frameBytes), DECODE_WIDTH, DECODE_HEIGHT));
    }
    return times;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * When each segment of a rung was first listed in its playlist, without reading it: the
 * origin's own ffmpeg output on the replica's disk, polled beside a `ClockProbe` on the served
 * copy, splits the origin's latency into "ladder written" and "mirrored and served".
 */
export class PlaylistArrivals {
  readonly firstSeen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly read: LadderReader,
    private readonly rung: string,
    private readonly pollMs = 50,
  ) {}

  start(): void {
    const tick = () => {
      void this.read(`${this.rung}/index.m3u8`)
        .then((playlist) => {
          const now = Date.now();
          for (const line of playlist?.toString('utf8').split('\n') ?? []) {
            if (line.length > 0 && !line.startsWith('#') && !this.firstSeen.has(line)) this.firstSeen.set(line, now);
          }
        })
        .catch(() => undefined)
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.pollMs);
        });
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
