import { DEFAULT_PUBLISH_MAX_KBPS } from './publish-max-kbps.js';

/**
 * What the publisher's browser is asked to send: H.264 (packetization-mode 1, what the origin's
 * ffmpeg takes without a transcode of the input) preferred, VP8 otherwise, Opus for sound; at
 * most the bitrate the server's answer allows (`b=AS`) and the element's own cap, and never more
 * than `maxShortSidePx` on the short side (a 4K screen is scaled down by the encoder, not sent).
 */

/** The video codecs in the order we want them, RTX kept (it carries retransmissions for whichever is chosen). */
export function preferredVideoCodecs(codecs: readonly RTCRtpCodec[]): RTCRtpCodec[] {
  const h264 = codecs.filter((codec) => /^video\/h264$/i.test(codec.mimeType) && /packetization-mode=1/.test(codec.sdpFmtpLine ?? ''));
  const vp8 = codecs.filter((codec) => /^video\/vp8$/i.test(codec.mimeType));
  const rtx = codecs.filter((codec) => /^video\/rtx$/i.test(codec.mimeType));
  return [...h264, ...vp8, ...rtx];
}

/** Opus only: the origin takes nothing else. */
export function preferredAudioCodecs(codecs: readonly RTCRtpCodec[]): RTCRtpCodec[] {
  return codecs.filter((codec) => /^audio\/opus$/i.test(codec.mimeType));
}

/** Sets codec preferences on a transceiver when the browser allows it (Safari before 17 has no setCodecPreferences). */
export function preferCodecs(transceiver: RTCRtpTransceiver, kind: 'video' | 'audio'): void {
  const capabilities = RTCRtpSender.getCapabilities(kind);
  if (!capabilities || typeof transceiver.setCodecPreferences !== 'function') return;
  const preferred = kind === 'video' ? preferredVideoCodecs(capabilities.codecs) : preferredAudioCodecs(capabilities.codecs);
  if (preferred.length === 0) return; // offer what the browser has; the server says 422 if none fits
  transceiver.setCodecPreferences(preferred);
}

/**
 * The video bitrate to ask the encoder for (bits per second): the element's cap, lowered to the
 * `b=AS` of the answer's video section (the origin splits its limit: Opus gets its own section's
 * share, video the rest, so this is already video alone).
 */
export function videoBitrateCap(elementCapKbps: number, serverVideoCeilingKbps: number | undefined): number {
  const fromServer = serverVideoCeilingKbps === undefined ? Infinity : serverVideoCeilingKbps;
  return Math.round(Math.min(elementCapKbps > 0 ? elementCapKbps : DEFAULT_PUBLISH_MAX_KBPS, fromServer) * 1000);
}

/** How much to scale a `width` x `height` source down so its short side is at most `maxShortSidePx` (1: as it is). */
export function scaleDownBy(width: number | undefined, height: number | undefined, maxShortSidePx: number): number {
  if (!width || !height) return 1;
  return Math.max(1, Math.min(width, height) / maxShortSidePx);
}

/**
 * The offer as posted to the origin, declaring the largest picture its video will send (RFC 6236:
 * `a=imageattr:* send [x=W,y=H] recv *` in the video section): the camera's size after the
 * element's size cap (`scaleDownBy`). libwebrtc's encoder may start below it (a low first
 * bandwidth estimate, a busy CPU: 640x360 from a 1280x720 camera, 320x180 on a loaded machine) and scale up
 * seconds later; the origin plans its live ladder from this declaration, not from that start.
 * The local description stays as the browser made it. Unchanged when the size is unknown.
 */
export function declareSendSize(sdp: string, width: number | undefined, height: number | undefined, scale: number): string {
  if (!width || !height) return sdp;
  const even = (side: number) => Math.max(2, 2 * Math.round(side / scale / 2));
  const lines = sdp.split('\r\n');
  const video = lines.findIndex((line) => line.startsWith('m=video '));
  if (video === -1) return sdp;
  let end = lines.findIndex((line, index) => index > video && (line.startsWith('m=') || line === ''));
  if (end === -1) end = lines.length;
  lines.splice(end, 0, `a=imageattr:* send [x=${even(width)},y=${even(height)}] recv *`);
  return lines.join('\r\n');
}

/** Applies the bitrate and size caps to a video sender's (single) encoding. */
export async function limitVideoSender(sender: RTCRtpSender, maxBitrate: number, scaleResolutionDownBy: number): Promise<void> {
  const parameters = sender.getParameters();
  if (!parameters.encodings || parameters.encodings.length === 0) parameters.encodings = [{}];
  for (const encoding of parameters.encodings) {
    encoding.maxBitrate = maxBitrate;
    encoding.scaleResolutionDownBy = scaleResolutionDownBy;
  }
  await sender.setParameters(parameters);
}
