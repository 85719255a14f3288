/** Something the heartbeat keeps talking: an open event stream. */
export interface HeartbeatListener {
  /** Writes a heartbeat when the stream wrote nothing in tick period `epoch` nor after it (its last write's epoch is lower). */
  beatIfQuietSince(epoch: number): void;
}

/** The timer functions the heartbeat runs on: node's, or a clock a test advances by hand. */
export interface HeartbeatTimers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const NODE_TIMERS: HeartbeatTimers = {
  setInterval: (callback, ms) => {
    const handle = setInterval(callback, ms);
    // Open event streams do not keep a process alive that is otherwise done.
    handle.unref();
    return handle;
  },
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

/**
 * One timer for every open event stream of a process, in place of one interval per connection:
 * at 10,000 subscribers that was 10,000 timers, each writing `: hb` every interval whether or not
 * the stream had just carried an event (issue 26: a fifth of a replica's socket writes at 16,667
 * subscribers, and the bare broadcast sends none).
 *
 * A heartbeat exists so that no proxy on the way sees a stream idle for longer than `intervalMs`
 * (nginx's `proxy_read_timeout`, a load balancer's idle timeout), and any bytes do that as well
 * as a comment. So the timer ticks every half interval, numbering its ticks (epochs); a stream
 * notes the epoch of its last write, and at each tick a stream that wrote nothing since the
 * previous tick writes `: hb`. A stream whose last bytes went out at time t, inside epoch k,
 * is checked at the tick that starts epoch k + 2, at most one interval after t; a stream that
 * carries events at least every half interval never gets a heartbeat; an idle one gets one per
 * interval, as before.
 */
export class SseHeartbeat {
  private readonly listeners = new Set<HeartbeatListener>();
  private handle: unknown;
  private current = 0;

  constructor(
    /** The longest a stream may go without bytes (config `SSE_HEARTBEAT_MS`). */
    readonly intervalMs: number,
    private readonly timers: HeartbeatTimers = NODE_TIMERS,
  ) {}

  /** The number of the tick period now running; a stream stores it with each write. */
  get epoch(): number {
    return this.current;
  }

  /** Streams being kept alive. */
  get size(): number {
    return this.listeners.size;
  }

  /** Keeps `listener` alive until `remove`; the timer runs while anyone is listening. */
  add(listener: HeartbeatListener): void {
    this.listeners.add(listener);
    this.handle ??= this.timers.setInterval(this.tick, Math.max(1, Math.floor(this.intervalMs / 2)));
  }

  remove(listener: HeartbeatListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0 && this.handle !== undefined) {
      this.timers.clearInterval(this.handle);
      this.handle = undefined;
    }
  }

  private readonly tick = (): void => {
    const quietSince = this.current;
    this.current++;
    // A stream whose write fails closes and removes itself here; a Set's iteration allows that.
    // `forEach` allocates no iterator result per stream.
    this.listeners.forEach((listener) => listener.beatIfQuietSince(quietSince));
  };
}
