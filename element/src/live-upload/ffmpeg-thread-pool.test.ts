import { expect } from '@open-wc/testing';
import { describe, it } from '../testing/mocha.js';
import { encodeArgs, remuxArgs } from './ffmpeg-args.js';
import { encoderThreads, MAX_ENCODER_THREADS, MAX_PTHREAD_POOL, pthreadPoolSize, PTHREAD_POOL_PARAM } from './ffmpeg-thread-pool.js';
import { FFMPEG_ASSETS, multiThreadCoreArgs, multiThreadCoreUrl } from './media-transcoder.js';

describe('the multi-thread core\'s threads and pthread pool', () => {
  it('runs one x264 thread per CPU, at least one and at most MAX_ENCODER_THREADS, with one lookahead thread', () => {
    expect([0, 1, 2, 3.7, 8, 12, 64, Number.NaN].map(encoderThreads)).to.deep.equal([1, 1, 2, 3, 8, MAX_ENCODER_THREADS, MAX_ENCODER_THREADS, 1]);
    const args = multiThreadCoreArgs(encodeArgs('in', 'out.mp4', { durationMs: 4000 }), 16);
    expect(args.slice(args.indexOf('libx264') + 1, args.indexOf('libx264') + 5)).to.deep.equal(['-threads', '8', '-x264-params', 'lookahead-threads=1']);
    const remux = remuxArgs('in', 'out.mp4', { startMs: 0, durationMs: 1000 });
    expect(multiThreadCoreArgs(remux, 16)).to.deep.equal(remux);
  });

  it('pools four workers per CPU and eight more: above the threads a re-encode started (8 on 2 CPUs, 32 on 8, 36 on 12), at most MAX_PTHREAD_POOL', () => {
    expect([1, 2, 4, 8, 12, 16, 128, 0, Number.NaN].map(pthreadPoolSize)).to.deep.equal([12, 16, 24, 40, 56, MAX_PTHREAD_POOL, MAX_PTHREAD_POOL, 12, 12]);
    for (const [cpus, started] of [[2, 8], [8, 32], [12, 36]] as const) expect(pthreadPoolSize(cpus)).to.be.greaterThan(started);
  });

  it('asks the multi-thread core for that pool in its URL, keeping the versioned path', () => {
    const base = 'https://live.example/element/';
    const url = new URL(multiThreadCoreUrl(new URL(FFMPEG_ASSETS.coreMt.js, base).href, 2));
    expect(url.pathname).to.equal(`/element/${FFMPEG_ASSETS.coreMt.js}`);
    expect(url.searchParams.get(PTHREAD_POOL_PARAM)).to.equal('16');
    expect(new URL(multiThreadCoreUrl(url.href, 32)).searchParams.get(PTHREAD_POOL_PARAM)).to.equal(String(MAX_PTHREAD_POOL));
    expect(FFMPEG_ASSETS.coreMt.js).to.match(/^ffmpeg\/core-mt-\d+\.\d+\.\d+-[0-9a-f]{12}\/ffmpeg-core\.js$/);
    expect(FFMPEG_ASSETS.core.wasm).to.match(/^ffmpeg\/core-\d+\.\d+\.\d+-[0-9a-f]{12}\/ffmpeg-core\.wasm$/);
  });
});
