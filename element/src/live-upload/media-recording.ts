/** Recording formats in order of preference: MP4/H.264 (uploads as is) before WebM (transcoded). */
export const RECORDING_TYPES = [
  'video/mp4;codecs=avc1.42E01E,mp4a.40.2',
  'video/mp4;codecs=avc1,mp4a',
  'video/mp4',
  'video/webm;codecs=vp9,opus',
  'video/webm;codecs=vp8,opus',
  'video/webm',
] as const;

/** The first of `RECORDING_TYPES` this browser's MediaRecorder supports ('' lets it choose). */
export function pickRecordingType(isTypeSupported: (type: string) => boolean = (type) => MediaRecorder.isTypeSupported(type)): string {
  return RECORDING_TYPES.find((type) => isTypeSupported(type)) ?? '';
}

export type RecordingSource = 'camera' | 'screen';

/** Opens the camera (with microphone) or asks which screen to share. */
export function openRecordingStream(source: RecordingSource): Promise<MediaStream> {
  return source === 'camera'
    ? navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: true })
    : navigator.mediaDevices.getDisplayMedia({ video: { height: { max: 720 } }, audio: true });
}

export interface RecordingResult {
  readonly blob: Blob;
  readonly durationMs: number;
}

/**
 * One MediaRecorder run over `stream`: stops at `maxDurationMs`, on `stop()`, or when the
 * stream ends (the user stops sharing). Resolves with the recording once the recorder flushed.
 */
export class MediaRecording {
  readonly #recorder: MediaRecorder;
  readonly #chunks: Blob[] = [];
  readonly #startedAt = performance.now();
  readonly #timer: ReturnType<typeof setTimeout>;
  #stoppedAt: number | undefined;
  readonly done: Promise<RecordingResult>;

  constructor(
    readonly stream: MediaStream,
    readonly maxDurationMs: number,
    mimeType = pickRecordingType(),
  ) {
    this.#recorder = new MediaRecorder(stream, mimeType ? { mimeType } : {});
    this.done = new Promise((resolve, reject) => {
      this.#recorder.addEventListener('dataavailable', ({ data }) => data.size && this.#chunks.push(data));
      this.#recorder.addEventListener('error', () => reject(new Error('the recorder failed')));
      this.#recorder.addEventListener('stop', () => {
        clearTimeout(this.#timer);
        this.#stoppedAt ??= performance.now();
        for (const track of stream.getTracks()) track.stop();
        const type = this.#recorder.mimeType || mimeType || 'video/webm';
        resolve({ blob: new Blob(this.#chunks, { type }), durationMs: this.elapsedMs });
      });
    });
    for (const track of stream.getTracks()) track.addEventListener('ended', () => this.stop());
    this.#timer = setTimeout(() => this.stop(), maxDurationMs);
    this.#recorder.start(1000);
  }

  get elapsedMs(): number {
    return Math.min(this.maxDurationMs, (this.#stoppedAt ?? performance.now()) - this.#startedAt);
  }

  stop(): void {
    if (this.#recorder.state === 'inactive') return;
    this.#stoppedAt = performance.now();
    this.#recorder.stop();
  }
}
