import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { childrenNamed, cpuMsOf } from './child-cpu.js';

test('a busy child of this process is found by name and its CPU time read', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  // Burns 400 ms of its own CPU time (not wall time: the machine may be busy), then waits to be killed, so it is still there to be read.
  const burn = 'const from = process.cpuUsage(); while (process.cpuUsage(from).user < 400_000); setInterval(() => {}, 1000);';
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, ['-e', burn], { stdio: 'ignore' });
  try {
    await once(child, 'spawn');
    const pid = child.pid!;
    assert.ok(childrenNamed('node').includes(pid), 'the node child is listed among this process children');
    assert.ok(!childrenNamed('nats-server').includes(pid), 'a child of another name is not');
    let cpuMs = 0;
    for (const started = Date.now(); Date.now() - started < 20_000 && cpuMs < 400; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      cpuMs = cpuMsOf([pid]) ?? 0;
    }
    assert.ok(cpuMs >= 400, `the child used at least 400 ms of CPU by /proc, read ${cpuMs}`);
    // One busy thread (node's others are idle after start-up) cannot use much more CPU than the wall time that passed.
    const wallMs = Date.now() - spawnedAt;
    assert.ok(cpuMs <= 2 * wallMs + 200, `and not more than it could have in ${wallMs} ms, read ${cpuMs}`);
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit').catch(() => undefined);
  }
  assert.equal(cpuMsOf([child.pid!]), undefined, 'a process that is gone reads as nothing');
});
