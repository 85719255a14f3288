/** A video variant of the master playlist, with figures measured on its encoded segments. */
export interface MasterVariant {
  /** Relative to the master playlist, e.g. `720p/index.m3u8`. */
  readonly uri: string;
  readonly width: number;
  readonly height: number;
  readonly frameRate: number;
  /** RFC 6381 video codec, e.g. `avc1.64001f`. */
  readonly videoCodec: string;
  /** Bits per second of the variant's own segments (video only: audio is added for the shared group). */
  readonly peakBitrate: number;
  readonly averageBitrate: number;
}

/** The one audio rendition every variant shares (an `EXT-X-MEDIA` group). */
export interface MasterAudio {
  readonly uri: string;
  readonly groupId: string;
  readonly name: string;
  /** RFC 6381, e.g. `mp4a.40.2` (AAC-LC). */
  readonly codec: string;
  readonly channels: number;
  readonly peakBitrate: number;
  readonly averageBitrate: number;
}

/** AAC-LC, what the ladder encodes (`-profile:a aac_low`). */
export const AAC_LC_CODEC = 'mp4a.40.2';

/**
 * Writes a master playlist. `BANDWIDTH` is the variant's peak segment bitrate plus the audio's
 * peak, `AVERAGE-BANDWIDTH` the sums of the averages (RFC 8216 4.3.4.2: what a client needs to
 * play the variant with its audio); `CODECS` names both; `FRAME-RATE` has three decimals.
 * Variants are listed in the order given (largest first: the player's first pick). Pure.
 */
export function writeMasterPlaylist(input: { readonly variants: readonly MasterVariant[]; readonly audio?: MasterAudio }): string {
  const { variants, audio } = input;
  if (variants.length === 0) throw new TypeError('a master playlist needs at least one variant');
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (audio) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=${quoted(audio.groupId)},NAME=${quoted(audio.name)},DEFAULT=YES,AUTOSELECT=YES,` +
        `CHANNELS=${quoted(String(audio.channels))},URI=${quoted(audio.uri)}`,
    );
  }
  for (const variant of variants) {
    const attributes = [
      `BANDWIDTH=${Math.ceil(variant.peakBitrate + (audio?.peakBitrate ?? 0))}`,
      `AVERAGE-BANDWIDTH=${Math.ceil(variant.averageBitrate + (audio?.averageBitrate ?? 0))}`,
      `RESOLUTION=${variant.width}x${variant.height}`,
      `FRAME-RATE=${variant.frameRate.toFixed(3)}`,
      `CODECS=${quoted(audio ? `${variant.videoCodec},${audio.codec}` : variant.videoCodec)}`,
      ...(audio ? [`AUDIO=${quoted(audio.groupId)}`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, variant.uri);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Peak and average bitrate (bits/s) of a rendition from its segments' sizes and durations.
 * Segments shorter than half the longest (the stub at the end) are left out of the peak: a
 * 20 ms tail holding one audio frame would otherwise claim a bitrate nothing ever sustains.
 */
export function segmentBitrates(segments: readonly { readonly bytes: number; readonly durationS: number }[]): { peak: number; average: number } {
  const timed = segments.filter((segment) => segment.durationS > 0);
  if (timed.length === 0) return { peak: 0, average: 0 };
  const longest = Math.max(...timed.map((segment) => segment.durationS));
  const forPeak = timed.filter((segment) => segment.durationS >= longest / 2);
  const peak = Math.max(...forPeak.map((segment) => (segment.bytes * 8) / segment.durationS));
  const totalBits = timed.reduce((sum, segment) => sum + segment.bytes * 8, 0);
  const totalS = timed.reduce((sum, segment) => sum + segment.durationS, 0);
  return { peak, average: totalBits / totalS };
}

/**
 * The RFC 6381 codec string of an H.264 stream (`avc1.PPCCLL`: profile, constraint flags,
 * level) from the `avcC` box of its fMP4 init segment. Throws when there is none.
 */
export function avcCodecString(initSegment: Uint8Array): string {
  const bytes = Buffer.from(initSegment.buffer, initSegment.byteOffset, initSegment.byteLength);
  const at = bytes.indexOf('avcC', 0, 'latin1');
  // avcC payload: configurationVersion (1), profile, constraint flags, level.
  if (at < 0 || at + 8 > bytes.length || bytes[at + 4] !== 1) throw new TypeError('no avcC box in the init segment');
  return `avc1.${[bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

function quoted(value: string): string {
  if (/["\n\r]/.test(value)) throw new TypeError(`playlist attribute value ${JSON.stringify(value)} cannot be quoted`);
  return `"${value}"`;
}
