import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storyboardSheetName } from './ladder-ffmpeg-args.js';
import { parseStoryboardVtt, storyboardCues, writeStoryboardVtt } from './storyboard.js';

const plan = { intervalS: 5, tileWidth: 160, tileHeight: 90, columns: 2, rows: 2 };

describe('storyboard', () => {
  it('lays thumbnails row by row across sheets and ends the last cue at the duration', () => {
    const cues = storyboardCues(plan, 27, storyboardSheetName);
    assert.equal(cues.length, 6);
    assert.deepEqual(
      cues.map((cue) => [cue.sheet, cue.x, cue.y]),
      [
        ['storyboard-001.jpg', 0, 0],
        ['storyboard-001.jpg', 160, 0],
        ['storyboard-001.jpg', 0, 90],
        ['storyboard-001.jpg', 160, 90],
        ['storyboard-002.jpg', 0, 0],
        ['storyboard-002.jpg', 160, 0],
      ],
    );
    assert.deepEqual([cues.at(-1)!.startS, cues.at(-1)!.endS], [25, 27]);
  });

  it('never points at a sheet that was not produced', () => {
    const cues = storyboardCues(plan, 27, storyboardSheetName, 1);
    assert.equal(cues.length, 4);
    assert.ok(cues.every((cue) => cue.sheet === 'storyboard-001.jpg'));
  });

  it('writes WebVTT with #xywh fragments that parses back to the same cues, past an hour too', () => {
    const cues = storyboardCues({ ...plan, intervalS: 1000 }, 4000.5, storyboardSheetName);
    const vtt = writeStoryboardVtt(cues);
    assert.match(vtt, /^WEBVTT\n\n00:00:00\.000 --> 00:16:40\.000\nstoryboard-001\.jpg#xywh=0,0,160,90\n/);
    assert.match(vtt, /01:06:40\.000 --> 01:06:40\.500\nstoryboard-002\.jpg#xywh=0,0,160,90\n$/);
    assert.deepEqual(parseStoryboardVtt(vtt), cues);
  });

  it('rejects files that are not storyboards', () => {
    assert.throws(() => parseStoryboardVtt('<html>'), /not a WebVTT/);
    assert.throws(() => parseStoryboardVtt('WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nhello'), /not a storyboard cue/);
  });
});
