import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detailIn, type GrayFrame, type PixelRect } from '../../../test/fixtures/face-blur-fixtures.js';
import { runFfmpeg } from '../media/index.js';
import { faceBlurFilter } from './face-blur-filter.js';
import { blurRectsAt, planFaceBlur, type FaceBlurPlan, type FaceFrame } from './face-blur-plan.js';

const WIDTH = 320;
const HEIGHT = 180;
const FPS = 10;
const DURATION_S = 4;

/** Every frame of a noise clip (detail everywhere) after the filter, as luma. */
async function renderThrough(filter: string): Promise<GrayFrame[]> {
  const { stdout } = await runFfmpeg(
    [
      '-v', 'error',
      '-f', 'lavfi', '-i', `color=c=gray:size=${WIDTH}x${HEIGHT}:rate=${FPS}:duration=${DURATION_S},noise=alls=100:allf=t+u`,
      '-vf', `format=yuv420p,${filter}`,
      '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1',
    ],
    { timeoutMs: 60_000 },
  );
  const size = WIDTH * HEIGHT;
  return Array.from({ length: Math.floor(stdout.length / size) }, (_, index) => ({ width: WIDTH, height: HEIGHT, pixels: stdout.subarray(index * size, (index + 1) * size) }));
}

const toPixels = ({ x, y, w, h }: { x: number; y: number; w: number; h: number }): PixelRect => ({ x: x * WIDTH, y: y * HEIGHT, w: w * WIDTH, h: h * HEIGHT });

/** Asserts, frame by frame, that what the plan says is blurred is smooth and a sample of the rest is not. */
function assertRendersPlan(frames: readonly GrayFrame[], plan: FaceBlurPlan) {
  assert.equal(frames.length, FPS * DURATION_S);
  frames.forEach((frame, index) => {
    const t = index / FPS;
    const rects = blurRectsAt(plan, t).map(toPixels);
    for (const rect of rects) {
      // 3 px in from the edges: the crop and overlay round positions to even pixels.
      const inner = { x: rect.x + 3, y: rect.y + 3, w: rect.w - 6, h: rect.h - 6 };
      const detail = detailIn(frame, inner);
      assert.ok(detail < 4, `frame at ${t} s: the region ${JSON.stringify(rect)} is blurred (detail ${detail.toFixed(1)})`);
    }
    const cornerCells: PixelRect[] = [
      { x: 0, y: 0, w: 24, h: 24 },
      { x: WIDTH - 24, y: 0, w: 24, h: 24 },
      { x: 0, y: HEIGHT - 24, w: 24, h: 24 },
      { x: WIDTH - 24, y: HEIGHT - 24, w: 24, h: 24 },
    ];
    const overlaps = (a: PixelRect, b: PixelRect) => a.x < b.x + b.w + 3 && b.x < a.x + a.w + 3 && a.y < b.y + b.h + 3 && b.y < a.y + a.h + 3;
    for (const cell of cornerCells.filter((candidate) => !rects.some((rect) => overlaps(rect, candidate)))) {
      const detail = detailIn(frame, cell);
      assert.ok(detail > 20, `frame at ${t} s: ${JSON.stringify(cell)} outside the regions keeps its detail (${detail.toFixed(1)})`);
    }
  });
}

describe('faceBlurFilter', () => {
  it('adds nothing for an empty plan', () => {
    assert.equal(faceBlurFilter({ lanes: [], wholeFrame: [] }), undefined);
  });

  it('builds one crop, blur and overlay chain per region, enabled during its spans, with time expressions', () => {
    const times = [0, 1, 2, 3];
    const frames: FaceFrame[] = times.map((t) => ({ t, boxes: [{ x: 0.1 + 0.1 * t, y: 0.2, w: 0.1, h: 0.2 }, { x: 0.7, y: 0.6, w: 0.1, h: 0.2 }] }));
    const plan = planFaceBlur({ frames, frameTimes: times });
    const filter = faceBlurFilter(plan) ?? '';
    // The two faces' tracks, and where the moving one would be had it kept moving after 3 s.
    assert.equal(plan.lanes.length, 3);
    assert.match(filter, /^split=4\[fbbase\]\[fb0\]\[fb1\]\[fb2\];/);
    assert.equal(filter.match(/crop=/g)?.length, 3);
    assert.equal(filter.match(/boxblur=/g)?.length, 3);
    assert.equal(filter.match(/overlay=/g)?.length, 3);
    assert.match(filter, /\[fbbase\]\[fbblur0\]overlay=/);
    assert.match(filter, /\[fbout0\]\[fbblur1\]overlay=/);
    assert.match(filter, /\[fbout1\]\[fbblur2\]overlay=/);
    assert.match(filter, /gte\(t,1\)\*lt\(t,2\)\*\(0\.25\+0\.1\*\(t-1\)\)/, 'the moving face: its centre x goes 0.25 -> 0.35 between 1 s and 2 s');
    assert.doesNotMatch(filter, /e[+-]\d/, 'no exponent notation');
    assert.ok(!filter.endsWith(']'), 'the last overlay is the chain output');
  });

  it('blurs exactly where the plan says, frame by frame, on real ffmpeg (faces moving right and left, one appearing)', async () => {
    const times = [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5];
    const frames: FaceFrame[] = times.map((t) => ({
      t,
      boxes: [{ x: 0.05 + 0.15 * t, y: 0.1 + 0.05 * t, w: 0.12, h: 0.2 }, ...(t >= 2 ? [{ x: 0.85 - 0.1 * (t - 2), y: 0.3 - 0.05 * (t - 2), w: 0.1, h: 0.18 }] : [])],
    }));
    const plan = planFaceBlur({ frames, frameTimes: times });
    assert.ok(plan.lanes.length >= 2);
    const filter = faceBlurFilter(plan) ?? '';
    assert.match(filter, /\+\(-0\.\d+\)\*\(t-/, 'a negative speed, as ffmpeg must parse it');
    assertRendersPlan(await renderThrough(filter), plan);
  });

  it('blurs the whole frame above the cap, and only during the extra face', async () => {
    const times = [0, 1, 2, 3];
    const frames: FaceFrame[] = times.map((t) => ({
      t,
      boxes: [{ x: 0.3, y: 0.3, w: 0.1, h: 0.2 }, ...(t === 2 ? [{ x: 0.6, y: 0.3, w: 0.1, h: 0.2 }] : [])],
    }));
    const plan = planFaceBlur({ frames, frameTimes: times }, { maxRegions: 1 });
    assert.equal(plan.wholeFrame.length, 1);
    const rendered = await renderThrough(faceBlurFilter(plan) ?? '');
    assertRendersPlan(rendered, plan);
    const whole = { x: 0, y: 0, w: WIDTH, h: HEIGHT };
    assert.ok(detailIn(rendered[20] as GrayFrame, whole) < 4, 'whole frame blurred at 2 s');
    assert.ok(detailIn(rendered[5] as GrayFrame, { x: 0, y: 0, w: 40, h: 40 }) > 20, 'not at 0.5 s');
  });
});
