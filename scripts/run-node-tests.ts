import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Finds the node:test files of a suite and runs them with Node's test runner (Node 20 has no
 * glob for --test). `unit`: tests next to the code plus cross-cutting tests under test/
 * (bus contract on memory and real NATS, HTTP, pipeline); `e2e`: test/e2e (real Chromium);
 * `container`: test/container (the image, built and run with podman).
 * Extra arguments filter files by substring: `npm run test:unit -- bus`.
 */
const root = fileURLToPath(new URL('../', import.meta.url));
const [suite = 'unit', ...filters] = process.argv.slice(2);

async function findTests(directory: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) found.push(...(await findTests(path)));
    else if (entry.name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const roots = suite === 'e2e' ? ['test/e2e'] : suite === 'container' ? ['test/container'] : ['packages', 'server/src', 'test', 'bench'];
const all = (await Promise.all(roots.map((dir) => findTests(join(root, dir)).catch(() => [])))).flat();
const files = all
  .map((file) => relative(root, file))
  .filter((file) => (suite === 'e2e' || suite === 'container' ? true : !file.startsWith('test/e2e/') && !file.startsWith('test/container/')))
  .filter((file) => filters.every((filter) => file.includes(filter)))
  .sort();

if (files.length === 0) {
  process.stderr.write(`no ${suite} test files found\n`);
  process.exit(1);
}

// Unit files two at a time at least: Node's default (one per core less one) runs them one by one
// on a 2-core machine, where most of them wait on sockets, timers and child processes, not the
// CPU. End-to-end files one at a time: each drives Chromium and ffmpeg, and some time them.
const concurrency = suite === 'e2e' || suite === 'container' ? 1 : Math.max(2, availableParallelism());
const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], { cwd: root, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
