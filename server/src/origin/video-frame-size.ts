/**
 * The picture size of a WebRTC video stream, read from its RTP payloads: the live ladder's
 * rungs depend on the source's size (never upscaled), and nothing tells it before the first
 * keyframe. VP8 keyframes carry it in their frame header (RFC 6386 9.1); H.264 in the sequence
 * parameter set sent with each IDR (ITU-T H.264 7.3.2.1.1). Pure; never throws on bad bytes.
 */

export interface FrameSize {
  readonly width: number;
  readonly height: number;
}

/** The size a VP8 RTP payload announces when it starts a keyframe, else undefined. */
export function vp8KeyframeSize(payload: Uint8Array): FrameSize | undefined {
  if (payload.length < 1) return undefined;
  const first = payload[0]!;
  const extended = (first & 0x80) !== 0;
  const startOfPartition = (first & 0x10) !== 0;
  const partitionId = first & 0x07;
  if (!startOfPartition || partitionId !== 0) return undefined;
  let offset = 1;
  if (extended) {
    if (payload.length <= offset) return undefined;
    const flags = payload[offset++]!;
    if (flags & 0x80) {
      if (payload.length <= offset) return undefined;
      offset += payload[offset]! & 0x80 ? 2 : 1;
    }
    if (flags & 0x40) offset += 1;
    if (flags & 0x30) offset += 1;
  }
  // Frame tag (3 bytes; bit 0 clear = keyframe), start code 9d 01 2a, then 14-bit width and height.
  if (payload.length < offset + 10) return undefined;
  if ((payload[offset]! & 0x01) !== 0) return undefined;
  if (payload[offset + 3] !== 0x9d || payload[offset + 4] !== 0x01 || payload[offset + 5] !== 0x2a) return undefined;
  const width = (payload[offset + 6]! | (payload[offset + 7]! << 8)) & 0x3fff;
  const height = (payload[offset + 8]! | (payload[offset + 9]! << 8)) & 0x3fff;
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/** The size of the SPS an H.264 RTP payload carries (a single NAL unit or inside a STAP-A), else undefined. */
export function h264SpsSize(payload: Uint8Array): FrameSize | undefined {
  if (payload.length < 2) return undefined;
  const type = payload[0]! & 0x1f;
  if (type === 7) return spsSize(payload);
  if (type !== 24) return undefined;
  for (let offset = 1; offset + 2 < payload.length; ) {
    const size = (payload[offset]! << 8) | payload[offset + 1]!;
    const nal = payload.subarray(offset + 2, offset + 2 + size);
    if (nal.length > 0 && (nal[0]! & 0x1f) === 7) return spsSize(nal);
    offset += 2 + size;
  }
  return undefined;
}

/** True when the H.264 RTP payload carries (the start of) an IDR slice. */
export function h264StartsKeyframe(payload: Uint8Array): boolean {
  if (payload.length < 2) return false;
  const type = payload[0]! & 0x1f;
  if (type === 5) return true;
  if (type === 28) return (payload[1]! & 0x80) !== 0 && (payload[1]! & 0x1f) === 5;
  if (type === 24) {
    for (let offset = 1; offset + 2 < payload.length; ) {
      const size = (payload[offset]! << 8) | payload[offset + 1]!;
      if (((payload[offset + 2] ?? 0) & 0x1f) === 5) return true;
      offset += 2 + size;
    }
  }
  return false;
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Parses a sequence parameter set NAL unit (header byte included) up to its cropped frame size. */
export function spsSize(nal: Uint8Array): FrameSize | undefined {
  try {
    const bits = new BitReader(unescapeRbsp(nal.subarray(1)));
    const profileIdc = bits.read(8);
    bits.read(16); // constraint flags, level
    bits.ue(); // seq_parameter_set_id
    let chromaFormatIdc = 1;
    let separateColourPlane = 0;
    if (HIGH_PROFILES.has(profileIdc)) {
      chromaFormatIdc = bits.ue();
      if (chromaFormatIdc === 3) separateColourPlane = bits.read(1);
      bits.ue(); // bit_depth_luma_minus8
      bits.ue(); // bit_depth_chroma_minus8
      bits.read(1); // qpprime_y_zero_transform_bypass_flag
      if (bits.read(1)) {
        const lists = chromaFormatIdc === 3 ? 12 : 8;
        for (let list = 0; list < lists; list += 1) if (bits.read(1)) skipScalingList(bits, list < 6 ? 16 : 64);
      }
    }
    bits.ue(); // log2_max_frame_num_minus4
    const picOrderCntType = bits.ue();
    if (picOrderCntType === 0) bits.ue();
    else if (picOrderCntType === 1) {
      bits.read(1);
      bits.se();
      bits.se();
      const cycle = bits.ue();
      if (cycle > 255) return undefined;
      for (let index = 0; index < cycle; index += 1) bits.se();
    }
    bits.ue(); // max_num_ref_frames
    bits.read(1); // gaps_in_frame_num_value_allowed_flag
    const widthInMbs = bits.ue() + 1;
    const heightInMapUnits = bits.ue() + 1;
    const frameMbsOnly = bits.read(1);
    if (!frameMbsOnly) bits.read(1);
    bits.read(1); // direct_8x8_inference_flag
    let crop = { left: 0, right: 0, top: 0, bottom: 0 };
    if (bits.read(1)) crop = { left: bits.ue(), right: bits.ue(), top: bits.ue(), bottom: bits.ue() };
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const cropUnitX = chromaArrayType === 0 ? 1 : chromaArrayType === 3 ? 1 : 2;
    const cropUnitY = (chromaArrayType === 0 || chromaArrayType === 3 ? 1 : chromaArrayType === 2 ? 1 : 2) * (2 - frameMbsOnly);
    const width = widthInMbs * 16 - cropUnitX * (crop.left + crop.right);
    const height = (2 - frameMbsOnly) * heightInMapUnits * 16 - cropUnitY * (crop.top + crop.bottom);
    return width > 0 && height > 0 && width <= 16_384 && height <= 16_384 ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}

function skipScalingList(bits: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let index = 0; index < size; index += 1) {
    if (next !== 0) next = (last + bits.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Drops the emulation prevention bytes (00 00 03 -> 00 00). */
function unescapeRbsp(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let length = 0;
  let zeros = 0;
  for (const byte of bytes) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    out[length++] = byte;
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, length);
}

class BitReader {
  private position = 0;
  constructor(private readonly bytes: Uint8Array) {}

  read(count: number): number {
    let value = 0;
    for (let index = 0; index < count; index += 1) {
      const byte = this.bytes[this.position >> 3];
      if (byte === undefined) throw new RangeError('the SPS ended early');
      value = value * 2 + ((byte >> (7 - (this.position & 7))) & 1);
      this.position += 1;
    }
    return value;
  }

  /** Unsigned Exp-Golomb. */
  ue(): number {
    let zeros = 0;
    while (this.read(1) === 0) if (++zeros > 31) throw new RangeError('Exp-Golomb code too long');
    return 2 ** zeros - 1 + this.read(zeros);
  }

  /** Signed Exp-Golomb. */
  se(): number {
    const code = this.ue();
    return code % 2 === 1 ? (code + 1) / 2 : -(code / 2);
  }
}
