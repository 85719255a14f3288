import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bitrateFor, DEFAULT_BITRATE_TABLE_KBPS, displaySize, planLadder, type LadderPlan } from './ladder-plan.js';
import type { LadderSource } from './ladder-source.js';

function source(width: number, height: number, extra: Partial<NonNullable<LadderSource['video']>> = {}, hasAudio = true): LadderSource {
  return { video: { width, height, rotationDeg: 0, sampleAspectRatio: 1, frameRate: 30, ...extra }, hasAudio, durationS: 600 };
}

function plan(input: LadderSource, options: Parameters<typeof planLadder>[1] = {}): LadderPlan {
  const result = planLadder(input, options);
  assert.ok(result.ok, result.ok ? '' : result.reason);
  return result.plan;
}

const sizes = (p: LadderPlan): string[] => p.rungs.map((rung) => `${rung.name} ${rung.width}x${rung.height}`);

describe('planLadder', () => {
  it('gives a 1080p landscape source the four default rungs, largest first, 16:9 and even', () => {
    assert.deepEqual(sizes(plan(source(1920, 1080))), ['1080p 1920x1080', '720p 1280x720', '480p 854x480', '360p 640x360']);
  });

  it('never upscales: a 4K-tall portrait source (2160x3840) gets nothing above its size, rungs by its short side', () => {
    const p = plan(source(2160, 3840));
    assert.deepEqual(sizes(p), ['1080p 1080x1920', '720p 720x1280', '480p 480x854', '360p 360x640']);
    for (const rung of p.rungs) assert.ok(rung.width <= 2160 && rung.height <= 3840);
    const withTall = plan(source(2160, 3840), { rungs: [2160, 1440, 4320] });
    assert.deepEqual(sizes(withTall), ['2160p 2160x3840', '1440p 1440x2560']);
  });

  it('gives a 240p source one rung at its own size', () => {
    assert.deepEqual(sizes(plan(source(426, 240))), ['240p 426x240']);
    assert.deepEqual(sizes(plan(source(320, 240), { rungs: [480, 360, 240] })), ['240p 320x240']);
  });

  it('adds a rung at the source size between two configured rungs only when it is a real step up', () => {
    assert.deepEqual(sizes(plan(source(1600, 900))), ['900p 1600x900', '720p 1280x720', '480p 854x480', '360p 640x360']);
    // 479p next to a 480p rung that does not fit: its own size is a step above 360p.
    assert.deepEqual(sizes(plan(source(853, 479), { rungs: [480, 360, 240] })), ['478p 852x478', '360p 642x360', '240p 428x240']);
    // 380p is within 15 % of 360p: no extra rung.
    assert.deepEqual(sizes(plan(source(676, 380))).map((s) => s.split(' ')[0]), ['360p']);
  });

  it('makes odd sizes even and never rounds a side past the source', () => {
    const p = plan(source(853, 479), { rungs: [480, 360, 240] });
    for (const rung of p.rungs) {
      assert.equal(rung.width % 2, 0, `${rung.width}`);
      assert.equal(rung.height % 2, 0, `${rung.height}`);
      assert.ok(rung.width <= 853 && rung.height <= 479);
    }
    const exact = plan(source(855, 480), { rungs: [480] });
    assert.deepEqual(sizes(exact), ['480p 854x480']);
  });

  it('plans by the displayed size: a quarter turn swaps the sides, a half turn does not, pixel aspect widens', () => {
    assert.deepEqual(plan(source(1920, 1080, { rotationDeg: -90 })).display, { width: 1080, height: 1920 });
    assert.deepEqual(sizes(plan(source(1920, 1080, { rotationDeg: 90 })))[0], '1080p 1080x1920');
    assert.deepEqual(plan(source(1920, 1080, { rotationDeg: 180 })).display, { width: 1920, height: 1080 });
    assert.deepEqual(displaySize(720, 576, 0, 64 / 45), { width: 1024, height: 576 });
    assert.deepEqual(displaySize(720, 576, 270, 64 / 45), { width: 576, height: 1024 });
  });

  it('sets GOP = frame rate x segment length and scales bitrates by frame rate', () => {
    const p30 = plan(source(1280, 720), { segmentS: 4 });
    assert.equal(p30.gop, 120);
    const p60 = plan(source(1280, 720, { frameRate: 60 }), { segmentS: 2 });
    assert.equal(p60.gop, 120);
    assert.equal(p30.rungs[0]!.videoBitrateKbps, DEFAULT_BITRATE_TABLE_KBPS[720]);
    assert.equal(p60.rungs[0]!.videoBitrateKbps, DEFAULT_BITRATE_TABLE_KBPS[720]! * 1.5);
    const ntsc = plan(source(1280, 720, { frameRate: 30000 / 1001 }), { segmentS: 4 });
    assert.equal(ntsc.gop, 120);
    for (const rung of p30.rungs) {
      assert.equal(rung.maxrateKbps, Math.round(rung.videoBitrateKbps * 1.5));
      assert.equal(rung.bufsizeKbps, rung.videoBitrateKbps * 2);
    }
  });

  it('caps the frame rate and falls back when it is unknown', () => {
    const fast = plan(source(1280, 720, { frameRate: 120 }));
    assert.equal(fast.frameRate, 60);
    assert.equal(fast.frameRateCap, 60);
    const unknown = plan({ video: { width: 1280, height: 720, rotationDeg: 0, sampleAspectRatio: 1 }, hasAudio: true });
    assert.equal(unknown.frameRate, 30);
    assert.equal(unknown.frameRateCap, undefined);
    assert.equal(unknown.poster.atS, 0);
  });

  it('encodes audio once when there is audio and not at all for a video-only source', () => {
    assert.deepEqual(plan(source(1280, 720)).audio, { bitrateKbps: 128, sampleRate: 48_000, channels: 2 });
    assert.equal(plan(source(1280, 720, {}, false)).audio, undefined);
  });

  it('refuses an audio-only source, a sizeless one and a postage stamp, with a reason', () => {
    const audioOnly = planLadder({ hasAudio: true, durationS: 10 });
    assert.equal(audioOnly.ok, false);
    assert.match(audioOnly.ok ? '' : audioOnly.reason, /no video stream/);
    const tiny = planLadder(source(12, 8));
    assert.match(tiny.ok ? '' : tiny.reason, /smaller than 16 px/);
    const sizeless = planLadder(source(0, 0));
    assert.match(sizeless.ok ? '' : sizeless.reason, /no known size/);
  });

  it('plans the poster at 10 % at the top rung size and a storyboard tile of the display aspect', () => {
    const p = plan(source(2160, 3840));
    assert.deepEqual(p.poster, { atS: 60, width: 1080, height: 1920 });
    assert.deepEqual(p.storyboard, { intervalS: 5, tileWidth: 160, tileHeight: 284, columns: 5, rows: 5 });
  });
});

describe('bitrateFor', () => {
  it('reads the table, interpolates between entries and scales beyond them', () => {
    const pixels = (side: number): number => (side * side * 16) / 9;
    assert.equal(bitrateFor(pixels(720), DEFAULT_BITRATE_TABLE_KBPS), 2800);
    const between = bitrateFor(pixels(900), DEFAULT_BITRATE_TABLE_KBPS);
    assert.ok(between > 2800 && between < 5000, `${between}`);
    const below = bitrateFor(pixels(72), DEFAULT_BITRATE_TABLE_KBPS);
    assert.ok(below > 0 && below < 200, `${below}`);
  });
});
