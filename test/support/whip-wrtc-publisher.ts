import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * A WHIP publisher that is not ours: Google's libwebrtc (the `@roamhq/wrtc` prebuilt, as in
 * Chrome) driven by a plain RFC 9725 exchange: one POST with the complete offer, the answer
 * applied, then synthetic frames and a tone (`whip-wrtc-publisher-child.ts`). It runs in a child
 * process: after a connection, libwebrtc's native threads kept the test process alive for minutes
 * after its tests ended, and stopping its tracks first made it crash at exit instead; a child is
 * killed when its publication is closed, and the test process exits on time.
 */

export interface WhipPublication {
  /** The POST's status and body (the answer on 201, a JSON error otherwise). */
  readonly status: number;
  readonly body: string;
  readonly location: string | undefined;
  readonly etag: string | undefined;
  /** The peer connection's state, as last reported by the child (every 250 ms). */
  readonly connectionState: () => string;
  /** Frames pushed so far, as last reported. */
  readonly frames: () => number;
  /** Stops the media (the server then sees no RTP: its media timeout). */
  stopMedia(): void;
  /** Stops the media and closes the peer connection, without a DELETE; the child is gone shortly after. */
  close(): void;
}

export interface WhipPublishOptions {
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
  readonly audio?: boolean;
  /**
   * Burn the wall-clock ms each frame is handed to libwebrtc into its top third
   * (`bench/origin-clock-code.ts`), for glass-to-glass latency read back from the ladder.
   */
  readonly clock?: boolean;
  /** Declare this picture in the offer (RFC 6236 `a=imageattr:* send [x=,y=]`, as our element does). */
  readonly declare?: { readonly width: number; readonly height: number };
  /** After `afterMs` of frames, the frames grow to this size (an encoder that starts small and scales up). */
  readonly grow?: { readonly width: number; readonly height: number; readonly afterMs: number };
}

const CHILD = fileURLToPath(new URL('./whip-wrtc-publisher-child.ts', import.meta.url));

/** Offers to `endpoint` with `token` and, when answered, publishes until closed. */
export async function publishWithLibwebrtc(endpoint: string, token: string | undefined, options: WhipPublishOptions = {}): Promise<WhipPublication> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, endpoint, token ?? '', JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  let frames = 0;
  let connectionState = 'new';
  const first = await new Promise<{ status: number; body: string; location?: string; etag?: string }>((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`the libwebrtc publisher exited before answering (${code ?? signal})`)));
    lines.once('line', (line) => resolve(JSON.parse(line) as { status: number; body: string; location?: string; etag?: string }));
  });
  lines.on('line', (line) => {
    const update = JSON.parse(line) as { frames: number; connectionState: string };
    frames = update.frames;
    connectionState = update.connectionState;
  });
  child.removeAllListeners('exit');
  const send = (command: string): void => {
    if (child.exitCode === null && child.signalCode === null) child.stdin.write(`${command}\n`);
  };
  const close = (): void => {
    send('close');
    // Time for its close to reach the server (DTLS close), then it goes whatever its threads do.
    setTimeout(() => child.kill('SIGKILL'), 500).unref();
    child.stdin.end();
    child.unref();
  };
  if (first.status !== 201) close();
  return {
    status: first.status,
    body: first.body,
    location: first.location,
    etag: first.etag,
    connectionState: () => connectionState,
    frames: () => frames,
    stopMedia: () => send('stopMedia'),
    close,
  };
}
