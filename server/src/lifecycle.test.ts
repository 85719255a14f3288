import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Lifecycle, type Service } from './lifecycle.js';
import { createLogger } from './observability/index.js';

/** A logger whose JSON lines are kept for the test to read. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

function recorded(name: string, events: string[], stop: () => void | Promise<void> = () => undefined): Service {
  return {
    name,
    start: () => {
      events.push(`start ${name}`);
    },
    stop: () => {
      events.push(`stop ${name}`);
      return stop();
    },
  };
}

describe('Lifecycle', () => {
  it('starts services in the order given and stops them in reverse, once', async () => {
    const events: string[] = [];
    const lifecycle = new Lifecycle({ logger: capturingLogger().logger });
    for (const name of ['bus', 'pipeline', 'http']) await lifecycle.start(recorded(name, events));
    const [first, second] = await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    assert.deepEqual(events, ['start bus', 'start pipeline', 'start http', 'stop http', 'stop pipeline', 'stop bus']);
    assert.deepEqual(first.map((result) => [result.name, result.outcome]), [['http', 'stopped'], ['pipeline', 'stopped'], ['bus', 'stopped']]);
    assert.equal(second, first);
    await lifecycle.stop();
    assert.equal(events.length, 6, 'a second stop stops nothing again');
  });

  it('stops the rest when one stop throws, and logs the name, the time and the error', async () => {
    const events: string[] = [];
    const { logger, lines } = capturingLogger();
    const lifecycle = new Lifecycle({ logger });
    await lifecycle.start(recorded('bus', events));
    await lifecycle.start(recorded('worker', events, () => Promise.reject(new Error('worker would not stop'))));
    await lifecycle.start(recorded('http', events));
    const results = await lifecycle.stop();
    assert.deepEqual(events.filter((event) => event.startsWith('stop')), ['stop http', 'stop worker', 'stop bus']);
    assert.deepEqual(results.map((result) => result.outcome), ['stopped', 'failed', 'stopped']);
    const failed = lines.find((line) => line['service'] === 'worker');
    assert.ok(failed, JSON.stringify(lines));
    assert.equal(failed['msg'], 'service stop failed');
    assert.equal(typeof failed['ms'], 'number');
    assert.match(JSON.stringify(failed['err']), /worker would not stop/);
    assert.ok(lines.some((line) => line['service'] === 'bus' && line['msg'] === 'service stopped' && typeof line['ms'] === 'number'));
  });

  it('gives up on a stop that hangs after its deadline and stops the others', async () => {
    const events: string[] = [];
    const { logger, lines } = capturingLogger();
    const lifecycle = new Lifecycle({ logger, stopTimeoutMs: 50 });
    await lifecycle.start(recorded('bus', events));
    await lifecycle.start(recorded('stuck', events, () => new Promise<void>(() => undefined)));
    const results = await lifecycle.stop();
    assert.deepEqual(results.map((result) => [result.name, result.outcome]), [['stuck', 'timed_out'], ['bus', 'stopped']]);
    assert.ok(results[0]!.ms >= 45, `${results[0]!.ms} ms`);
    assert.ok(lines.some((line) => line['service'] === 'stuck' && line['msg'] === 'service stop timed out'));
  });

  it('stops what already started, in reverse, when a start fails, and throws the start error', async () => {
    const events: string[] = [];
    const lifecycle = new Lifecycle({ logger: capturingLogger().logger });
    await lifecycle.start(recorded('bus', events));
    await lifecycle.start(recorded('pipeline', events));
    const broken: Service = {
      name: 'http',
      start: () => Promise.reject(new Error('EADDRINUSE')),
      stop: () => {
        events.push('stop http');
      },
    };
    await assert.rejects(lifecycle.start(broken), /EADDRINUSE/);
    assert.deepEqual(events, ['start bus', 'start pipeline', 'stop pipeline', 'stop bus']);
    await assert.rejects(lifecycle.start(recorded('late', events)), /stopping/);
  });
});
