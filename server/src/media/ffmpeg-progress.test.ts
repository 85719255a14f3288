import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { runFfmpeg } from './ffmpeg-runner.js';
import { readFfmpegProgress } from './ffmpeg-progress.js';

describe('readFfmpegProgress', () => {
  it('hands over each key=value line, put back together across chunks', async () => {
    const stream = new PassThrough();
    const fields: string[] = [];
    readFfmpegProgress(stream, (key, value) => fields.push(`${key}:${value}`));
    stream.write('frame=12\nfps=0.0\nout_time_us=40');
    stream.write('0000\nspeed=1.02x\nprogress=continue\nnot a field\n=nokey\n');
    stream.end('frame=27\n');
    await new Promise((resolve) => stream.once('end', resolve).resume());
    assert.deepEqual(fields, ['frame:12', 'fps:0.0', 'out_time_us:400000', 'speed:1.02x', 'progress:continue', 'frame:27']);
  });

  it('reads what a real ffmpeg reports (the transcodes’ out_time_us through runFfmpeg)', async () => {
    const seconds: number[] = [];
    await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=30:duration=2', '-f', 'null', '-'], { timeoutMs: 30_000, onProgress: (s) => seconds.push(s) });
    assert.ok(seconds.length > 0, 'at least the final report');
    assert.ok(Math.abs(seconds.at(-1)! - 2) < 0.1, `ended at 2 s of output: ${seconds.join(', ')}`);
  });
});
