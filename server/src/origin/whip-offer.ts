/**
 * What a WHIP offer must hold before a peer connection is made for it (RFC 9725 offers are
 * plain SDP): a video section we can take (H.264 packetization-mode 1 or VP8) that the
 * publisher sends, and when there is audio, Opus. Checked on the text, so a hostile offer
 * (binary, huge, a thousand m-lines, no ICE credentials) is refused with a reason before
 * werift parses it.
 */
import type { FrameSize } from './video-frame-size.js';

/** The most media sections an offer may have (one video, one audio, and a little slack for a data channel). */
export const MAX_OFFER_MEDIA_SECTIONS = 4;

export type OfferVideoCodec = 'h264' | 'vp8';

export interface OfferSummary {
  /** The video codecs the offer sends that we take, in the offer's order of preference. */
  readonly videoCodecs: readonly OfferVideoCodec[];
  readonly hasAudio: boolean;
  /** The largest picture the video section declares it will send (RFC 6236 `imageattr`), when it declares one. */
  readonly sendSize?: FrameSize;
}

/** An offer's text with what `inspectWhipOffer` read from it: what the origin answers. */
export interface InspectedOffer {
  readonly sdp: string;
  readonly summary: OfferSummary;
}

export type OfferInspection = { readonly ok: true; readonly summary: OfferSummary } | { readonly ok: false; readonly reason: string };

interface MediaSection {
  readonly kind: string;
  readonly payloadTypes: readonly string[];
  readonly lines: readonly string[];
}

/** Checks an SDP offer's text; never throws. */
export function inspectWhipOffer(sdp: string): OfferInspection {
  if (!sdp.startsWith('v=0')) return { ok: false, reason: 'the body is not an SDP offer (it must start with v=0)' };
  if (hasControlCharacters(sdp)) return { ok: false, reason: 'the SDP offer holds control characters' };
  const sections = mediaSections(sdp);
  if (sections.length === 0) return { ok: false, reason: 'the SDP offer has no media section' };
  if (sections.length > MAX_OFFER_MEDIA_SECTIONS) return { ok: false, reason: `the SDP offer has ${sections.length} media sections; at most ${MAX_OFFER_MEDIA_SECTIONS} (one video, one audio)` };
  const session = sdp.split(/\r?\n/);
  const hasCredentials = (lines: readonly string[]) => lines.some((line) => line.startsWith('a=ice-ufrag:')) && lines.some((line) => line.startsWith('a=ice-pwd:'));
  const hasFingerprint = (lines: readonly string[]) => lines.some((line) => line.startsWith('a=fingerprint:'));

  const video = sections.filter((section) => section.kind === 'video' && sends(section));
  const audio = sections.filter((section) => section.kind === 'audio' && sends(section));
  if (video.length === 0) return { ok: false, reason: 'the offer sends no video: going live needs a camera or a screen (H.264 or VP8)' };
  if (video.length > 1 || audio.length > 1) return { ok: false, reason: 'the offer sends more than one video or audio track; send one of each' };
  const videoCodecs = codecsOf(video[0]!, { h264: /^H264\/90000$/i, vp8: /^VP8\/90000$/i }).filter(
    (codec) => codec.name !== 'h264' || codec.fmtp.includes('packetization-mode=1'),
  );
  if (videoCodecs.length === 0) return { ok: false, reason: 'the offer has no usable video codec: send H.264 (packetization-mode=1) or VP8' };
  if (audio.length === 1 && codecsOf(audio[0]!, { opus: /^opus\/48000(\/2)?$/i }).length === 0) {
    return { ok: false, reason: 'the offer sends audio in a codec we do not take: send Opus' };
  }
  for (const section of sections) {
    if (!hasCredentials(section.lines) && !hasCredentials(session)) return { ok: false, reason: 'the SDP offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)' };
    if (!hasFingerprint(section.lines) && !hasFingerprint(session)) return { ok: false, reason: 'the SDP offer has no DTLS fingerprint' };
  }
  const sendSize = declaredSendSize(video[0]!);
  return {
    ok: true,
    summary: { videoCodecs: [...new Set(videoCodecs.map((codec) => codec.name as OfferVideoCodec))], hasAudio: audio.length === 1, ...(sendSize ? { sendSize } : {}) },
  };
}

/** A declared picture side outside this is ignored (nonsense, or a hostile number). */
const MIN_DECLARED_SIDE_PX = 16;
const MAX_DECLARED_SIDE_PX = 8192;

/**
 * The largest picture a video section says it will send, from RFC 6236's image attribute
 * (`a=imageattr:<pt|*> send [x=960,y=540] ... recv ...`); undefined when it says none, or only
 * ranges (`x=[320:16:640]`) or sizes out of bounds. Our element declares its camera's capture
 * size so: a browser's encoder may start below it and scale up later, and the live ladder is
 * planned from what the publisher will send, not from that small start. Never throws.
 */
function declaredSendSize(video: MediaSection): FrameSize | undefined {
  let largest: FrameSize | undefined;
  for (const line of video.lines) {
    if (!line.startsWith('a=imageattr:')) continue;
    const send = /\bsend\s+(.*?)(?:\brecv\b|$)/.exec(line)?.[1] ?? '';
    for (const set of send.matchAll(/\[x=(\d{1,5}),y=(\d{1,5})(?:,[^\]]*)?\]/g)) {
      const size = { width: Number(set[1]), height: Number(set[2]) };
      const inBounds = [size.width, size.height].every((side) => side >= MIN_DECLARED_SIDE_PX && side <= MAX_DECLARED_SIDE_PX);
      if (inBounds && (!largest || size.width * size.height > largest.width * largest.height)) largest = size;
    }
  }
  return largest;
}

/** Any C0 control character other than tab, CR and LF, or DEL. */
function hasControlCharacters(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return true;
  }
  return false;
}

function mediaSections(sdp: string): MediaSection[] {
  const sections: { kind: string; payloadTypes: string[]; lines: string[] }[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    const media = /^m=(\w+) \d+ [A-Z/]+ ?(.*)$/.exec(line);
    if (media) {
      sections.push({ kind: media[1]!, payloadTypes: (media[2] ?? '').split(' ').filter(Boolean), lines: [] });
      continue;
    }
    sections.at(-1)?.lines.push(line);
  }
  return sections;
}

/** A section the offerer sends on: `sendonly` or `sendrecv` (the default). */
function sends(section: MediaSection): boolean {
  return !section.lines.some((line) => line === 'a=recvonly' || line === 'a=inactive');
}

function codecsOf<Name extends string>(section: MediaSection, wanted: Record<Name, RegExp>): { name: Name; fmtp: string }[] {
  const found: { name: Name; fmtp: string }[] = [];
  for (const payloadType of section.payloadTypes) {
    const rtpmap = section.lines.find((line) => line.startsWith(`a=rtpmap:${payloadType} `))?.slice(`a=rtpmap:${payloadType} `.length);
    if (!rtpmap) continue;
    const fmtp = section.lines.find((line) => line.startsWith(`a=fmtp:${payloadType} `)) ?? '';
    for (const name of Object.keys(wanted) as Name[]) if (wanted[name].test(rtpmap.trim())) found.push({ name, fmtp });
  }
  return found;
}
