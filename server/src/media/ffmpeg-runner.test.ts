import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFfmpeg, runFfprobe } from './ffmpeg-runner.js';
import { createJobLimiter } from './job-limiter.js';
import { MediaProcessError } from './media-process-error.js';

/** An endless lavfi source: the process only ends when we kill it. */
const ENDLESS = ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=5', '-f', 'null', '-'];

describe('runFfmpeg / runFfprobe', () => {
  it('returns stdout of a successful run', async () => {
    const { stdout } = await runFfprobe(['-version'], { timeoutMs: 10_000 });
    assert.match(stdout.toString(), /^ffprobe version/);
  });

  it('rejects a failing run with a MediaProcessError carrying the exit code and stderr tail', async () => {
    const error = await runFfmpeg(['-v', 'error', '-i', '/nonexistent/input.mp4', '-f', 'null', '-'], { timeoutMs: 10_000 }).then(
      () => assert.fail('expected a rejection'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof MediaProcessError);
    assert.equal(error.tool, 'ffmpeg');
    assert.equal(error.kind, 'exit');
    assert.notEqual(error.exitCode, 0);
    assert.match(error.stderrTail, /No such file or directory/);
  });

  it('SIGKILLs a run that outlives its timeout', async () => {
    const started = performance.now();
    await assert.rejects(runFfmpeg(ENDLESS, { timeoutMs: 300 }), (error: unknown) => {
      assert.ok(error instanceof MediaProcessError);
      assert.equal(error.kind, 'timeout');
      assert.equal(error.exitCode, null);
      return true;
    });
    assert.ok(performance.now() - started < 5_000);
  });

  it('SIGKILLs a run when its signal aborts', async () => {
    const controller = new AbortController();
    const run = runFfmpeg(ENDLESS, { timeoutMs: 30_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('job cancelled')), 200);
    await assert.rejects(run, (error: unknown) => error instanceof MediaProcessError && error.kind === 'aborted');
  });

  it('rejects at once when the signal is already aborted', async () => {
    await assert.rejects(runFfprobe(['-version'], { timeoutMs: 10_000, signal: AbortSignal.abort() }), (error: unknown) => {
      return error instanceof MediaProcessError && error.kind === 'aborted';
    });
  });

  it('uses the binary named in options and reports one that cannot start', async () => {
    await assert.rejects(runFfprobe(['-version'], { timeoutMs: 10_000, binaries: { ffprobe: '/nonexistent/ffprobe' } }), (error: unknown) => {
      return error instanceof MediaProcessError && error.kind === 'spawn' && error.tool === 'ffprobe';
    });
  });

  it('reports progress in seconds of output written', async () => {
    const seen: number[] = [];
    await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=10:duration=2', '-f', 'null', '-'], {
      timeoutMs: 10_000,
      onProgress: (seconds) => seen.push(seconds),
    });
    assert.ok(seen.length > 0);
    assert.ok(Math.abs((seen.at(-1) ?? 0) - 2) < 0.2, `last progress ${seen.at(-1)}`);
  });

  it('kills a run that writes more than maxStdoutBytes', async () => {
    const args = ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=10:duration=5', '-f', 'rawvideo', 'pipe:1'];
    await assert.rejects(runFfmpeg(args, { timeoutMs: 10_000, maxStdoutBytes: 1024 }), (error: unknown) => {
      return error instanceof MediaProcessError && error.kind === 'output_too_large';
    });
  });
});

describe('createJobLimiter', () => {
  it('runs at most `concurrency` jobs at once, in FIFO order', async () => {
    const limiter = createJobLimiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const jobs = [0, 1, 2, 3, 4].map((n) =>
      limiter.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        order.push(n);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        return n;
      }),
    );
    await Promise.resolve();
    assert.equal(limiter.active, 2);
    assert.equal(limiter.pending, 3);
    while (order.length < 5 || releases.length > 0) {
      const release = releases.shift();
      if (release) release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(await Promise.all(jobs), [0, 1, 2, 3, 4]);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(peak, 2);
    assert.equal(limiter.active, 0);
  });

  it('frees the slot when a job throws', async () => {
    const limiter = createJobLimiter(1);
    await assert.rejects(limiter.run(() => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await limiter.run(() => Promise.resolve('next')), 'next');
  });

  it('refuses a concurrency below 1', () => {
    assert.throws(() => createJobLimiter(0), RangeError);
  });
});
