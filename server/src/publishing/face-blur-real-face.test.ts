/**
 * The face blur from the real faces check: a photo of a face (test/fixtures/faces) moving across
 * testsrc2, the faces check run on it as moderation runs it (built-in rules: a frame every 2 s
 * plus scene changes), and the blur planned from what the check recorded. Between the samples,
 * where the check never looked, the face must be inside a blurred region and blurred in the
 * published MP4.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { detailIn, grayFrameAt, inset, type PixelRect } from '../../../test/fixtures/face-blur-fixtures.js';
import { uploadRecordFixture } from '../../../test/support/upload-record-fixture.js';
import { runFfmpeg, transcodeForPublishing, type PublishedMedia } from '../media/index.js';
import { builtInModerationRules, runModerationCheck, type CheckResult } from '../moderation/index.js';
import { facesCheck } from '../moderation/vision/index.js';
import { faceBlurForUpload } from './face-blur-for-upload.js';
import { blurRectsAt, type FaceBlurPlan } from './face-blur-plan.js';

const ASTRONAUT = fileURLToPath(new URL('../../../test/fixtures/faces/astronaut.jpg', import.meta.url));
const WIDTH = 640;
const HEIGHT = 360;
const FPS = 15;
const DURATION_S = 8;
/** The photo is scaled to this square and moves right at SPEED px/s from x 20, at y 60. */
const PHOTO_PX = 240;
const SPEED = 45;

/** The face in the moving photo at `t`: about x 135-200, y 45-130 of the 384 px original (fixture README). */
function faceAt(t: number): PixelRect {
  const scale = PHOTO_PX / 384;
  return { x: 20 + SPEED * t + 135 * scale, y: 60 + 45 * scale, w: (200 - 135) * scale, h: (130 - 45) * scale };
}

describe('face blur planned from the real faces check', { timeout: 240_000 }, () => {
  let dir: string;
  let clip: string;
  let check: CheckResult;
  let plan: FaceBlurPlan;
  let published: PublishedMedia;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'face-blur-real-'));
    clip = join(dir, 'face.mp4');
    await runFfmpeg(
      [
        '-v', 'error', '-y',
        '-f', 'lavfi', '-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=${FPS}:duration=${DURATION_S}`,
        '-loop', '1', '-framerate', String(FPS), '-t', String(DURATION_S), '-i', ASTRONAUT,
        '-filter_complex', `[1:v]scale=${PHOTO_PX}:${PHOTO_PX},format=yuv420p[photo];[0:v][photo]overlay=x='20+${SPEED}*t':y=60:shortest=1,format=yuv420p[v]`,
        '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '12', '-movflags', '+faststart', clip,
      ],
      { timeoutMs: 60_000 },
    );
    const upload = uploadRecordFixture({ status: 'checking' });
    check = await runModerationCheck(facesCheck(), { path: clip, upload, facts: {}, rules: { rules: builtInModerationRules(), version: 0, scope: 'default' } });
    const decision = faceBlurForUpload({
      ...upload,
      status: 'approved',
      publish_options: { blur_faces: true },
      checks: [{ name: check.name, result: check.result, ...(check.details ? { details: check.details } : {}) }],
    });
    assert.ok(decision.blur && 'plan' in decision && decision.videoFilter, `a blur is planned from ${JSON.stringify(check)}`);
    plan = decision.plan;
    published = await transcodeForPublishing(clip, join(dir, 'published'), { videoFilter: decision.videoFilter });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the check finds the face on its samples (else there is nothing to test)', () => {
    assert.equal(check.result, 'review', check.reason);
    const frames = (check.details?.['faces'] as { frames: unknown[] }).frames;
    assert.ok(frames.length >= 3, `faces on ${frames.length} sampled frames`);
  });

  it('keeps the face inside a blurred region on every frame, between the samples too', () => {
    for (let n = 0; n < DURATION_S * FPS; n++) {
      const t = n / FPS;
      // The face's position is "about" (fixture README): 3 px of slack on each side.
      const face = inset(faceAt(t), 3);
      const rects = blurRectsAt(plan, t).map(({ x, y, w, h }) => ({ x: x * WIDTH, y: y * HEIGHT, w: w * WIDTH, h: h * HEIGHT }));
      const covered = rects.some((rect) => rect.x <= face.x && rect.y <= face.y && rect.x + rect.w >= face.x + face.w && rect.y + rect.h >= face.y + face.h);
      assert.ok(covered, `at ${t.toFixed(2)} s the face ${JSON.stringify(face)} is outside every region ${JSON.stringify(rects)}`);
    }
  });

  it('blurs the face in the published MP4 between the samples', async () => {
    for (const t of [1, 3, 5, 7]) {
      const [source, output] = await Promise.all([grayFrameAt(clip, t, { width: WIDTH, height: HEIGHT }), grayFrameAt(published.mp4Path, t, { width: WIDTH, height: HEIGHT })]);
      const face = faceAt(t);
      const before = detailIn(source, face);
      const after = detailIn(output, face);
      assert.ok(before > 4, `the face has detail in the source at ${t} s (${before.toFixed(1)})`);
      assert.ok(after < before * 0.35, `at ${t} s the face is blurred: detail ${after.toFixed(2)} against ${before.toFixed(2)}`);
    }
  });
});
