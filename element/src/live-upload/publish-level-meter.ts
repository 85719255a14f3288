/** The quietest level the meter shows above zero (dBFS); speech into a laptop microphone sits around -30. */
const FLOOR_DB = -60;

/**
 * How loud the microphone is, for the publisher's level meter: a Web Audio `AnalyserNode` on
 * the audio track, read on demand as 0..100 (the RMS of the latest window, -60 dBFS .. 0 dBFS
 * on a linear scale of decibels, which is how loudness is heard). The analyser is a sink with no
 * output: nothing reaches the speakers. `close()` ends its AudioContext.
 */
export class PublishLevelMeter {
  readonly #context: AudioContext;
  readonly #source: MediaStreamAudioSourceNode;
  readonly #analyser: AnalyserNode;
  readonly #samples: Float32Array<ArrayBuffer>;

  constructor(track: MediaStreamTrack) {
    this.#context = new AudioContext();
    this.#source = this.#context.createMediaStreamSource(new MediaStream([track]));
    this.#analyser = this.#context.createAnalyser();
    this.#analyser.fftSize = 2048;
    this.#source.connect(this.#analyser);
    this.#samples = new Float32Array(this.#analyser.fftSize);
    // Created in a click (a user activation), it runs; created later, the page's next click resumes it.
    void this.#context.resume().catch(() => {});
  }

  /** Whether the analyser runs (a context made without a user activation stays suspended until one). */
  get running(): boolean {
    return this.#context.state === 'running';
  }

  /** Resumes a suspended context (call from a user action). */
  resume(): void {
    void this.#context.resume().catch(() => {});
  }

  /** The level now, 0 (silence, or below -60 dBFS) to 100 (full scale). */
  level(): number {
    this.#analyser.getFloatTimeDomainData(this.#samples);
    let sum = 0;
    for (const sample of this.#samples) sum += sample * sample;
    const rms = Math.sqrt(sum / this.#samples.length);
    if (rms <= 0) return 0;
    const db = 20 * Math.log10(rms);
    return Math.round(Math.min(100, Math.max(0, ((db - FLOOR_DB) / -FLOOR_DB) * 100)));
  }

  close(): void {
    this.#source.disconnect();
    void this.#context.close().catch(() => {});
  }
}
