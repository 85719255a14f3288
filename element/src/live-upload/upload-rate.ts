/** How fast the smoothed speed follows the measured one: half of it is forgotten after this long (Uppy's status bar uses 2 s). */
const HALF_LIFE_MS = 2000;

/**
 * An upload's speed and time left, smoothed with an exponential moving average so the line a
 * viewer reads does not jump with every chunk. Pure: feed it `(bytesUploaded, atMs)`.
 */
export class UploadRate {
  #lastBytes: number | undefined;
  #lastAtMs = 0;
  #bytesPerSecond: number | undefined;

  /** Takes one progress report; a report with fewer bytes (a restart from the server's offset) starts over. */
  sample(bytesUploaded: number, atMs: number): void {
    if (this.#lastBytes === undefined || bytesUploaded < this.#lastBytes) {
      this.#lastBytes = bytesUploaded;
      this.#lastAtMs = atMs;
      return;
    }
    const elapsed = atMs - this.#lastAtMs;
    if (elapsed <= 0) return;
    const speed = ((bytesUploaded - this.#lastBytes) * 1000) / elapsed;
    const keep = 0.5 ** (elapsed / HALF_LIFE_MS);
    this.#bytesPerSecond = this.#bytesPerSecond === undefined ? speed : this.#bytesPerSecond * keep + speed * (1 - keep);
    this.#lastBytes = bytesUploaded;
    this.#lastAtMs = atMs;
  }

  /** Bytes per second, once two reports came in. */
  get bytesPerSecond(): number | undefined {
    return this.#bytesPerSecond;
  }

  /** Time left for `remainingBytes` at the smoothed speed; undefined until there is a speed. */
  msLeft(remainingBytes: number): number | undefined {
    const speed = this.#bytesPerSecond;
    return speed && speed > 0 ? (Math.max(0, remainingBytes) / speed) * 1000 : undefined;
  }
}
