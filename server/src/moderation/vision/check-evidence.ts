import { spawn } from 'node:child_process';
import { DEFAULT_MEDIA_BINARIES, MediaProcessError, type MediaBinaries } from '../../media/index.js';
import type { ObjectRead, ObjectStore } from '../../storage/index.js';
import { evidencePrefixOf } from '../../uploads/index.js';
import type { SampledFrame } from './frame-sampler.js';

/** One flagged frame kept for moderators, as listed in a check's `details.evidence`. */
export interface EvidenceEntry {
  /** Its key in the quarantine store: `evidence/{upload_id}/{check}-{ms}.jpg`. */
  readonly key: string;
  /** The frame's time in seconds. */
  readonly t: number;
  /** What was seen: a nudity label (`Porn`, `Hentai`, `Sexy`) or `face`. */
  readonly label: string;
  readonly score: number;
}

/** The folder of an upload's evidence in the quarantine store. */
export function evidencePrefix(uploadId: string): string {
  return evidencePrefixOf(uploadId);
}

export interface EvidenceOptions {
  readonly binaries?: Partial<MediaBinaries>;
  /** JPEG encode of one small frame; default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * Keeps a flagged frame as a small JPEG in the quarantine store, under the upload's evidence
 * folder, so a moderator sees what the check saw without opening the clip. The quarantine, not
 * the public media store: the frame may show what the check flagged. The frames are already
 * small (224 px short side), so no further scaling. Keys hold the check name and the time in
 * ms, so a redelivered job overwrites its own evidence instead of adding copies.
 */
export async function saveEvidence(
  store: ObjectStore,
  uploadId: string,
  check: string,
  frame: SampledFrame,
  seen: { label: string; score: number },
  options: EvidenceOptions = {},
): Promise<EvidenceEntry> {
  const key = `${evidencePrefix(uploadId)}${check}-${Math.round(frame.t * 1000)}.jpg`;
  await store.put(key, await encodeJpeg(frame, options), { contentType: 'image/jpeg' });
  return { key, t: frame.t, label: seen.label, score: seen.score };
}

/**
 * An evidence thumbnail for the moderation page, or undefined when it is not there. Refuses
 * (RangeError) a key outside `evidence/{upload_id}/`: the route passes a key from a check's
 * details, and this is what keeps it from reading an upload's bytes or another upload's frames.
 */
export function readEvidence(store: ObjectStore, uploadId: string, key: string): Promise<ObjectRead | undefined> {
  const prefix = evidencePrefix(uploadId);
  const name = key.startsWith(prefix) ? key.slice(prefix.length) : '';
  if (!/^[a-z0-9-]+\.jpg$/.test(name)) throw new RangeError(`not an evidence key of upload ${uploadId}: ${JSON.stringify(key)}`);
  return store.get(key);
}

/** Removes an upload's evidence (with its bytes, when the quarantine lets the upload go); how many thumbnails went. */
export function deleteEvidence(store: ObjectStore, uploadId: string): Promise<number> {
  return store.deletePrefix(evidencePrefix(uploadId));
}

/** One raw RGB frame through ffmpeg's MJPEG encoder (stdin to stdout; no file on disk). */
function encodeJpeg(frame: SampledFrame, options: EvidenceOptions): Promise<Buffer> {
  const binary = options.binaries?.ffmpeg ?? DEFAULT_MEDIA_BINARIES.ffmpeg;
  const child = spawn(
    binary,
    [
      '-nostdin', '-hide_banner', '-v', 'error',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${frame.width}x${frame.height}`, '-i', 'pipe:0',
      '-frames:v', '1', '-q:v', '5', '-f', 'mjpeg', 'pipe:1',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'], shell: false, windowsHide: true },
  );
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let stderr = '';
    let failure: { kind: 'timeout' | 'spawn'; cause?: unknown } | undefined;
    const timer = setTimeout(() => {
      failure ??= { kind: 'timeout' };
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 10_000);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4096)));
    child.stdin.on('error', () => {
      // ffmpeg exited early; its exit status says why.
    });
    child.once('error', (error) => (failure ??= { kind: 'spawn', cause: error }));
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      if (failure) reject(new MediaProcessError({ tool: 'ffmpeg', kind: failure.kind, exitCode, stderrTail: stderr }, { cause: failure.cause }));
      else if (exitCode !== 0) reject(new MediaProcessError({ tool: 'ffmpeg', kind: 'exit', exitCode, stderrTail: stderr }));
      else resolve(Buffer.concat(out));
    });
    child.stdin.end(frame.rgb);
  });
}
