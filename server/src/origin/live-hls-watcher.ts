import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LivePlaylistContinuation, playlistSegmentDurations } from './live-playlist-join.js';
import type { LiveHlsSink } from './origin-session.js';

/** A ladder that continues one viewers watch: the old one's rung playlists as handed, and how the new one numbers its segments. */
export interface LadderContinuation {
  /** Rung playlist path (`720p/index.m3u8`) -> its text as last handed (`LiveHlsWatcher.handedPlaylists`). */
  readonly playlists: ReadonlyMap<string, string>;
  /** The live window's length in segments. */
  readonly windowSegments: number;
  /** The new ffmpeg's `-start_number`. */
  readonly startNumber: number;
}

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
  /** What was handed for each rung playlist (joined, or without `EXT-X-ENDLIST` after `stop({ open: true })`). */
  private readonly handedPlaylistTexts = new Map<string, string>();
  private readonly continuations = new Map<string, LivePlaylistContinuation>();
  /** Each rung's segments (as ffmpeg's playlists listed them) and their durations. */
  private readonly segmentDurations = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The last scan of a ladder that another continues: its playlists are handed without `EXT-X-ENDLIST`. */
  private keepOpen = false;
  private continuedPlayable = false;

  constructor(
    private readonly directory: string,
    /** Outside `directory`: where the checked copies of the playlists are handed from. */
    private readonly snapshotDirectory: string,
    private readonly sink: LiveHlsSink,
    private readonly options: {
      readonly pollMs?: number;
      /**
       * After the master playlist was handed over the first time (the ladder is playable); for a
       * ladder that `continues` another, after every continued rung's playlist first lists a new segment.
       */
      readonly onPlayable?: () => void;
      readonly onError?: (error: unknown) => void;
      /**
       * This ladder continues one viewers are watching (same rungs, a new ffmpeg): each rung
       * playlist is handed joined to the old one's (`LivePlaylistContinuation`), and the master
       * playlist viewers have stays (it is not handed again).
       */
      readonly continues?: LadderContinuation;
    } = {},
  ) {
    for (const [path, text] of options.continues?.playlists ?? []) {
      this.continuations.set(path, new LivePlaylistContinuation(text, options.continues!.windowSegments, options.continues!.startNumber));
    }
  }

  /** The largest segment file number handed (`seg-{n}.m4s`), -1 before the first. */
  lastSegmentNumber(): number {
    let last = -1;
    for (const path of this.handed) if (path.endsWith('.m4s')) last = Math.max(last, segmentNumber(path));
    return last;
  }

  /** The media time this ladder's ffmpeg wrote: the longest rung's segment durations added up. */
  writtenMediaS(): number {
    let longest = 0;
    for (const durations of this.segmentDurations.values()) longest = Math.max(longest, [...durations.values()].reduce((sum, durationS) => sum + durationS, 0));
    return longest;
  }

  /** Each rung playlist as last handed to the sink (what a ladder that continues this one starts from). */
  handedPlaylists(): ReadonlyMap<string, string> {
    return new Map(this.handedPlaylistTexts);
  }

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
   * `open`: another ladder continues this one, so its end is not the broadcast's: the final
   * playlists are handed without `EXT-X-ENDLIST` (players keep reloading them).
   */
  async stop(options: { readonly open?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.keepOpen = options.open ?? false;
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
    if (this.continuations.size > 0) {
      // Viewers keep the master playlist they have; the new ladder is playable once each continued rung lists its first segment.
      if (!this.continuedPlayable && [...this.continuations.keys()].every((path) => this.handedPlaylistTexts.has(path))) {
        this.continuedPlayable = true;
        this.options.onPlayable?.();
      }
      return;
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
    const handed = this.playlistToHand(relativePath, rung, text);
    const snapshot = join(this.snapshotDirectory, relativePath);
    await mkdir(dirname(snapshot), { recursive: true });
    await writeFile(`${snapshot}.tmp`, handed);
    await rename(`${snapshot}.tmp`, snapshot);
    await this.sink.fileWritten(relativePath, snapshot);
    this.playlistContents.set(relativePath, text);
    if (rung) {
      this.handedPlaylistTexts.set(relativePath, handed);
      const durations = this.segmentDurations.get(rung) ?? new Map<string, number>();
      for (const segment of playlistSegmentDurations(text)) durations.set(segment.uri, segment.durationS);
      this.segmentDurations.set(rung, durations);
    }
    return true;
  }

  /** A rung playlist as viewers get it: joined to the ladder this one continues, open when another continues this one. */
  private playlistToHand(relativePath: string, rung: string, text: string): string {
    if (!rung) return text;
    const continuation = this.continuations.get(relativePath);
    const joined = continuation ? continuation.join(text) : text;
    return this.keepOpen ? joined.replace(/^#EXT-X-ENDLIST\r?\n?/m, '') : joined;
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
