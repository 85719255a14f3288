import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runFfmpeg } from '../../media/index.js';
import { FilesystemObjectStore } from '../../storage/index.js';
import type { UploadRecord } from '../../uploads/index.js';
import { eventually } from '../../../../test/support/eventually.js';
import { uploadRecordFixture } from '../../../../test/support/upload-record-fixture.js';
import { runModerationCheck, type CheckFacts, type CheckResult, type ModerationCheckInput } from '../moderation-check.js';
import { builtInModerationRules, type ModerationRules } from '../moderation-rules.js';
import { readEvidence } from './check-evidence.js';
import { facesCheck } from './faces-check.js';
import { sampleFrames } from './frame-sampler.js';
import { nudityCheck } from './nudity-check.js';
import { VisionInferenceThread } from './vision-inference-thread.js';

const ASTRONAUT = fileURLToPath(new URL('../../../../test/fixtures/faces/astronaut.jpg', import.meta.url));
const UPLOAD_ID = '01JABCDEFGHJKMNPQRSTVWXYZ0';
const upload = (): UploadRecord => uploadRecordFixture({ upload_id: UPLOAD_ID, status: 'checking' }, Date.parse('2026-01-01T00:00:00.000Z'));

/** The job's input as the worker builds it: one `facts` object shared by the checks of one job. */
function jobInput(path: string, rules: ModerationRules = builtInModerationRules(), facts: CheckFacts = {}): ModerationCheckInput {
  return { path, upload: upload(), facts, rules: { rules, version: 0, scope: 'default' } };
}

interface FaceDetails {
  sampled_frames: number;
  frame_times: number[];
  faces: { frames: Array<{ t: number; boxes: Array<{ x: number; y: number; w: number; h: number; score: number }> }> };
  evidence: Array<{ key: string; t: number; label: string; score: number }>;
}

describe('vision checks (nudity and faces) on real clips', { timeout: 240_000 }, () => {
  let dir: string;
  /** 6 s at 1280x720: 2 s of testsrc2, 2 s of gradients, 2 s of noise. Nothing a classifier should flag, and no face. */
  let synthetic: string;
  /** 6 s at 1280x720: the astronaut photo (pillarboxed, 720x720 in the middle) 0-2 s and 4-6 s, testsrc2 between. */
  let faces: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vision-checks-'));
    synthetic = join(dir, 'synthetic.mp4');
    faces = join(dir, 'faces.mp4');
    const encode = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-r', '30', '-movflags', '+faststart'];
    await runFfmpeg(
      [
        '-v', 'error', '-y',
        '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30:duration=2',
        '-f', 'lavfi', '-i', 'gradients=size=1280x720:rate=30:duration=2:speed=0.05',
        '-f', 'lavfi', '-i', 'color=c=gray:size=1280x720:rate=30:duration=2,noise=alls=80:allf=t',
        '-filter_complex', '[0:v]format=yuv420p[a];[1:v]format=yuv420p[b];[2:v]format=yuv420p[c];[a][b][c]concat=n=3:v=1[v]',
        '-map', '[v]', ...encode, synthetic,
      ],
      { timeoutMs: 60_000 },
    );
    const photo = 'scale=720:720,pad=1280:720:280:0,setsar=1,format=yuv420p,fps=30';
    await runFfmpeg(
      [
        '-v', 'error', '-y',
        '-loop', '1', '-t', '2', '-i', ASTRONAUT,
        '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30:duration=2',
        '-loop', '1', '-t', '2', '-i', ASTRONAUT,
        '-filter_complex', `[0:v]${photo}[a];[1:v]format=yuv420p[b];[2:v]${photo}[c];[a][b][c]concat=n=3:v=1[v]`,
        '-map', '[v]', ...encode, faces,
      ],
      { timeoutMs: 60_000 },
    );
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('samples at the fixed rate plus scene changes, small, with times, within the cap', async () => {
    const frames = [];
    for await (const frame of sampleFrames(faces, { sampling: { fps: 0.5, scene_threshold: 0.4, max_frames: 24 }, durationS: 6 })) frames.push(frame);
    const times = frames.map((frame) => frame.t);
    // The first frame, one every 2 s, and the two cuts (photo -> testsrc2 at 2 s, back at 4 s) as scene frames.
    assert.ok(times[0] !== undefined && times[0] < 0.1, `first frame at ${times[0]}`);
    assert.ok(times.some((t) => Math.abs(t - 2) < 0.1) && times.some((t) => Math.abs(t - 4) < 0.1), `times ${times.join(', ')}`);
    assert.ok(frames.length >= 3 && frames.length <= 6, `${frames.length} frames: ${times.join(', ')}`);
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    for (const frame of frames) {
      assert.deepEqual([frame.width, frame.height], [398, 224]);
      assert.equal(frame.rgb.length, 398 * 224 * 3);
    }

    const capped = [];
    for await (const frame of sampleFrames(faces, { sampling: { fps: 5, scene_threshold: 0.4, max_frames: 4 }, durationS: 6 })) capped.push(frame.t);
    assert.equal(capped.length, 4);
    // The fixed rate is lowered to fit the cap, so the 4 frames still span the clip.
    assert.ok((capped.at(-1) ?? 0) >= 3.5, `capped times ${capped.join(', ')}`);
  });

  it('synthetic content (test pattern, gradients, noise) passes nudity and has no face', async () => {
    const facts: CheckFacts = {};
    const nudity = await runModerationCheck(nudityCheck(), jobInput(synthetic, undefined, facts));
    assert.equal(nudity.result, 'pass', JSON.stringify(nudity));
    assert.ok((nudity.details?.['max_score'] as number) < builtInModerationRules().nudity.bands.review);
    const sampled = nudity.details?.['sampled_frames'] as number;
    assert.ok(sampled >= 3, `sampled ${sampled}`);
    const perFrame = nudity.details?.['frames'] as Array<{ t: number; scores: Record<string, number> }>;
    assert.equal(perFrame.length, sampled);
    assert.deepEqual(Object.keys(perFrame[0]?.scores ?? {}).sort(), ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy']);

    const faceResult = await runModerationCheck(facesCheck(), jobInput(synthetic, undefined, facts));
    assert.equal(faceResult.result, 'pass', JSON.stringify(faceResult));
    const details = faceResult.details as unknown as FaceDetails;
    assert.deepEqual(details.faces, { frames: [] });
    // The same frames as the nudity check: decoded once for the job.
    assert.deepEqual(details.frame_times, nudity.details?.['frame_times']);
  });

  it('faces go to review with boxes on the face, their times, and thumbnails a moderator can read', async () => {
    const store = new FilesystemObjectStore(join(dir, 'quarantine'));
    const result = await runModerationCheck(facesCheck({ evidence: store }), jobInput(faces));
    assert.equal(result.result, 'review', JSON.stringify(result));
    assert.match(result.reason ?? '', /^faces on \d+ of \d+ sampled frames/);
    const details = result.details as unknown as FaceDetails;
    assert.equal(details.sampled_frames, details.frame_times.length);
    const withFaces = details.faces.frames;
    assert.ok(withFaces.length >= 2, JSON.stringify(withFaces));
    assert.deepEqual(withFaces.map((frame) => frame.t), [...withFaces.map((frame) => frame.t)].sort((a, b) => a - b));
    // Faces only while the photo is on screen (0-2 s, 4-6 s), never on the test pattern between.
    for (const frame of withFaces) assert.ok(frame.t < 2 || frame.t >= 4, `a face at ${frame.t} s`);
    assert.ok(details.frame_times.some((t) => t >= 2 && t < 4), 'a sample on the test pattern, where no face was seen');
    // The astronaut's face: in the 384 px photo about x 135-200, y 45-130 (its centre near 167, 88); the photo is 720 px high at x 280 of 1280.
    const photoToFrame = (px: number, py: number) => ({ x: (280 + (px / 384) * 720) / 1280, y: py / 384 });
    const topLeft = photoToFrame(135, 45);
    const bottomRight = photoToFrame(200, 130);
    for (const frame of withFaces) {
      const [box] = frame.boxes;
      assert.ok(box, `no box at ${frame.t}`);
      const centre = { x: box.x + box.w / 2, y: box.y + box.h / 2 };
      assert.ok(centre.x > topLeft.x && centre.x < bottomRight.x && centre.y > topLeft.y && centre.y < bottomRight.y, `box ${JSON.stringify(box)} not on the face`);
      assert.ok(box.w > 0.03 && box.w < 0.2 && box.h > 0.08 && box.h < 0.4, `box size ${JSON.stringify(box)}`);
      assert.ok(box.score >= builtInModerationRules().faces.min_confidence);
    }

    assert.ok(details.evidence.length >= 1 && details.evidence.length <= 4, JSON.stringify(details.evidence));
    for (const entry of details.evidence) {
      assert.match(entry.key, new RegExp(`^evidence/${UPLOAD_ID}/faces-\\d+\\.jpg$`));
      assert.equal(entry.label, 'face');
      const read = await readEvidence(store, UPLOAD_ID, entry.key);
      assert.ok(read, `evidence ${entry.key} is stored`);
      const bytes = Buffer.concat(await read.body.toArray());
      assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG');
    }
    assert.throws(() => readEvidence(store, UPLOAD_ID, UPLOAD_ID), RangeError, 'the upload bytes are not evidence');
    assert.throws(() => readEvidence(store, UPLOAD_ID, `evidence/01JABCDEFGHJKMNPQRSTVWXYZ1/faces-0.jpg`), RangeError, 'another upload');
    assert.throws(() => readEvidence(store, UPLOAD_ID, `evidence/${UPLOAD_ID}/../${UPLOAD_ID}`), RangeError);
  });

  it("nudity bands decide: a score in the review band asks a human, at block it fails, and the worst frames are kept as evidence", async () => {
    // No explicit picture ships with the tests: bands at 0 put the synthetic clip's small scores in the review and block bands.
    const rules = builtInModerationRules();
    const store = new FilesystemObjectStore(join(dir, 'quarantine-nudity'));
    const review = await runModerationCheck(nudityCheck({ evidence: store, maxEvidenceFrames: 2 }), jobInput(synthetic, { ...rules, nudity: { enabled: true, bands: { review: 0, block: 1.01 } } }));
    assert.equal(review.result, 'review', JSON.stringify(review));
    assert.match(review.reason ?? '', /^possible explicit content: (Porn|Hentai|Sexy) [0-9.]+ at [0-9.]+ s \(review from 0\)$/);
    const evidence = review.details?.['evidence'] as Array<{ key: string; t: number; label: string; score: number }>;
    assert.equal(evidence.length, 2);
    const worst = review.details?.['worst_frames'] as Array<{ t: number; label: string; score: number }>;
    assert.deepEqual(new Set(evidence.map((entry) => entry.t)), new Set(worst.slice(0, 2).map((frame) => frame.t)), 'the two worst frames');
    for (const entry of evidence) {
      assert.match(entry.key, new RegExp(`^evidence/${UPLOAD_ID}/nudity-\\d+\\.jpg$`));
      const read = await readEvidence(store, UPLOAD_ID, entry.key);
      assert.ok(read, `evidence ${entry.key} is stored`);
      assert.ok((await read.body.toArray()).length > 0);
    }

    const block = await runModerationCheck(nudityCheck(), jobInput(synthetic, { ...rules, nudity: { enabled: true, bands: { review: 0, block: 0 } } }));
    assert.equal(block.result, 'fail');
    assert.match(block.reason ?? '', /^explicit content: .* \(block at 0\)$/);
  });

  it('a channel that allows faces passes, with the faces recorded; a check turned off says so', async () => {
    const rules = builtInModerationRules();
    const allowed = await runModerationCheck(facesCheck(), jobInput(faces, { ...rules, faces: { ...rules.faces, allow: true } }));
    assert.equal(allowed.result, 'pass');
    assert.match(allowed.reason ?? '', /the channel allows faces/);
    assert.ok((allowed.details as unknown as FaceDetails).faces.frames.length >= 2);

    const off = await runModerationCheck(facesCheck(), jobInput(faces, { ...rules, faces: { ...rules.faces, enabled: false } }));
    assert.deepEqual([off.result, off.reason], ['pass', 'turned off by the moderation rules']);
    const nudityOff = await runModerationCheck(nudityCheck(), jobInput(faces, { ...rules, nudity: { ...rules.nudity, enabled: false } }));
    assert.deepEqual([nudityOff.result, nudityOff.reason], ['pass', 'turned off by the moderation rules']);
  });

  it('a model that does not load, or a clip that cannot be decoded, is an error (the upload goes to review), never a pass', async () => {
    const missing = join(dir, 'no-such-model');
    const results: CheckResult[] = [
      await runModerationCheck(nudityCheck({ model: { kind: 'folder', path: missing } }), jobInput(synthetic)),
      await runModerationCheck(facesCheck({ modelFolder: missing }), jobInput(synthetic)),
    ];
    for (const result of results) {
      assert.equal(result.result, 'error', JSON.stringify(result));
      assert.match(result.reason ?? '', /model did not load/);
    }
    // The inference thread dying mid-check (here: ended while the faces check waits on it) is an error too, and the next check gets a new thread.
    const inference = new VisionInferenceThread();
    try {
      const running = runModerationCheck(facesCheck({ inference }), jobInput(faces));
      await eventually(() => inference.busy, 'the faces check waiting on its thread');
      await inference.close();
      const crashed = await running;
      assert.equal(crashed.result, 'error', JSON.stringify(crashed));
      assert.match(crashed.reason ?? '', /the vision inference thread exited/);
      assert.equal((await runModerationCheck(facesCheck({ inference }), jobInput(faces))).result, 'review');
    } finally {
      await inference.close();
    }

    const notVideo = join(dir, 'not-a-video.mp4');
    await runFfmpeg(['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=1', notVideo], { timeoutMs: 30_000 });
    const undecodable = await runModerationCheck(nudityCheck(), jobInput(notVideo));
    assert.equal(undecodable.result, 'error', JSON.stringify(undecodable));
  });
});
