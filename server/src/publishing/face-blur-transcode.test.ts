/**
 * The face blur in the published renditions, on real ffmpeg: a synthetic clip with a stand-in
 * face (a bright square of noise moving across testsrc2) and the faces check's details for it,
 * transcoded for publishing with and without the blur. The square's region must lose its
 * detail in the MP4, in the HLS segments and in the poster; the rest of the picture must stay
 * as the unblurred transcode has it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  FACE_CLIP,
  detailIn,
  faceCheckDetails,
  facePixelsAt,
  generateFaceClip,
  grayFrameAt,
  inset,
  psnrOutside,
  type PixelRect,
} from '../../../test/fixtures/face-blur-fixtures.js';
import { uploadRecordFixture } from '../../../test/support/upload-record-fixture.js';
import { PUBLISHING_PROFILE, createJobLimiter, transcodeForPublishing, type PublishedMedia } from '../media/index.js';
import { mp4EncodeArgs } from '../media/transcode.js';
import { faceBlurForUpload } from './face-blur-for-upload.js';
import { blurRectsAt, type FaceBlurPlan } from './face-blur-plan.js';

const facesCheck = (overrides: Record<string, unknown> = {}) => ({ name: 'faces', result: 'review' as const, details: faceCheckDetails(), ...overrides });

describe('face blur in the published renditions', () => {
  let workDir: string;
  let plain: PublishedMedia;
  let blurred: PublishedMedia;
  let plan: FaceBlurPlan;

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'live-upload-face-blur-'));
    const clip = join(workDir, 'faces.mp4');
    await generateFaceClip(clip);
    const decision = faceBlurForUpload(uploadRecordFixture({ publish_options: { blur_faces: true }, checks: [facesCheck()] }));
    assert.ok(decision.blur && 'plan' in decision && decision.videoFilter, 'a blur is planned');
    plan = decision.plan;
    const limiter = createJobLimiter(2);
    [plain, blurred] = await Promise.all([
      transcodeForPublishing(clip, join(workDir, 'plain'), { limiter }),
      transcodeForPublishing(clip, join(workDir, 'blurred'), { limiter, videoFilter: decision.videoFilter }),
    ]);
  });
  after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  /** The plan's regions at `t` in pixels, grown by a margin (encoder blocks straddle the edges). */
  const regionsAt = (t: number, margin = 8): PixelRect[] =>
    blurRectsAt(plan, t).map(({ x, y, w, h }) => ({ x: x * FACE_CLIP.width - margin, y: y * FACE_CLIP.height - margin, w: w * FACE_CLIP.width + 2 * margin, h: h * FACE_CLIP.height + 2 * margin }));

  /** Compares the face's region and the rest of one frame of both renditions. */
  async function assertBlurredFace(plainPath: string, blurredPath: string, seekS: number, clipS: number) {
    const [before, after] = await Promise.all([grayFrameAt(plainPath, seekS), grayFrameAt(blurredPath, seekS)]);
    const face = inset(facePixelsAt(clipS), 8);
    const sharp = detailIn(before, face);
    const soft = detailIn(after, face);
    assert.ok(sharp > 20, `the unblurred face keeps its detail (${sharp.toFixed(1)})`);
    assert.ok(soft < sharp * 0.15, `the face is blurred: detail ${soft.toFixed(1)} against ${sharp.toFixed(1)} unblurred`);
    const psnr = psnrOutside(after, before, regionsAt(clipS));
    assert.ok(psnr > 32, `outside the blurred region the picture is unchanged (PSNR ${psnr.toFixed(1)} dB)`);
  }

  it('blurs the face in the MP4 wherever it moves, and leaves the rest of the picture alone', async () => {
    for (const t of [0.4, 2, 3.2, 5]) await assertBlurredFace(plain.mp4Path, blurred.mp4Path, t, t);
  });

  it('blurs the face in the HLS segments (cut from the blurred MP4)', async () => {
    assert.equal(blurred.hlsSegmentPaths.length, plain.hlsSegmentPaths.length);
    const [first, second] = [0, 1].map((index) => [plain.hlsSegmentPaths[index] ?? '', blurred.hlsSegmentPaths[index] ?? ''] as const);
    assert.ok(first && second);
    await assertBlurredFace(first[0], first[1], 2, 2);
    // The second segment starts at 4 s (a keyframe every 2 s, 4 s segments): 1 s into it is 5 s into the clip.
    await assertBlurredFace(second[0], second[1], 1, 4 + 1);
  });

  it('takes the poster from the blurred video', async () => {
    const posterS = blurred.durationS * PUBLISHING_PROFILE.posterAt;
    await assertBlurredFace(plain.posterPath, blurred.posterPath, 0, posterS);
  });

  it('leaves no filter script among the published files', async () => {
    assert.deepEqual((await readdir(join(workDir, 'blurred'))).sort(), ['hls', 'poster.jpg', 'video.mp4']);
  });

  it('encodes as before when no blur is asked for: the scale chain inline, no filter script', () => {
    const args = mp4EncodeArgs('/q/upload');
    assert.ok(!args.includes('-filter_script:v'));
    const vf = args[args.indexOf('-vf') + 1] ?? '';
    assert.match(vf, /^scale=.*,setsar=1,format=yuv420p$/);
    assert.deepEqual(faceBlurForUpload(uploadRecordFixture({ checks: [facesCheck()] })), { blur: false });
    assert.deepEqual(faceBlurForUpload(uploadRecordFixture({ publish_options: { blur_faces: false }, checks: [facesCheck()] })), { blur: false });
  });
});

describe('faceBlurForUpload', () => {
  const askingForBlur = (checks: ReturnType<typeof uploadRecordFixture>['checks']) => faceBlurForUpload(uploadRecordFixture({ publish_options: { blur_faces: true }, checks }));

  it('refuses a blur without face data: no faces check, a pending or failed-to-run one, or details in another shape', () => {
    const refusals = [
      askingForBlur([]),
      askingForBlur([facesCheck({ result: 'error', detail: 'the model did not load', details: undefined })]),
      askingForBlur([facesCheck({ result: 'pending', details: undefined })]),
      askingForBlur([facesCheck({ details: { faces: [{ t: 1 }] } })]),
      askingForBlur([facesCheck({ details: { faces: { frames: [] }, frame_times: [] } })]),
      askingForBlur([facesCheck({ details: { faces: { frames: [{ t: 1, boxes: [{ x: 0.5, y: 0.5, w: 40, h: 40 }] }] }, frame_times: [1] } })]),
    ];
    for (const refusal of refusals) assert.ok(refusal.blur && 'refused' in refusal, JSON.stringify(refusal));
    const errored = refusals[1];
    assert.ok(errored && 'refused' in errored);
    assert.match(errored.refused, /faces check result is error: the model did not load/);
  });

  it('reads the latest faces check, and plans nothing to blur when it saw no face', () => {
    const noFaces = { faces: { frames: [] }, frame_times: [0, 1, 2], sampled_frames: 3 };
    const decision = askingForBlur([facesCheck({ result: 'error', details: undefined }), facesCheck({ result: 'pass', details: noFaces })]);
    assert.ok(decision.blur && 'plan' in decision);
    assert.equal(decision.videoFilter, undefined);
  });
});
