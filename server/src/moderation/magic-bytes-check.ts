import { open, stat } from 'node:fs/promises';
import { isAllowedVideoType, readMp4BoxLayout, sniffFileType } from '../media/index.js';
import { timedCheck, type CheckVerdict, type ModerationCheck } from './moderation-check.js';

const ISO_BMFF_TYPES = ['video/mp4', 'video/quicktime'];

/** Top-level ISO BMFF boxes a real file ends with; anything else after the last box is appended data. */
const TOP_LEVEL_BOXES = ['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'uuid', 'moof', 'mfra', 'meta', 'pdin', 'styp', 'sidx', 'udta'];

/**
 * The file's type from its leading bytes (never its name or declared type) must be an allowed
 * video type. An MP4/MOV must also end exactly at its last top-level box: bytes after it are
 * a polyglot (an HTML page or a script appended) or a cut-short file. Zero bytes fail here,
 * before any tool is run on the file.
 */
export function magicBytesCheck(): ModerationCheck {
  const name = 'magic-bytes';
  return {
    name,
    run: ({ path, upload }) =>
      timedCheck(name, async (): Promise<CheckVerdict> => {
        const { size } = await stat(path);
        if (size === 0) return { result: 'fail', reason: 'the file is empty (zero bytes)' };
        const sniffed = await sniffFileType(path);
        if (!isAllowedVideoType(sniffed)) {
          return {
            result: 'fail',
            reason: sniffed ? `the content is ${sniffed.mime}, not an allowed video type` : 'the content is not a recognised video (no known magic bytes)',
            details: { declared_type: upload.type, ...(sniffed ? { detected_type: sniffed.mime } : {}) },
          };
        }
        const details = { declared_type: upload.type, detected_type: sniffed.mime };
        if (!ISO_BMFF_TYPES.includes(sniffed.mime)) return { result: 'pass', details };
        const layout = await readMp4BoxLayout(path);
        if (layout.trailingBytes === 0) return { result: 'pass', details: { ...details, boxes: layout.boxes.map((box) => box.type) } };
        const offset = size - layout.trailingBytes;
        const cut = await cutShortBox(path, offset, layout.trailingBytes);
        return {
          result: 'fail',
          reason: cut
            ? `truncated: the ${cut.type} box declares ${cut.declared} bytes, ${layout.trailingBytes} present`
            : `${layout.trailingBytes} bytes follow the last MP4 box (appended data: a polyglot file)`,
          details: { ...details, trailing_bytes: layout.trailingBytes },
        };
      }),
  };
}

/** The box header at `offset`, when it is one that runs past the end of the file. */
async function cutShortBox(path: string, offset: number, remaining: number): Promise<{ type: string; declared: number } | undefined> {
  if (remaining < 8) return undefined;
  const file = await open(path, 'r');
  try {
    const header = Buffer.alloc(16);
    const { bytesRead } = await file.read(header, 0, 16, offset);
    const type = header.toString('latin1', 4, 8);
    if (!TOP_LEVEL_BOXES.includes(type)) return undefined;
    const size32 = header.readUInt32BE(0);
    const declared = size32 === 1 && bytesRead >= 16 ? Number(header.readBigUInt64BE(8)) : size32;
    return declared > remaining ? { type, declared } : undefined;
  } finally {
    await file.close();
  }
}
