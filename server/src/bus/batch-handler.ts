import type { BusMessage, MessageHandler } from './bus.js';

/**
 * Handles messages a batch at a time. Every message's result is its batch's result: when the
 * batch handler resolves, each message it did not settle itself is acked; when it throws,
 * each is nak'ed with the bus's backoff. A message can still be settled on its own inside the
 * batch (`term()` a poison one, `nak()` one that must come again).
 */
export type BatchHandler = (messages: readonly BusMessage[]) => Promise<void>;

export interface BatchHandlerOptions {
  /** At most this many messages per call. */
  readonly maxBatch: number;
  /**
   * Extra event-loop turns a batch may wait to fill while messages keep arriving (default 0).
   * A turn in which none arrived ends the wait, so a trickle is never held back.
   */
  readonly lingerTurns?: number;
  /**
   * While a batch runs, every message held here (the batch's and those queued behind it) is
   * told to the bus as still being worked on every this many ms: a batch held up by one slow
   * message (a publish retried through an outage) does not let the others pass the consumer's
   * ack wait and be delivered again elsewhere. Give about a third of the ack wait. Default: off.
   */
  readonly keepAliveMs?: number;
}

interface Queued {
  readonly message: BusMessage;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Turns a consumer's per-message deliveries into batches, in delivery order, one batch at a
 * time: messages delivered in the same tick, or while a batch is being handled, go together
 * into the next one. So at a trickle each message is handled at once, alone, and under load
 * the work that is per batch rather than per message (a channel's state read and
 * compare-and-set, its status publish) is paid once for many messages. Give the consumer a
 * `maxAckPending` well above `maxBatch` so the next batch fills while one runs.
 */
export function batchHandler(handle: BatchHandler, options: BatchHandlerOptions): MessageHandler {
  if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
  const lingerTurns = options.lingerTurns ?? 0;
  if (!Number.isInteger(lingerTurns) || lingerTurns < 0) throw new RangeError('lingerTurns must be a non-negative integer');
  const keepAliveMs = options.keepAliveMs;
  if (keepAliveMs !== undefined && !(keepAliveMs > 0)) throw new RangeError('keepAliveMs must be positive');
  let queue: Queued[] = [];
  let taken: Queued[] = [];
  let running = false;
  const stillWorking = (): void => {
    for (const entry of taken) entry.message.working();
    for (const entry of queue) entry.message.working();
  };

  async function run(): Promise<void> {
    const keepAlive = keepAliveMs === undefined ? undefined : setInterval(stillWorking, keepAliveMs);
    keepAlive?.unref();
    try {
      await drain();
    } finally {
      clearInterval(keepAlive);
    }
  }

  async function drain(): Promise<void> {
    // Wait for the end of this event-loop turn: every delivery of the turn (the requests of all
    // sockets that were readable) joins the first batch. Less than a turn of added latency.
    let queued = queue.length;
    await nextTurn();
    // Under a steady flow, a few more turns: the work that is per batch is paid for more messages.
    for (let turn = 0; turn < lingerTurns && queue.length < options.maxBatch && queue.length > queued; turn++) {
      queued = queue.length;
      await nextTurn();
    }
    while (queue.length > 0) {
      taken = queue.length <= options.maxBatch ? queue : queue.slice(0, options.maxBatch);
      queue = taken === queue ? [] : queue.slice(options.maxBatch);
      try {
        await handle(taken.map((entry) => entry.message));
        for (const entry of taken) entry.resolve();
      } catch (error) {
        for (const entry of taken) entry.reject(error);
      }
    }
    // In the turn that found the queue empty: a delivery after it starts a run of its own.
    taken = [];
    running = false;
  }

  return (message) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ message, resolve, reject });
      if (running) return;
      running = true;
      void run();
    });
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
