import type { SimulatorAction } from './twitch-simulator.js';

/** What the demo page shows about the simulated streamer (`GET /demo/api/streamer`). */
export interface SimulatedStreamerView {
  /** The streamer is streaming: their last accepted action was Go live. */
  readonly streaming: boolean;
  /** The last title they set, if any. */
  readonly title: string | null;
  /** How long the server holds LIVE after an offline (`OFFLINE_GRACE_MS`). */
  readonly grace_window_ms: number;
  /** After Go offline: how long until the grace window ends (0 once it has); null otherwise. */
  readonly offline_in_ms: number | null;
}

/**
 * What the simulated streamer did last, as far as the server accepted it: streaming or not,
 * when they stopped, their title. The channel's real status comes from the live-status stream;
 * this is what the streamer's own controls show.
 */
export class SimulatedStreamer {
  #streaming = false;
  #stoppedAtMs: number | null = null;
  #title: string | null = null;

  constructor(
    private readonly graceWindowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records an action the webhook accepted. */
  accepted(action: SimulatorAction, title: string | undefined): void {
    if (title !== undefined) this.#title = title;
    if (action === 'online') {
      this.#streaming = true;
      this.#stoppedAtMs = null;
    } else if (action === 'offline' && (this.#streaming || this.#stoppedAtMs === null)) {
      // The first offline of a run counts down too: it may end a broadcast a previous run left live.
      this.#streaming = false;
      this.#stoppedAtMs = this.now();
    }
  }

  view(): SimulatedStreamerView {
    const stopped = this.#stoppedAtMs;
    return {
      streaming: this.#streaming,
      title: this.#title,
      grace_window_ms: this.graceWindowMs,
      offline_in_ms: stopped === null ? null : Math.max(0, stopped + this.graceWindowMs - this.now()),
    };
  }
}
