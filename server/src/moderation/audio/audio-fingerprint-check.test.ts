import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { audioFixtures, REUSED_SPAN, type AudioFixtures } from '../../../../test/fixtures/audio-fixtures.js';
import { uploadRecordFixture } from '../../../../test/support/upload-record-fixture.js';
import { createMemoryBus } from '../../bus/index.js';
import { runModerationCheck, type CheckResult } from '../moderation-check.js';
import { builtInModerationRules, type ModerationRules, type ResolvedModerationRules } from '../moderation-rules.js';
import { audioFingerprintCheck } from './audio-fingerprint-check.js';
import { AudioReferences } from './audio-references.js';
import { AUDIO_REFERENCE_DEMUXERS, fingerprintAudioFile } from './fingerprint-audio-file.js';

const upload = uploadRecordFixture({ upload_id: '01JABCDEFGHJKMNPQRSTVWXYZ0', status: 'checking' }, Date.parse('2026-01-01T00:00:00.000Z'));

function rulesWith(audio: Partial<ModerationRules['audio_fingerprint']>): ResolvedModerationRules {
  const rules = builtInModerationRules();
  return { rules: { ...rules, audio_fingerprint: { ...rules.audio_fingerprint, ...audio } }, version: 7, scope: 'default' };
}

interface MatchDetails {
  reference_id: string;
  title: string;
  score: number;
  clip_from_s: number;
  clip_to_s: number;
  reference_from_s: number;
  reference_to_s: number;
}

describe('audio fingerprint check (real files, ffmpeg chromaprint)', () => {
  let fixtures: AudioFixtures;
  let references: AudioReferences;
  let referenceId: string;
  const check = (path: string, rules: ResolvedModerationRules = rulesWith({})): Promise<CheckResult> =>
    runModerationCheck(audioFingerprintCheck(references), { path, upload, facts: {}, rules });

  before(async () => {
    fixtures = await audioFixtures();
    references = await AudioReferences.open(createMemoryBus());
    const heard = await fingerprintAudioFile(fixtures.referenceFlac, { maxDurationS: 3600, demuxers: AUDIO_REFERENCE_DEMUXERS });
    assert.equal(heard.kind, 'fingerprinted');
    if (heard.kind !== 'fingerprinted') return;
    referenceId = (await references.add({ frames: heard.frames, title: 'Morning Theme', owner: 'Acme Records', notes: null, createdBy: 'admin' })).id;
  });

  it('fails a clip that reuses 10 s of a reference under noise at half the volume, naming the reference and both spans', async () => {
    const result = await check(fixtures.clipReusingReference);
    assert.equal(result.result, 'fail', result.reason);
    const match = result.details?.['match'] as MatchDetails;
    assert.equal(match.reference_id, referenceId);
    assert.equal(match.title, 'Morning Theme');
    assert.ok(match.score >= 0.8, `score ${match.score} in the block band`);
    const near = (actual: number, expected: number, label: string): void => assert.ok(Math.abs(actual - expected) <= 1, `${label}: ${actual} s within 1 s of ${expected} s`);
    near(match.clip_from_s, REUSED_SPAN.clipFromS, 'clip from');
    near(match.clip_to_s, REUSED_SPAN.clipToS, 'clip to');
    near(match.reference_from_s, REUSED_SPAN.referenceFromS, 'reference from');
    near(match.reference_to_s, REUSED_SPAN.referenceToS, 'reference to');
    assert.match(result.reason ?? '', new RegExp(`matches "Morning Theme" \\(reference ${referenceId}\\)`));
    assert.equal(result.details?.['rules_version'], 7);
  });

  it('sends the same clip to review when the score sits in the review band, and passes it when the block and review bands are above it', async () => {
    const review = await check(fixtures.clipReusingReference, rulesWith({ bands: { review: 0.6, block: 1.01 } }));
    assert.equal(review.result, 'review', review.reason);
    assert.equal((review.details?.['match'] as MatchDetails).reference_id, referenceId);
    const pass = await check(fixtures.clipReusingReference, rulesWith({ bands: { review: 0.99, block: 1.01 } }));
    assert.equal(pass.result, 'pass');
    assert.equal((pass.details?.['match'] as MatchDetails).reference_id, referenceId, 'a match below the bands is still recorded');
  });

  it('ignores a match shorter than the rules min_match_s (10 s reused, 12 s asked)', async () => {
    const result = await check(fixtures.clipReusingReference, rulesWith({ min_match_s: 12 }));
    assert.equal(result.result, 'pass');
    assert.equal(result.details?.['match'], undefined);
    assert.equal(result.details?.['matching_references'], 0);
  });

  it('passes unrelated audio, and a clip without audio with "no audio"', async () => {
    const unrelated = await check(fixtures.clipUnrelated);
    assert.equal(unrelated.result, 'pass', unrelated.reason);
    assert.equal(unrelated.details?.['match'], undefined);
    assert.ok((unrelated.details?.['fingerprinted_s'] as number) > 19);
    const silent = await check(fixtures.clipWithoutAudio);
    assert.deepEqual([silent.result, silent.reason], ['pass', 'no audio']);
  });

  it('passes with a reason when the rules turn it off, without listening', async () => {
    const result = await check('/nonexistent/never-read.mp4', rulesWith({ enabled: false }));
    assert.deepEqual([result.result, result.reason], ['pass', 'audio fingerprint matching is off in the moderation rules']);
  });

  it('records an error (a human reviews) when ffmpeg cannot read the file', async () => {
    const result = await check(fixtures.notMedia);
    assert.equal(result.result, 'error');
    assert.doesNotMatch(result.reason ?? '', new RegExp(fixtures.dir));
  });
});
