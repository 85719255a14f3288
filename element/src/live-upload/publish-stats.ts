/** What one `getStats()` sample says about what the publisher sends. */
export interface OutgoingSample {
  /** Bytes sent on every outbound RTP stream so far. */
  readonly bytesSent: number;
  /** When (ms, the stats' own clock). */
  readonly atMs: number;
  /** The video being encoded, when known. */
  readonly frameWidth: number | undefined;
  readonly frameHeight: number | undefined;
}

/** Reads the peer connection's outbound RTP totals (video and audio together). */
export async function sampleOutgoing(connection: RTCPeerConnection): Promise<OutgoingSample> {
  const report = await connection.getStats();
  let bytesSent = 0;
  let atMs = 0;
  let frameWidth: number | undefined;
  let frameHeight: number | undefined;
  report.forEach((stats: RTCStats) => {
    if (stats.type !== 'outbound-rtp') return;
    const outbound = stats as RTCOutboundRtpStreamStats;
    bytesSent += outbound.bytesSent ?? 0;
    atMs = Math.max(atMs, outbound.timestamp);
    if (outbound.kind === 'video') {
      frameWidth = outbound.frameWidth;
      frameHeight = outbound.frameHeight;
    }
  });
  return { bytesSent, atMs: atMs || performance.now(), frameWidth, frameHeight };
}

/** Bits per second between two samples (0 when time did not move). */
export function bitrateBetween(earlier: OutgoingSample, later: OutgoingSample): number {
  const seconds = (later.atMs - earlier.atMs) / 1000;
  if (seconds <= 0) return 0;
  return Math.max(0, ((later.bytesSent - earlier.bytesSent) * 8) / seconds);
}

/** `2.4 Mb/s` or `640 kb/s` in `lang`'s way (`2,4 Mbit/s` in French). */
export function formatBitrate(bitsPerSecond: number, lang: string): string {
  const mega = bitsPerSecond >= 1e6;
  let locale = 'en';
  try {
    locale = Intl.getCanonicalLocales(lang)[0] ?? 'en';
  } catch {
    // a lang attribute Intl does not take: English digits
  }
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit: mega ? 'megabit-per-second' : 'kilobit-per-second',
    unitDisplay: 'short',
    maximumFractionDigits: mega ? 1 : 0,
  }).format(bitsPerSecond / (mega ? 1e6 : 1e3));
}
