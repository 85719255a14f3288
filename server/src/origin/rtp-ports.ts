import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';

/** The loopback UDP ports ffmpeg reads forwarded RTP on are picked in this range (even: RTP; odd: its RTCP). */
export const RTP_PORT_RANGE = { min: 20_000, max: 59_998 } as const;

function bindUdp(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

/**
 * An even UDP port whose odd neighbour is free too, a moment ago: ffmpeg's RTP input takes RTP
 * on the even port and RTCP on the next one (RFC 3550 11). Probed by binding both, then released
 * for ffmpeg to bind (a race another process could win; the session then ends with `error`).
 */
export async function freeRtpPortPair(attempts = 50): Promise<number> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const port = 2 * randomInt(RTP_PORT_RANGE.min / 2, RTP_PORT_RANGE.max / 2);
    const rtp = await bindUdp(port);
    if (!rtp) continue;
    const rtcp = await bindUdp(port + 1);
    await new Promise<void>((resolve) => rtp.close(() => resolve()));
    if (!rtcp) continue;
    await new Promise<void>((resolve) => rtcp.close(() => resolve()));
    return port;
  }
  throw new Error(`no free UDP port pair for RTP after ${attempts} attempts`);
}
