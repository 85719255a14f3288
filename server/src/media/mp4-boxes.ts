import { open } from 'node:fs/promises';

export interface Mp4Box {
  /** Four-character box type, e.g. `ftyp`, `moov`, `mdat`. */
  readonly type: string;
  readonly offset: number;
  readonly size: number;
}

export interface Mp4BoxLayout {
  /** Top-level boxes, in file order, up to the first one that does not parse. */
  readonly boxes: readonly Mp4Box[];
  /**
   * Bytes after the last well-formed top-level box. Non-zero on a valid MP4 means something was
   * appended (an HTML/script polyglot, a second file) or the last box is cut short.
   */
  readonly trailingBytes: number;
}

const BOX_TYPE = /^[\x20-\x7e]{4}$/;

/**
 * Walks the top-level boxes of an ISO BMFF (MP4/MOV) file by reading only their 8-16 byte
 * headers. Used to check `+faststart` (moov before mdat) and to find bytes appended to a file.
 */
export async function readMp4BoxLayout(path: string): Promise<Mp4BoxLayout> {
  const file = await open(path, 'r');
  try {
    const { size: fileSize } = await file.stat();
    const header = Buffer.alloc(16);
    const boxes: Mp4Box[] = [];
    let offset = 0;
    while (offset + 8 <= fileSize) {
      const { bytesRead } = await file.read(header, 0, 16, offset);
      if (bytesRead < 8) break;
      const type = header.toString('latin1', 4, 8);
      if (!BOX_TYPE.test(type)) break;
      let size = header.readUInt32BE(0);
      if (size === 1) {
        if (bytesRead < 16) break;
        size = Number(header.readBigUInt64BE(8));
      } else if (size === 0) {
        size = fileSize - offset;
      }
      if (size < 8 || offset + size > fileSize) break;
      boxes.push({ type, offset, size });
      offset += size;
    }
    return { boxes, trailingBytes: fileSize - offset };
  } finally {
    await file.close();
  }
}
