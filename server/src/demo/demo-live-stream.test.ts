import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runFfprobe } from '../media/index.js';
import { createLogger } from '../observability/index.js';
import { demoLiveSourceArgs, findClockFont } from './demo-live-source.js';
import { DemoLiveStream } from './demo-live-stream.js';
import { playlistSegments, playlistWhen, processRuns } from '../../../test/fixtures/live-playlist.js';

const segmentCount = (playlist: string) => playlistSegments(playlist).length;

const silent = createLogger({ level: 'silent' });

describe('demo live source arguments', () => {
  it('builds an argv of 2 s HLS segments with program date time, the clock only with a font', () => {
    const args = demoLiveSourceArgs({ dir: '/tmp/live', fontFile: '/fonts/Mono:Bold\'s.ttf' });
    const at = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(at('-hls_time'), '2');
    assert.match(at('-hls_flags') ?? '', /program_date_time/);
    assert.match(at('-hls_flags') ?? '', /delete_segments/);
    assert.equal(at('-g'), '50', 'one keyframe per segment at 25 fps');
    assert.equal(args.at(-1), '/tmp/live/index.m3u8');
    assert.equal(at('-hls_segment_filename'), '/tmp/live/segment-%d.ts');
    const filter = at('-vf') ?? '';
    assert.match(filter, /^drawtext=fontfile=\/fonts\/Mono\\:Bold\\'s\.ttf:/, 'the font path is escaped for the filtergraph');
    assert.match(filter, /gmtime/);
    assert.ok(args.includes('testsrc2=size=640x360:rate=25'));
    assert.equal(demoLiveSourceArgs({ dir: '/tmp/live', fontFile: null }).includes('-vf'), false);
  });

  it('finds the first font that exists, or none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'live-upload-font-'));
    try {
      const font = join(dir, 'clock.ttf');
      await writeFile(font, 'not really a font');
      assert.equal(await findClockFont([join(dir, 'missing.ttf'), font]), font);
      assert.equal(await findClockFont([join(dir, 'missing.ttf')]), null);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('demo live stream', () => {
  let stream: DemoLiveStream;

  before(async () => {
    const opened = await DemoLiveStream.open({ logger: silent, restartDelayMs: 200 });
    assert.ok(opened, 'ffmpeg is installed on this machine');
    stream = opened;
  });
  after(() => stream.close());

  it('writes a rolling live playlist of 2 s H.264 + AAC segments with EXT-X-PROGRAM-DATE-TIME', async () => {
    const started = once(stream, 'started');
    await stream.start();
    await started;
    assert.equal(stream.live, true);
    const playlist = await playlistWhen(stream.dir, (text) => segmentCount(text) >= 2);
    assert.match(playlist, /^#EXTM3U/);
    assert.match(playlist, /#EXT-X-TARGETDURATION:2\n/);
    assert.match(playlist, /#EXT-X-PROGRAM-DATE-TIME:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}/);
    assert.doesNotMatch(playlist, /#EXT-X-ENDLIST/, 'a live playlist has no end');
    const segment = playlist.split('\n').find((line) => /^segment-\d+\.ts$/.test(line)) ?? '';
    const probe = JSON.parse((await runFfprobe(['-v', 'error', '-print_format', 'json', '-show_streams', join(stream.dir, segment)], { timeoutMs: 10_000 })).stdout.toString('utf8')) as {
      streams: Array<{ codec_name: string }>;
    };
    assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  });

  it('restarts a crashed ffmpeg with backoff, and stops it for good on stop()', async () => {
    const first = stream.pid;
    assert.ok(first && (await processRuns(first)));
    const exited = once(stream, 'exited');
    const restarted = once(stream, 'started');
    const killedAtS = Math.floor(Date.now() / 1000);
    process.kill(first, 'SIGKILL');
    const [exit] = (await exited) as [{ signal: string | null; restartInMs: number | null }];
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(exit.restartInMs, 200);
    const [second] = (await restarted) as [number];
    assert.notEqual(second, first);
    assert.equal(await processRuns(first), false);
    // The restarted run's playlist: media sequence numbers come from the epoch, so they never go back.
    await playlistWhen(stream.dir, (text) => segmentCount(text) >= 1 && Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]) >= killedAtS);

    // A second crash in a row waits twice as long.
    const again = once(stream, 'exited');
    process.kill(second, 'SIGKILL');
    assert.equal(((await again) as [{ restartInMs: number }])[0].restartInMs, 400);
    await once(stream, 'started');

    const running = stream.pid;
    assert.ok(running);
    await stream.stop();
    assert.equal(stream.live, false);
    assert.equal(stream.pid, undefined);
    assert.equal(await processRuns(running), false, 'ffmpeg is gone after stop()');
    await assert.rejects(access(join(stream.dir, 'index.m3u8')), 'an offline stream has no playlist');
  });

  it('stops during the restart delay without starting again', async () => {
    await stream.start();
    const pid = stream.pid;
    assert.ok(pid);
    const exited = once(stream, 'exited');
    process.kill(pid, 'SIGKILL');
    await exited;
    const starts = stream.starts;
    await stream.stop();
    // Longer than the restart delay would have been; nothing may start.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(stream.starts, starts);
    assert.equal(stream.pid, undefined);
  });
});

describe('demo live stream directories', () => {
  it('removes the directories of servers that are gone, and only those', async () => {
    const dead = spawnSync('true').pid;
    const gone = await mkdtemp(join(tmpdir(), 'live-upload-demo-live-'));
    const running = await mkdtemp(join(tmpdir(), 'live-upload-demo-live-'));
    const unowned = await mkdtemp(join(tmpdir(), 'live-upload-demo-live-'));
    try {
      await writeFile(join(gone, '.owner-pid'), String(dead));
      await writeFile(join(gone, 'index.m3u8'), '#EXTM3U');
      await writeFile(join(running, '.owner-pid'), String(process.ppid));
      const stream = await DemoLiveStream.open({ logger: silent });
      assert.ok(stream);
      await stream.close();
      await assert.rejects(access(gone), 'the directory of a dead server is removed');
      await access(running);
      await access(unowned);
      await assert.rejects(access(stream.dir), 'close() removes its own directory');
    } finally {
      await Promise.all([gone, running, unowned].map((dir) => rm(dir, { recursive: true, force: true })));
    }
  });
});

describe('demo live stream without ffmpeg', () => {
  it('is not opened, and says so once', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = createLogger({ level: 'warn', destination });
    const stream = await DemoLiveStream.open({ logger, ffmpeg: '/nonexistent/ffmpeg' });
    assert.equal(stream, undefined);
    assert.equal(lines.filter((line) => /ffmpeg is not available/.test(line)).length, 1);
  });
});
