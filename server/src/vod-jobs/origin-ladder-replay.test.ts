import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ulid } from 'ulid';
import { FIXTURE_RUNGS, feedLiveLadder, writeContinuedLadderFixture } from '../../../test/support/origin-ladder-fixture.js';
import { LiveHlsMirror, parseMediaPlaylist } from '../origin/live-hls-mirror.js';
import { originKeyPrefix } from '../origin/origin-session.js';
import { FilesystemObjectStore } from '../storage/index.js';
import { parseStoryboardVtt } from '../vod/index.js';
import { assembleOriginReplay } from './origin-ladder-replay.js';
import { vodFileFor } from './vod-files.js';

const run = promisify(execFile);

/** Seconds each encoder of the relieved ladder wrote. */
const PARTS = { seconds: 6, reliefSeconds: 6 } as const;
const TOTAL_S = PARTS.seconds + PARTS.reliefSeconds;
/** One thumbnail a second, four a sheet: the sheets count the seconds the drawing decoded. */
const STORYBOARD = { intervalS: 1, tileWidth: 80, columns: 2, rows: 2 } as const;
/** The poster inside the relief encoder's part. */
const POSTER_AT = 0.75;

/** ffprobe of a file (or, for a playlist, through ffmpeg's HLS demuxer): its duration in seconds. */
async function durationOf(path: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path]);
  return Number(stdout.trim());
}

/** Decodes a file's video to nothing: answers what ffmpeg complained of (empty: every frame decoded). */
async function decodeErrors(path: string): Promise<string> {
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-nostats', '-i', path, '-map', '0:v:0', '-f', 'null', '-']);
  return stderr.trim();
}

/** PSNR (dB) of two pictures of the same size. */
async function psnr(a: string, b: string): Promise<number> {
  const { stderr } = await run('ffmpeg', ['-v', 'info', '-nostats', '-i', a, '-i', b, '-lavfi', '[0:v][1:v]psnr', '-f', 'null', '-']);
  const average = /average:(\S+)/.exec(stderr)?.[1];
  assert.ok(average !== undefined, stderr);
  return average === 'inf' ? Number.POSITIVE_INFINITY : Number(average);
}

describe('assembleOriginReplay of a ladder whose ffmpeg was relieved mid-broadcast', () => {
  let ladder: string;
  let scratch: string;
  let media: FilesystemObjectStore;

  before(async () => {
    ladder = await writeContinuedLadderFixture(PARTS);
    scratch = await mkdtemp(join(tmpdir(), 'origin-replay-'));
    media = new FilesystemObjectStore(join(scratch, 'media'));
  });
  after(async () => {
    await rm(ladder, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  it('copies every segment and both init segments, keeps the discontinuity and the new map, and draws poster and storyboard across the encoder change', async () => {
    const prefix = originKeyPrefix('acme/studio', ulid());
    const mirror = new LiveHlsMirror(media, prefix);
    const names = await feedLiveLadder(ladder, mirror, 3, scratch);
    await mirror.close();

    const directory = join(scratch, 'replay');
    const facts = await assembleOriginReplay(media, prefix, directory, { storyboard: STORYBOARD, posterAt: POSTER_AT });
    assert.ok(Math.abs(facts.durationS - TOTAL_S) < 0.5, `replay duration ${facts.durationS} s`);
    assert.deepEqual(facts.renditions.map((rendition) => rendition.name), ['360p', '240p']);

    for (const rung of FIXTURE_RUNGS) {
      const live = parseMediaPlaylist(await readFile(join(ladder, rung, 'index.m3u8'), 'utf8'));
      const firstRelief = live.segments.findIndex(([, lines]) => lines.includes(`#EXT-X-MAP:URI="init_r1_${rung}.mp4"`));
      assert.ok(firstRelief > 0, `${rung}: the fixture was relieved`);
      const liveInits = [/URI="([^"]+)"/.exec(live.header.find((line) => line.startsWith('#EXT-X-MAP:'))!)![1]!, `init_r1_${rung}.mp4`];

      const vodText = await readFile(join(directory, rung, 'index.m3u8'), 'utf8');
      const vod = parseMediaPlaylist(vodText);
      assert.equal(vod.ended, true);
      assert.deepEqual(vod.header.filter((line) => line.startsWith('#EXT-X-MAP:')), ['#EXT-X-MAP:URI="init_0.mp4"']);
      assert.equal(vod.segments.length, names.get(rung)!.length, `${rung}: every segment`);
      for (const [index, [target, lines]] of vod.segments.entries()) {
        const tags = lines.filter((line) => line === '#EXT-X-DISCONTINUITY' || line.startsWith('#EXT-X-MAP:'));
        assert.deepEqual(tags, index === firstRelief ? ['#EXT-X-DISCONTINUITY', '#EXT-X-MAP:URI="init_1.mp4"'] : [], `${rung}/${target}`);
        assert.deepEqual(await readFile(join(directory, rung, target)), await readFile(join(ladder, rung, names.get(rung)![index]!)), `${rung}/${target} byte for byte`);
      }
      for (const [index, liveInit] of liveInits.entries()) {
        assert.deepEqual(await readFile(join(directory, rung, `init_${index}.mp4`)), await readFile(join(ladder, rung, liveInit)), `${rung}: ${liveInit} as init_${index}.mp4`);
      }
      // Every file of the rung is one /vod serves (what storeVodOutput sends).
      for (const file of await readdir(join(directory, rung))) assert.ok(vodFileFor(`${rung}/${file}`), `${rung}/${file} is served`);
      const probed = await durationOf(join(directory, rung, 'index.m3u8'));
      assert.ok(Math.abs(probed - TOTAL_S) < 0.5, `${rung}: ffprobe through the VOD playlist reads ${probed} s`);
    }

    // The drawing's inputs were removed; the pictures are there.
    assert.deepEqual((await readdir(directory)).filter((name) => name.startsWith('.')), []);
    const poster = join(directory, 'poster.jpg');
    assert.equal((await readFile(poster)).subarray(0, 2).toString('hex'), 'ffd8');
    const cues = parseStoryboardVtt(await readFile(join(directory, 'storyboard.vtt'), 'utf8'));
    assert.equal(cues.length, TOTAL_S / STORYBOARD.intervalS, 'a thumbnail for every second of both parts');
    assert.ok(cues.at(-1)!.endS > TOTAL_S - 0.5, `the last cue ends at ${cues.at(-1)!.endS} s`);
    const sheets = (await readdir(directory)).filter((name) => /^storyboard-\d{3}\.jpg$/.test(name));
    assert.equal(sheets.length, TOTAL_S / STORYBOARD.intervalS / (STORYBOARD.columns * STORYBOARD.rows), 'the drawing decoded both parts');

    // The poster, inside the relief part, is the picture that part decodes to on its own.
    const reliefRun = join(scratch, 'relief-run.mp4');
    const top = join(directory, '360p');
    const reliefSegments = vodSegmentsFrom(await readFile(join(top, 'index.m3u8'), 'utf8'), 'init_1.mp4');
    await writeFile(reliefRun, Buffer.concat(await Promise.all(['init_1.mp4', ...reliefSegments].map((name) => readFile(join(top, name))))));
    assert.equal(await decodeErrors(reliefRun), '', 'the relief run decodes on its own');
    const reference = join(scratch, 'reference.png');
    const posterInReliefS = TOTAL_S * POSTER_AT - PARTS.seconds;
    await run('ffmpeg', ['-v', 'error', '-y', '-i', reliefRun, '-vf', `select=gte(t\\,${posterInReliefS.toFixed(3)})`, '-frames:v', '1', reference]);
    const similarity = await psnr(poster, reference);
    assert.ok(similarity > 30, `the poster is the relief part's picture (PSNR ${similarity} dB)`);
  });
});

/** The segments of a VOD playlist read with `init`, in order. */
function vodSegmentsFrom(text: string, init: string): string[] {
  const playlist = parseMediaPlaylist(text);
  const start = playlist.segments.findIndex(([, lines]) => lines.includes(`#EXT-X-MAP:URI="${init}"`));
  return playlist.segments.slice(start).map(([name]) => name);
}
