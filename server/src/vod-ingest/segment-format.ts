import { Readable } from 'node:stream';
import { INGEST_FAILURE_REASONS, IngestError, TransientFetchError } from './ingest-error.js';

/** What an HLS segment may be, by its first bytes (RFC 8216 section 3). */
export const SEGMENT_FORMATS = {
  mpegTs: 'mpeg_ts',
  fragmentedMp4: 'fmp4',
  /** Packed audio: AAC/MP3 elementary stream, usually behind an ID3 tag. */
  packedAudio: 'packed_audio',
} as const;
export type SegmentFormat = (typeof SEGMENT_FORMATS)[keyof typeof SEGMENT_FORMATS];

/** The archive's file extension for each format. */
export const SEGMENT_EXTENSIONS: Readonly<Record<SegmentFormat, string>> = { mpeg_ts: 'ts', fmp4: 'm4s', packed_audio: 'aac' };

/** Bytes `detectSegmentFormat` looks at: two MPEG-TS packets' sync bytes. */
export const SEGMENT_SNIFF_BYTES = 189;
const TS_PACKET = 188;
const TS_SYNC = 0x47;
/** Boxes an fMP4 segment or init section starts with. */
const MP4_FIRST_BOXES = new Set(['ftyp', 'styp', 'moof', 'sidx', 'emsg', 'prft', 'moov', 'free']);

/**
 * The segment's format from its leading bytes, or undefined (HTML, JSON, an error page, empty).
 * Pure: the ingest's content check, decided on bytes, never on a name or a Content-Type.
 * `head` holds the first `SEGMENT_SNIFF_BYTES` bytes, or all of a shorter segment.
 */
export function detectSegmentFormat(head: Uint8Array): SegmentFormat | undefined {
  if (head.length >= 1 && head[0] === TS_SYNC && (head.length <= TS_PACKET || head[TS_PACKET] === TS_SYNC)) {
    return head.length >= TS_PACKET ? SEGMENT_FORMATS.mpegTs : undefined;
  }
  if (head.length >= 8) {
    const size = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
    const type = String.fromCharCode(head[4]!, head[5]!, head[6]!, head[7]!);
    if (MP4_FIRST_BOXES.has(type) && (size === 1 || size >= 8)) return SEGMENT_FORMATS.fragmentedMp4;
  }
  if (head.length >= 3 && head[0] === 0x49 && head[1] === 0x44 && head[2] === 0x33) return SEGMENT_FORMATS.packedAudio; // "ID3"
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xf6) === 0xf0) return SEGMENT_FORMATS.packedAudio; // ADTS sync word, layer 0
  return undefined;
}

/** A segment's body, its format known before a byte is stored. */
export interface SniffedSegmentBody {
  readonly format: SegmentFormat;
  /** Every byte of the segment, the sniffed head first; errors with `segment_too_large` past the cap. */
  readonly body: Readable;
  /** Bytes passed through `body` so far. */
  bytes(): number;
}

/**
 * Reads the first bytes of `source`, refuses it with `not_media` unless they are a segment (an
 * HTML page, an error body), and hands back the whole body, counted and cut at `maxBytes` with
 * `segment_too_large` (a body that never ends). Reads as the consumer reads: never more than a
 * chunk beyond the sniffed head in memory. Ending the returned body early ends `source` too.
 */
export async function sniffSegmentBody(source: AsyncIterable<Buffer>, what: string, maxBytes: number): Promise<SniffedSegmentBody> {
  const iterator = source[Symbol.asyncIterator]();
  const tooLarge = () => new IngestError(INGEST_FAILURE_REASONS.segmentTooLarge, `${what} is larger than ${maxBytes} bytes`);
  /** A read that fails for a reason of our own passes it on; a dropped connection is transient. */
  const next = () =>
    iterator.next().catch((error: unknown) => {
      if (error instanceof IngestError || error instanceof TransientFetchError) throw error;
      throw new TransientFetchError(`${what} broke off: ${(error as Error).message}`, undefined, { cause: error });
    });
  const chunks: Buffer[] = [];
  let total = 0;
  let ended = false;
  try {
    while (total < SEGMENT_SNIFF_BYTES) {
      const read = await next();
      if (read.done) {
        ended = true;
        break;
      }
      chunks.push(read.value);
      total += read.value.length;
      if (total > maxBytes) throw tooLarge();
    }
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
  const head = Buffer.concat(chunks);
  const format = detectSegmentFormat(head.subarray(0, SEGMENT_SNIFF_BYTES));
  if (!format) {
    await iterator.return?.();
    const preview = JSON.stringify(head.subarray(0, 16).toString('latin1'));
    throw new IngestError(INGEST_FAILURE_REASONS.notMedia, `${what} is not an MPEG-TS, fMP4 or packed-audio segment (it starts ${preview})`);
  }
  async function* all(): AsyncGenerator<Buffer> {
    try {
      yield head;
      if (ended) return;
      for (;;) {
        const read = await next();
        if (read.done) return;
        total += read.value.length;
        if (total > maxBytes) throw tooLarge();
        yield read.value;
      }
    } finally {
      await iterator.return?.();
    }
  }
  return { format, body: Readable.from(all(), { objectMode: false }), bytes: () => total };
}
