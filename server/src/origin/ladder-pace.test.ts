import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LadderPace } from './ladder-pace.js';

/** 30 fps video at 90 kHz: 3000 ticks a frame. */
const TICKS_PER_FRAME = 3000;

/**
 * Drives a pace through `seconds` of media sent at 30 frames a second, from `fromS` into the
 * session (RTP timestamps from `start`), ffmpeg reporting every half second the frames it
 * encoded at `speed` after `delayS` of waiting for its first keyframe.
 */
function drive(pace: LadderPace, options: { seconds: number; speed: number; delayS?: number; start?: number; fromS?: number }): void {
  const fromFrame = (options.fromS ?? 0) * 30;
  for (let frame = fromFrame; frame < fromFrame + options.seconds * 30; frame += 1) {
    pace.forwarded(((options.start ?? 0) + frame * TICKS_PER_FRAME) >>> 0);
    const sentS = (frame + 1) / 30;
    if ((frame + 1) % 15 === 0) pace.encoded(Math.max(0, Math.floor((sentS - (options.delayS ?? 0)) * options.speed * 30)), 30);
  }
}

describe('LadderPace', () => {
  it('has no verdict before ffmpeg encodes a frame (it waits for a keyframe)', () => {
    const pace = new LadderPace();
    drive(pace, { seconds: 1, speed: 1, delayS: 5 });
    assert.deepEqual(pace.verdict(), { state: 'starting' });
  });

  it('keeps up at real time, whatever the wait for the first keyframe', () => {
    const pace = new LadderPace();
    drive(pace, { seconds: 30, speed: 1, delayS: 1.5 });
    const verdict = pace.verdict();
    assert.ok(verdict.state === 'keeping-up' && verdict.excessS < 0.6 && Math.abs(verdict.speed! - 1) < 0.05, JSON.stringify(verdict));
  });

  it('judges its speed once 0.9 s of media was sent since its first report: slow below 0.95x, behind once that cost 1 s of lag', () => {
    const early = new LadderPace();
    drive(early, { seconds: 1, speed: 0.5, delayS: 0.2 });
    const unjudged = early.verdict();
    assert.ok(unjudged.state === 'judging' && unjudged.speed === undefined, `0.5 s since the first report: ${JSON.stringify(unjudged)}`);
    drive(early, { seconds: 1, speed: 0.5, delayS: 0.2, fromS: 1 });
    const slow = early.verdict();
    assert.ok(slow.state === 'slow' && slow.speed! < 0.6 && slow.excessS < 1, `slow, by less than 1 s so far: ${JSON.stringify(slow)}`);
    drive(early, { seconds: 1.5, speed: 0.5, delayS: 0.2, fromS: 2 });
    const verdict = early.verdict();
    assert.equal(verdict.state, 'behind', JSON.stringify(verdict));
    assert.ok(verdict.state === 'behind' && Math.abs(verdict.speed! - 0.5) < 0.1, JSON.stringify(verdict));
  });

  it('is behind when its lag grows by more than two segments, even when its speed over the whole run still looks fine', () => {
    const pace = new LadderPace();
    drive(pace, { seconds: 60, speed: 1 });
    // Then ffmpeg stops reporting (a stuck or starved process) while media still comes: 5 s more.
    for (let frame = 60 * 30; frame < 65 * 30; frame += 1) pace.forwarded(frame * TICKS_PER_FRAME);
    const verdict = pace.verdict();
    assert.equal(verdict.state, 'behind', JSON.stringify(verdict));
    assert.ok(verdict.state === 'behind' && verdict.excessS > 4 && verdict.speed! > 0.9, JSON.stringify(verdict));
  });

  it('is not behind for a burst of media that arrived just before a report (network jitter): the lag it adds is gone by the next one', () => {
    const pace = new LadderPace();
    drive(pace, { seconds: 1.5, speed: 1 });
    // 0.5 s of frames held up on the way arrive at once, just before ffmpeg reports what it encoded so far.
    for (let frame = 45; frame < 60; frame += 1) pace.forwarded(frame * TICKS_PER_FRAME);
    pace.encoded(45, 30);
    const burst = pace.verdict();
    assert.ok(burst.state === 'slow' && burst.speed! < 0.7, `slow for a moment: ${JSON.stringify(burst)}`);
    pace.encoded(60, 30);
    const next = pace.verdict();
    assert.ok(next.state === 'keeping-up' && next.speed! > 0.9 && next.excessS < 0.1, `and not at the next report: ${JSON.stringify(next)}`);
  });

  it('is slow, then behind, a little below real time (0.9x): 1 s of lag after 10 s', () => {
    const pace = new LadderPace();
    drive(pace, { seconds: 6, speed: 0.9 });
    assert.equal(pace.verdict().state, 'slow');
    drive(pace, { seconds: 6, speed: 0.9, fromS: 6 });
    assert.equal(pace.verdict().state, 'behind');
  });

  it('counts the RTP clock across its wrap, and not a late or repeated packet', () => {
    const pace = new LadderPace();
    const start = 2 ** 32 - 5 * 90_000; // wraps after 5 s
    drive(pace, { seconds: 10, speed: 1, start });
    pace.forwarded(start); // a very late packet: does not move the media time back
    pace.forwarded((start + 299 * TICKS_PER_FRAME) >>> 0); // the last one again
    const verdict = pace.verdict();
    assert.ok(verdict.state === 'keeping-up' && Math.abs(verdict.lagS) < 0.1, JSON.stringify(verdict));
  });
});
