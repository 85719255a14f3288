import type { Logger } from './observability/index.js';

/** One running part of the server: started once, stopped once. */
export interface Service {
  /** Names the service in the stop log lines. */
  readonly name: string;
  /** Brings the service up; the next service starts after this settles. */
  start?(): void | Promise<void>;
  stop(): void | Promise<void>;
  /** This service's own stop deadline (an HTTP drain has its own budget); default: the lifecycle's. */
  readonly stopTimeoutMs?: number;
}

/** How one service's stop went. */
export interface StopResult {
  readonly name: string;
  readonly ms: number;
  readonly outcome: 'stopped' | 'failed' | 'timed_out';
  readonly error?: unknown;
}

export interface LifecycleOptions {
  readonly logger: Logger;
  /** How long one service's stop may take before the next one starts anyway. */
  readonly stopTimeoutMs?: number;
}

/** A service that has not stopped within its deadline. */
export class StopTimeout extends Error {
  constructor(name: string, ms: number) {
    super(`${name} did not stop within ${ms} ms`);
    this.name = 'StopTimeout';
  }
}

/**
 * The running services, in the order they started. `stop()` stops them in reverse (what
 * started last depends on what started before it), each within a deadline and logged (name,
 * ms, error); a stop that fails or hangs does not keep the others from stopping.
 */
export class Lifecycle {
  private readonly started: Service[] = [];
  private stopping: Promise<StopResult[]> | undefined;

  constructor(private readonly options: LifecycleOptions) {}

  /**
   * Starts `service` and adds it to the list. When its start fails, the services already
   * started are stopped (in reverse) and the start error is thrown.
   */
  async start(service: Service): Promise<void> {
    if (this.stopping) throw new Error(`${service.name}: cannot start, the server is stopping`);
    try {
      await service.start?.();
    } catch (error) {
      this.options.logger.error({ service: service.name, err: error }, 'start failed');
      await this.stop();
      throw error;
    }
    this.started.push(service);
  }

  /** Stops every started service in reverse start order. Idempotent: later calls get the same result. */
  stop(): Promise<StopResult[]> {
    return (this.stopping ??= this.stopAll());
  }

  private async stopAll(): Promise<StopResult[]> {
    const results: StopResult[] = [];
    for (const service of [...this.started].reverse()) results.push(await this.stopOne(service));
    return results;
  }

  private async stopOne(service: Service): Promise<StopResult> {
    const { logger } = this.options;
    const timeoutMs = service.stopTimeoutMs ?? this.options.stopTimeoutMs ?? 5_000;
    const startedAt = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StopTimeout(service.name, timeoutMs)), timeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(() => service.stop()), deadline]);
      const ms = Math.round(performance.now() - startedAt);
      logger.info({ service: service.name, ms }, 'service stopped');
      return { name: service.name, ms, outcome: 'stopped' };
    } catch (error) {
      const ms = Math.round(performance.now() - startedAt);
      const outcome = error instanceof StopTimeout ? 'timed_out' : 'failed';
      logger.error({ service: service.name, ms, err: error }, outcome === 'timed_out' ? 'service stop timed out' : 'service stop failed');
      return { name: service.name, ms, outcome, error };
    } finally {
      clearTimeout(timer);
    }
  }
}
