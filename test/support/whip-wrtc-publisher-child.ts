import { createRequire } from 'node:module';
import { paintClock } from '../../bench/origin-clock-code.js';
import type { WhipPublication, WhipPublishOptions } from './whip-wrtc-publisher.js';

/**
 * The child process of `publishWithLibwebrtc` (see there: libwebrtc's threads keep a process
 * alive, or crash it, at exit, so it runs here and is killed when done). Reads its endpoint,
 * token and options as JSON from argv, answers one JSON line with the POST's outcome, then a line
 * per second with its frame count and connection state; `stopMedia` and `close` on stdin.
 *
 * A WHIP publisher that is not ours: Google's libwebrtc (the `@roamhq/wrtc` prebuilt, as in
 * Chrome) driven by a plain RFC 9725 exchange: one POST with the complete offer (all
 * candidates in it, no trickle), the answer applied, then synthetic frames (a moving gradient,
 * with the `clock` option the time each frame is pushed burnt into it) and a tone pushed through its video and audio sources. Debian's `simple-whip-client` would be
 * the GStreamer one, but bookworm's package aborts at start (it links libsoup 2 while libnice
 * links libsoup 3: "Using libsoup2 and libsoup3 in the same process is not supported").
 */

interface WrtcVideoSource {
  createTrack(): unknown;
  onFrame(frame: { width: number; height: number; data: Uint8Array }): void;
}
interface WrtcAudioSource {
  createTrack(): unknown;
  onData(data: { samples: Int16Array; sampleRate: number; bitsPerSample: number; channelCount: number; numberOfFrames: number }): void;
}
interface WrtcPeerConnection {
  addTrack(track: unknown, stream: unknown): unknown;
  addTransceiver(track: unknown, init: { direction: string; streams: unknown[] }): unknown;
  createOffer(): Promise<{ type: string; sdp: string }>;
  setLocalDescription(description: { type: string; sdp: string }): Promise<void>;
  setRemoteDescription(description: { type: string; sdp: string }): Promise<void>;
  readonly localDescription: { type: string; sdp: string } | null;
  readonly iceGatheringState: string;
  readonly connectionState: string;
  onicegatheringstatechange: (() => void) | null;
  close(): void;
}
interface Wrtc {
  RTCPeerConnection: new (config?: object) => WrtcPeerConnection;
  MediaStream: new () => unknown;
  nonstandard: { RTCVideoSource: new () => WrtcVideoSource; RTCAudioSource: new () => WrtcAudioSource };
}

const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as Wrtc;

/** Offers to `endpoint` with `token` and, when answered, publishes until closed. */
async function publishInThisProcess(endpoint: string, token: string | undefined, options: WhipPublishOptions = {}): Promise<WhipPublication> {
  let width = options.width ?? 640;
  let height = options.height ?? 360;
  const fps = options.fps ?? 30;
  const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  const stream = new wrtc.MediaStream();
  const video = new wrtc.nonstandard.RTCVideoSource();
  pc.addTransceiver(video.createTrack(), { direction: 'sendonly', streams: [stream] });
  const audio = options.audio === false ? undefined : new wrtc.nonstandard.RTCAudioSource();
  if (audio) pc.addTransceiver(audio.createTrack(), { direction: 'sendonly', streams: [stream] });

  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === 'complete') resolve();
    };
    setTimeout(resolve, 3000);
  });
  let offer = pc.localDescription!.sdp;
  if (options.declare) offer = offer.replace(/(m=video [^\r\n]*\r\n)/, `$1a=imageattr:* send [x=${options.declare.width},y=${options.declare.height}] recv *\r\n`);
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: offer,
  });
  const body = await response.text();
  let frames = 0;
  const timers: NodeJS.Timeout[] = [];
  const stopMedia = () => timers.forEach((timer) => clearInterval(timer));
  if (response.status === 201) {
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    let frame = new Uint8Array(width * height * 1.5);
    const growAt = options.grow ? Date.now() + options.grow.afterMs : Infinity;
    timers.push(
      setInterval(() => {
        if (options.grow && Date.now() >= growAt && width !== options.grow.width) {
          width = options.grow.width;
          height = options.grow.height;
          frame = new Uint8Array(width * height * 1.5);
        }
        const shift = frames * 4;
        for (let row = 0; row < height; row += 1) frame.fill((row + shift) & 0xff, row * width, row * width + width);
        frame.fill(128, width * height);
        if (options.clock) paintClock(frame, width, height, Date.now());
        video.onFrame({ width, height, data: frame });
        frames += 1;
      }, 1000 / fps),
    );
    if (audio) {
      let phase = 0;
      timers.push(
        setInterval(() => {
          const samples = new Int16Array(480);
          for (let index = 0; index < samples.length; index += 1) samples[index] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * phase++) / 48_000));
          audio.onData({ samples, sampleRate: 48_000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
        }, 10),
      );
    }
  } else {
    pc.close();
  }
  return {
    status: response.status,
    body,
    location: response.headers.get('location') ?? undefined,
    etag: response.headers.get('etag') ?? undefined,
    connectionState: () => pc.connectionState,
    frames: () => frames,
    stopMedia,
    close: () => {
      stopMedia();
      pc.close();
    },
  };
}

const [endpoint, token, optionsJson] = process.argv.slice(2);
const publication = await publishInThisProcess(endpoint!, token || undefined, JSON.parse(optionsJson ?? '{}') as WhipPublishOptions);
const report = (): void => {
  process.stdout.write(`${JSON.stringify({ frames: publication.frames(), connectionState: publication.connectionState() })}\n`);
};
process.stdout.write(`${JSON.stringify({ status: publication.status, body: publication.body, location: publication.location, etag: publication.etag })}\n`);
setInterval(report, 250);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  for (const command of chunk.split('\n')) {
    if (command === 'stopMedia') publication.stopMedia();
    if (command === 'close') {
      publication.close();
      report();
    }
  }
});
