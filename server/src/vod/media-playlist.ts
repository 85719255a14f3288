/** One segment of an HLS media playlist. */
export interface MediaPlaylistSegment {
  readonly uri: string;
  readonly durationS: number;
}

/** The parts of a VOD media playlist that the master playlist and the checks need. */
export interface MediaPlaylist {
  /** `EXT-X-MAP` URI: the fMP4 init segment (absent for MPEG-TS playlists). */
  readonly initUri?: string;
  readonly targetDurationS?: number;
  readonly segments: readonly MediaPlaylistSegment[];
  readonly ended: boolean;
}

/**
 * Parses an HLS media playlist as ffmpeg's HLS muxer writes it (one `#EXTINF` before each URI).
 * Pure; throws a `TypeError` on text that is not a playlist, or on a segment without a duration.
 */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  if (lines[0] !== '#EXTM3U') throw new TypeError('not an HLS playlist: the first line is not #EXTM3U');
  const segments: MediaPlaylistSegment[] = [];
  let initUri: string | undefined;
  let targetDurationS: number | undefined;
  let pendingDuration: number | undefined;
  let ended = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if (line.startsWith('#EXTINF:')) {
      pendingDuration = Number(line.slice('#EXTINF:'.length).split(',')[0]);
      if (!Number.isFinite(pendingDuration) || pendingDuration < 0) throw new TypeError(`bad segment duration: ${line}`);
    } else if (line.startsWith('#EXT-X-MAP:')) {
      initUri = /URI="([^"]*)"/.exec(line)?.[1];
    } else if (line.startsWith('#EXT-X-TARGETDURATION:')) {
      targetDurationS = Number(line.slice('#EXT-X-TARGETDURATION:'.length));
    } else if (line === '#EXT-X-ENDLIST') {
      ended = true;
    } else if (!line.startsWith('#')) {
      if (pendingDuration === undefined) throw new TypeError(`segment ${line} has no #EXTINF`);
      segments.push({ uri: line, durationS: pendingDuration });
      pendingDuration = undefined;
    }
  }
  return { ...(initUri !== undefined ? { initUri } : {}), ...(targetDurationS !== undefined ? { targetDurationS } : {}), segments, ended };
}
