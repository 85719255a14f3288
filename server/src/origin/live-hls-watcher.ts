import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LiveHlsSink } from './origin-session.js';

/** How many times the last scan (after ffmpeg exited) is tried before its error is the caller's. */
const FINAL_SCAN_ATTEMPTS = 3;

/**
 * Hands the files ffmpeg's live HLS muxer writes in a directory to a `LiveHlsSink`, each once it
 * is complete and in an order a viewer can rely on: a rung's init segment and media segments
 * first, then its playlist once every segment it lists has been handed over, and the master
 * playlist last, after the playlists it names. ffmpeg writes with `temp_file` (a `.tmp` file
 * renamed when whole), so a name without `.tmp` is a complete file; a playlist is handed over
 * again whenever its bytes change, as the copy that was checked (kept in `snapshotDirectory`:
 * ffmpeg may have replaced the file meanwhile with one naming a segment not handed yet). Polls the directory (fs.watch misses renames across
 * directories on some file systems, and a poll every few hundred ms is nothing next to 2 s
 * segments).
 */
export class LiveHlsWatcher {
  private readonly handed = new Set<string>();
  private readonly playlistContents = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly directory: string,
    /** Outside `directory`: where the checked copies of the playlists are handed from. */
    private readonly snapshotDirectory: string,
    private readonly sink: LiveHlsSink,
    private readonly options: {
      readonly pollMs?: number;
      /** After the master playlist was handed over the first time (the ladder is playable). */
      readonly onPlayable?: () => void;
      readonly onError?: (error: unknown) => void;
    } = {},
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.scan()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs ?? 250);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops polling with no last scan (the ladder is thrown away: `LiveHlsSink.discard`); waits for a scan under way. */
  async cancel(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /**
   * Stops polling after a last scan: ffmpeg has exited, its final playlists (with
   * `EXT-X-ENDLIST`) and last segments are on disk. No poll follows this one, so a sink that
   * fails now (a store's passing error) is tried again a few times before the error is thrown.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.scan();
        return;
      } catch (error) {
        if (attempt >= FINAL_SCAN_ATTEMPTS) throw error;
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, (this.options.pollMs ?? 250) * attempt));
      }
    }
  }

  /** One pass: new segments, then changed rung playlists whose segments are all handed, then the master. */
  async scan(): Promise<void> {
    const entries = await readdir(this.directory, { withFileTypes: true }).catch(() => []);
    const rungs = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
    const playable: string[] = [];
    for (const rung of rungs) {
      const names = (await readdir(join(this.directory, rung)).catch(() => [] as string[])).filter((name) => !name.endsWith('.tmp'));
      const segments = names.filter((name) => name.endsWith('.m4s')).sort((a, b) => segmentNumber(a) - segmentNumber(b));
      const inits = names.filter((name) => name.endsWith('.mp4'));
      // An init segment is written before the first media segment is renamed into place: it is whole once one is.
      if (segments.length > 0) for (const name of inits) await this.hand(`${rung}/${name}`);
      for (const name of segments) await this.hand(`${rung}/${name}`);
      if (names.includes('index.m3u8') && (await this.handPlaylist(`${rung}/index.m3u8`, rung))) playable.push(rung);
    }
    if (playable.length > 0 && (await this.handPlaylist('master.m3u8', ''))) {
      const first = !this.handed.has('master.m3u8');
      this.handed.add('master.m3u8');
      if (first) this.options.onPlayable?.();
    }
  }

  private async hand(relativePath: string): Promise<void> {
    if (this.handed.has(relativePath)) return;
    await this.sink.fileWritten(relativePath, join(this.directory, relativePath));
    this.handed.add(relativePath);
  }

  /** Hands a playlist over when its bytes changed and every URI it names was handed; true when it is (now or before) handed. */
  private async handPlaylist(relativePath: string, rung: string): Promise<boolean> {
    const text = await readFile(join(this.directory, relativePath), 'utf8').catch(() => undefined);
    if (text === undefined) return this.playlistContents.has(relativePath);
    if (this.playlistContents.get(relativePath) === text) return true;
    const named = playlistUris(text).map((uri) => (rung ? `${rung}/${uri}` : uri));
    const ready = named.every((path) => this.handed.has(path) || (rung === '' && this.playlistContents.has(path)));
    if (!ready) return this.playlistContents.has(relativePath);
    const snapshot = join(this.snapshotDirectory, relativePath);
    await mkdir(dirname(snapshot), { recursive: true });
    await writeFile(`${snapshot}.tmp`, text);
    await rename(`${snapshot}.tmp`, snapshot);
    await this.sink.fileWritten(relativePath, snapshot);
    this.playlistContents.set(relativePath, text);
    return true;
  }
}

/** The URIs a playlist names: segment lines, `EXT-X-MAP` and `EXT-X-MEDIA` URIs. */
export function playlistUris(text: string): string[] {
  const uris: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      const uri = /URI="([^"]+)"/.exec(trimmed)?.[1];
      if (uri && (trimmed.startsWith('#EXT-X-MAP') || trimmed.startsWith('#EXT-X-MEDIA'))) uris.push(uri);
      continue;
    }
    uris.push(trimmed);
  }
  return uris;
}

function segmentNumber(name: string): number {
  return Number(/(\d+)\.m4s$/.exec(name)?.[1] ?? 0);
}
