import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/**
 * A CPU profile of this process over a window the bench chooses (the measured rounds, not the
 * minutes of connecting subscribers before them), through the inspector in the process itself:
 * bench children are spawned with fixed flags, so `--cpu-prof` cannot be added per child, and
 * would profile the whole run anyway. The file reads with bench/support/profile-top.ts.
 */
export class RoundProfiler {
  private session: Session | undefined;

  async start(): Promise<void> {
    if (this.session) return;
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    this.session = session;
  }

  /** Stops profiling and writes the `.cpuprofile` to `path`. */
  async stop(path: string): Promise<void> {
    const session = this.session;
    if (!session) throw new Error('the profiler was not started');
    this.session = undefined;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await writeFile(path, JSON.stringify(profile));
  }
}
