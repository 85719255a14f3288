import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blurRectsAt, planFaceBlur, type BlurRect, type FaceBox, type FaceFrame } from './face-blur-plan.js';

/** Sample times 0, step, 2*step... up to `until` (inclusive). */
const sampleTimes = (until: number, step = 0.5): number[] => Array.from({ length: Math.round(until / step) + 1 }, (_, index) => index * step);

/** Instants every 1/30 s (a 30 fps video's frames) in [from, to]. */
const frameInstants = (from: number, to: number): number[] => Array.from({ length: Math.round((to - from) * 30) + 1 }, (_, index) => from + index / 30);

const EPSILON = 1e-9;

/** Whether `rect` holds the visible part of `box` (the part inside the frame). */
function covers(rect: BlurRect, box: FaceBox): boolean {
  const left = Math.max(0, box.x);
  const top = Math.max(0, box.y);
  const right = Math.min(1, box.x + box.w);
  const bottom = Math.min(1, box.y + box.h);
  return rect.x <= left + EPSILON && rect.y <= top + EPSILON && rect.x + rect.w >= right - EPSILON && rect.y + rect.h >= bottom - EPSILON;
}

function assertCoveredThroughout(plan: ReturnType<typeof planFaceBlur>, instants: readonly number[], truth: (t: number) => FaceBox) {
  for (const t of instants) {
    const box = truth(t);
    const rects = blurRectsAt(plan, t);
    assert.ok(
      rects.some((rect) => covers(rect, box)),
      `at ${t.toFixed(3)} s the face ${JSON.stringify(box)} is not inside any blurred rect ${JSON.stringify(rects)}`,
    );
  }
}

describe('planFaceBlur', () => {
  it('follows one face moving between samples: blurred on every frame in between, in one region of bounded size', () => {
    const face = (t: number): FaceBox => ({ x: 0.1 + 0.1 * t, y: 0.3 + 0.02 * t, w: 0.1, h: 0.18 });
    const times = sampleTimes(5);
    const frames: FaceFrame[] = times.map((t) => ({ t, boxes: [{ ...face(t), score: 0.9 }] }));
    const plan = planFaceBlur({ frames, frameTimes: times });

    // Its track, and where it would be had it kept moving after the last sample.
    assert.equal(plan.lanes.length, 2);
    assert.deepEqual(plan.wholeFrame, []);
    assertCoveredThroughout(plan, frameInstants(0, 5), face);
    assertCoveredThroughout(plan, frameInstants(5, 5.5), face);
    const [rect] = blurRectsAt(plan, 2.25);
    assert.ok(rect && rect.w <= 0.1 * 1.5 + EPSILON && rect.h <= 0.18 * 1.5 + EPSILON, `padded by a quarter per side, no more: ${JSON.stringify(rect)}`);
    assert.ok(rect && rect.x < 0.325 && rect.x + rect.w > 0.425, 'the region moved with the face (interpolated, not the union of the two samples)');
    assert.ok(rect && rect.w < 0.2, 'not the union of the samples at 2 s and 2.5 s');
  });

  it('blurs a face that appears and disappears from the sample before it was seen to the sample after it was last seen, and nowhere else', () => {
    const times = sampleTimes(5);
    const box: FaceBox = { x: 0.4, y: 0.4, w: 0.1, h: 0.1 };
    const frames: FaceFrame[] = times.filter((t) => t >= 1.5 && t <= 3).map((t) => ({ t, boxes: [box] }));
    const plan = planFaceBlur({ frames, frameTimes: times });

    assertCoveredThroughout(plan, frameInstants(1, 3.5), () => box);
    for (const t of [0, 0.5, 0.85, 3.65, 4, 5]) assert.deepEqual(blurRectsAt(plan, t), [], `nothing blurred at ${t} s`);
  });

  it('holds a face seen on the first sample from the clip start, and one seen on the last sample to the clip end', () => {
    const times = sampleTimes(3);
    const box: FaceBox = { x: 0.2, y: 0.2, w: 0.1, h: 0.1 };
    const plan = planFaceBlur({ frames: times.map((t) => ({ t, boxes: [box] })), frameTimes: times });
    assertCoveredThroughout(plan, [-0.05, 0, 3, 3.5, 60, 3600], () => box);
  });

  it('keeps a face blurred across a sample where the detector missed it', () => {
    const times = sampleTimes(4);
    const face = (t: number): FaceBox => ({ x: 0.2 + 0.05 * t, y: 0.5, w: 0.12, h: 0.12 });
    const frames: FaceFrame[] = times.filter((t) => t !== 2).map((t) => ({ t, boxes: [face(t)] }));
    const plan = planFaceBlur({ frames, frameTimes: times });
    assertCoveredThroughout(plan, frameInstants(0, 4), face);
  });

  it('covers the path of a face that moved farther between two samples than the tracker matches (a bridge between the two tracks)', () => {
    // 0.14 of the frame per 2 s sample gap: more than twice the face's width.
    const face = (t: number): FaceBox => ({ x: 0.05 + 0.07 * t, y: 0.2 + 0.01 * t, w: 0.06, h: 0.1 });
    const times = [0, 2, 4, 6];
    const plan = planFaceBlur({ frames: times.map((t) => ({ t, boxes: [face(t)] })), frameTimes: times });
    assertCoveredThroughout(plan, frameInstants(0, 6), face);
  });

  it('covers a face that keeps moving after it was last seen: until the next sample, and for a sampling gap after the last one', () => {
    const face = (t: number): FaceBox => ({ x: 0.1 + 0.08 * t, y: 0.3, w: 0.08, h: 0.12 });
    // Seen at 0, 1 and 2 s; sampled (absent, say it was missed) at 3 s; the clip's samples end at 4 s.
    const times = [0, 1, 2, 3, 4];
    const plan = planFaceBlur({ frames: [0, 1, 2].map((t) => ({ t, boxes: [face(t)] })), frameTimes: times });
    assertCoveredThroughout(plan, frameInstants(0, 3), face);
    const lastSeen = (t: number): FaceBox => ({ x: 0.5 + 0.08 * (t - 4), y: 0.3, w: 0.08, h: 0.12 });
    const seenLast = planFaceBlur({ frames: [2, 3, 4].map((t) => ({ t, boxes: [lastSeen(t)] })), frameTimes: times });
    assertCoveredThroughout(seenLast, frameInstants(4, 5), lastSeen);
  });

  it('tracks two faces in two regions, each blurred throughout, never swapped', () => {
    const left = (t: number): FaceBox => ({ x: 0.1 + 0.05 * t, y: 0.1, w: 0.1, h: 0.15 });
    const right = (t: number): FaceBox => ({ x: 0.8 - 0.05 * t, y: 0.6, w: 0.12, h: 0.2 });
    const times = sampleTimes(4);
    const frames: FaceFrame[] = times.map((t) => ({ t, boxes: [right(t), left(t)] }));
    const plan = planFaceBlur({ frames, frameTimes: times });

    assert.deepEqual(plan.wholeFrame, []);
    assertCoveredThroughout(plan, frameInstants(0, 4), left);
    assertCoveredThroughout(plan, frameInstants(0, 4), right);
    assert.equal(blurRectsAt(plan, 1.75).length, 2);
    for (const rect of blurRectsAt(plan, 1.75)) assert.ok(rect.w < 0.25 && rect.h < 0.35, `each region holds one face: ${JSON.stringify(rect)}`);
  });

  it('clamps regions at the frame edges and still covers the visible face', () => {
    const corner: FaceBox = { x: 0, y: 0, w: 0.1, h: 0.1 };
    const rightEdge: FaceBox = { x: 0.9, y: 0.85, w: 0.1, h: 0.15 };
    const times = sampleTimes(1);
    const plan = planFaceBlur({ frames: times.map((t) => ({ t, boxes: [corner, rightEdge] })), frameTimes: times });
    for (const t of frameInstants(0, 1)) {
      const rects = blurRectsAt(plan, t);
      for (const rect of rects) {
        assert.ok(rect.x >= 0 && rect.y >= 0 && rect.x + rect.w <= 1 + EPSILON && rect.y + rect.h <= 1 + EPSILON, `inside the frame: ${JSON.stringify(rect)}`);
      }
      assert.ok(rects.some((rect) => covers(rect, corner)));
      assert.ok(rects.some((rect) => covers(rect, rightEdge)));
    }
  });

  it('above the cap of regions blurs the whole frame while the extra faces are on screen, and only then', () => {
    const times = sampleTimes(5);
    const a: FaceBox = { x: 0.1, y: 0.1, w: 0.1, h: 0.1 };
    const b: FaceBox = { x: 0.5, y: 0.1, w: 0.1, h: 0.1 };
    const c: FaceBox = { x: 0.3, y: 0.6, w: 0.1, h: 0.1 };
    const frames: FaceFrame[] = times.map((t) => ({ t, boxes: t >= 2 && t <= 3 ? [a, b, c] : [a, b] }));
    const plan = planFaceBlur({ frames, frameTimes: times }, { maxRegions: 2 });

    assert.equal(plan.lanes.length, 2);
    assert.equal(plan.wholeFrame.length, 1);
    for (const t of frameInstants(1.5, 3.5)) assert.deepEqual(blurRectsAt(plan, t), [{ x: 0, y: 0, w: 1, h: 1 }], `whole frame at ${t} s`);
    for (const t of [0, 1, 1.35, 3.65, 4.5]) {
      const rects = blurRectsAt(plan, t);
      assert.equal(rects.length, 2, `two regions at ${t} s`);
      assert.ok(rects.every((rect) => rect.w < 0.5), `regions, not the whole frame, at ${t} s`);
    }
  });

  it('reuses a region for faces that are never on screen together', () => {
    const times = sampleTimes(6);
    const first: FaceBox = { x: 0.1, y: 0.1, w: 0.1, h: 0.1 };
    const second: FaceBox = { x: 0.7, y: 0.6, w: 0.12, h: 0.12 };
    const frames: FaceFrame[] = times.flatMap((t) => (t <= 1.5 ? [{ t, boxes: [first] }] : t >= 4 ? [{ t, boxes: [second] }] : []));
    const plan = planFaceBlur({ frames, frameTimes: times });
    assert.equal(plan.lanes.length, 1);
    assertCoveredThroughout(plan, frameInstants(0, 1.5), () => first);
    assertCoveredThroughout(plan, frameInstants(4, 6), () => second);
    assert.deepEqual(blurRectsAt(plan, 2.8), []);
  });

  it('plans nothing when the check saw no face', () => {
    assert.deepEqual(planFaceBlur({ frames: [], frameTimes: sampleTimes(10) }), { lanes: [], wholeFrame: [] });
  });
});
