import assert from 'node:assert/strict';
import { readFile, readdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { processRuns } from '../../../test/fixtures/live-playlist.js';
import { startMain, type MainProcess } from '../../../test/support/main-process.js';

/** The ffmpeg processes whose parent is `parentPid` (Linux `/proc`). */
async function ffmpegChildren(parentPid: number): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const match = /^(\d+) \((.*)\) \S+ (\d+)/.exec(stat);
    if (match && match[2] === 'ffmpeg' && Number(match[3]) === parentPid) found.push(Number(match[1]));
  }
  return found;
}

/** Resolves once `pid` no longer runs; rejects after `timeoutMs`. Process exit has no event to wait on from outside, so this polls /proc. */
async function gone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await processRuns(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function goLive(main: MainProcess): Promise<number> {
  const response = await fetch(`${main.url}/demo/api/simulate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"action":"online"}' });
  assert.equal(response.status, 202, main.output());
  const [pid, ...more] = await ffmpegChildren(main.pid);
  assert.ok(pid !== undefined, `going live starts ffmpeg; output:\n${main.output()}`);
  assert.deepEqual(more, [], 'exactly one ffmpeg');
  return pid;
}

describe('demo live stream and the server process', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  it('leaves no ffmpeg behind after SIGTERM', async (t) => {
    const main = await startMain({ DEMO: '1', LOG_LEVEL: 'warn' });
    t.after(() => main.kill());
    const ffmpeg = await goLive(main);
    const exit = await main.stop('SIGTERM');
    assert.equal(exit.code, 0, main.output());
    assert.equal(await processRuns(ffmpeg), false, 'ffmpeg was stopped before the server exited');
  });

  it('leaves no ffmpeg behind even when the server is SIGKILLed', async (t) => {
    const main = await startMain({ DEMO: '1', LOG_LEVEL: 'warn' });
    t.after(() => main.kill());
    const ffmpeg = await goLive(main);
    // A killed server cannot remove its stream directory: the test does (ffmpeg's last argument is the playlist in it).
    const playlist = (await readFile(`/proc/${ffmpeg}/cmdline`, 'utf8')).split('\0').filter(Boolean).at(-1) ?? '';
    assert.match(playlist, /live-upload-demo-live-[^/]+\/index\.m3u8$/);
    t.after(() => rm(dirname(playlist), { recursive: true, force: true }));
    await main.stop('SIGKILL');
    await gone(ffmpeg, 5_000);
  });
});
