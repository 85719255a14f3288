import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ORIGIN_LADDER_SHEDS_METRIC, ORIGIN_SESSIONS_METRIC } from '../../server/src/origin/index.js';
import { eventually } from '../support/eventually.js';
import { startWhipTestServer, type WhipTestServer } from '../support/whip-test-server.js';
import { publishWithLibwebrtc } from '../support/whip-wrtc-publisher.js';
import { ladderFfmpegPid } from './helpers/origin.js';

const run = promisify(execFile);

/** Segment URIs, media sequence and discontinuity tags of a media playlist. */
function listing(text: string): { sequence: number; segments: string[]; maps: string[]; discontinuities: number; ended: boolean } {
  return {
    sequence: Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0),
    segments: text.split('\n').filter((line) => line.startsWith('seg-')),
    maps: [...text.matchAll(/#EXT-X-MAP:URI="([^"]+)"/g)].map((match) => match[1]!),
    discontinuities: text.split('\n').filter((line) => line === '#EXT-X-DISCONTINUITY').length,
    ended: text.includes('#EXT-X-ENDLIST'),
  };
}

/** The first and last video timestamps of a segment read with its init segment (ffprobe), seconds. */
async function mediaSpan(directory: string, init: string, segment: string): Promise<{ startS: number; endS: number }> {
  const joined = join(await mkdtemp(join(tmpdir(), 'relief-span-')), 'segment.mp4');
  await writeFile(joined, Buffer.concat([await readFile(join(directory, init)), await readFile(join(directory, segment))]));
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', joined]);
  await rm(dirname(joined), { recursive: true, force: true });
  const packets = stdout.trim().split('\n').map((line) => line.split(',').map(Number) as [number, number]);
  const starts = packets.map(([pts]) => pts);
  const last = packets.reduce((latest, packet) => (packet[0] > latest[0] ? packet : latest));
  return { startS: Math.min(...starts), endS: last[0] + (last[1] || 0) };
}

/**
 * A live ladder whose ffmpeg falls behind real time after viewers have it. The host's CPU is
 * taken from it the way a starved host does, all at once: the process is stopped (SIGSTOP) for
 * a few seconds, and the media it is sent queues in its sockets. The origin continues the ladder
 * with a new ffmpeg at x264's fastest preset, the same rungs; every rung's playlist goes on
 * across the change.
 */
describe('a live ladder that falls behind real time while viewers watch', () => {
  let server: WhipTestServer;
  before(async () => {
    server = await startWhipTestServer({ env: { ORIGIN_LADDER_RUNGS: '360,240', ORIGIN_LADDER_PRESET: 'veryfast' } });
  });
  after(async () => {
    await server.close();
  });

  it('goes on with the same rungs at the fastest preset: the playlists continue after a discontinuity, the master stays', { timeout: 120_000 }, async (t) => {
    const publication = await publishWithLibwebrtc(server.whipUrl(), await server.grant(), { width: 640, height: 360 });
    try {
      assert.equal(publication.status, 201, publication.body);
      const sessionId = publication.location!.split('/').at(-1)!;
      const signals = server.collaborators.signals;
      await eventually(() => signals.onlineFor(sessionId)[0], 'the session to go live', 30_000, { intervalMs: 100 });
      const sink = server.collaborators.sinks.get(sessionId)!;
      const playlist = (rung: string) => readFile(join(sink.directory, rung, 'index.m3u8'), 'utf8');
      await eventually(async () => listing(await playlist('360p')).segments.length >= 3, 'three 360p segments', 30_000, { intervalMs: 200 });
      const masterBefore = await readFile(join(sink.directory, 'master.m3u8'), 'utf8');
      const metric = async (name: string) => (await server.running.metrics.registry.getSingleMetric(name)!.get()).values;
      const liveSheds = async () => (await metric(ORIGIN_LADDER_SHEDS_METRIC)).find((sample) => sample.labels['when'] === 'live')?.value ?? 0;
      assert.equal(await liveSheds(), 0);

      const pid = await ladderFfmpegPid(sessionId);
      const stoppedAt = Date.now();
      process.kill(pid, 'SIGSTOP');
      try {
        await eventually(async () => (await liveSheds()) >= 1, 'the live ladder judged behind and continued', 15_000, { intervalMs: 100 });
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      t.diagnostic(`stopped ffmpeg judged behind after ${Date.now() - stoppedAt} ms`);
      const continuedAt = Date.now();
      const joined = await eventually(
        async () => {
          const text = await playlist('360p');
          return text.includes('init_r1_360p.mp4') && listing(text).segments.length > 0 ? text : undefined;
        },
        'the 360p playlist continued by the new ladder',
        30_000,
        { intervalMs: 100 },
      );
      t.diagnostic(`the new ladder's first 360p segment listed ${Date.now() - continuedAt} ms after the continuation began`);
      const first = listing(joined);
      assert.equal(first.discontinuities, 1, joined);
      assert.deepEqual(first.maps, ['init_0.mp4', 'init_r1_360p.mp4'], joined);
      assert.equal(first.ended, false, 'the old ffmpeg\'s end is not the broadcast\'s');
      // The new timestamps start where the old ones end (-output_ts_offset), not at zero: never before (no overlap), at most a few frames after.
      const lastOld = first.segments[first.segments.length - 2]!;
      const firstNew = first.segments.at(-1)!;
      const oldSpan = await mediaSpan(join(sink.directory, '360p'), 'init_0.mp4', lastOld);
      const newSpan = await mediaSpan(join(sink.directory, '360p'), 'init_r1_360p.mp4', firstNew);
      t.diagnostic(`the old ladder's last segment ${oldSpan.startS.toFixed(3)}-${oldSpan.endS.toFixed(3)} s, the new one's first from ${newSpan.startS.toFixed(3)} s`);
      assert.ok(newSpan.startS >= oldSpan.endS - 0.005 && newSpan.startS <= oldSpan.endS + 0.25, `the new timestamps follow the old ones: ${JSON.stringify({ oldSpan, newSpan })}`);
      for (const rung of ['240p', 'audio']) {
        const text = await eventually(async () => ((await playlist(rung)).includes(`init_r1_${rung}.mp4`) ? playlist(rung) : undefined), `the ${rung} playlist continued`, 20_000, { intervalMs: 100 });
        assert.equal(listing(text).discontinuities, 1, text);
      }
      // It goes on: more segments after the change, numbered on (each playlist's sequence numbers stay those of the last).
      const later = listing(
        await eventually(async () => {
          const text = await playlist('360p');
          return listing(text).segments.filter((uri) => !first.segments.includes(uri)).length >= 4 ? text : undefined;
        }, 'four more 360p segments', 30_000, { intervalMs: 200 }),
      );
      const sequenceOf = (view: ReturnType<typeof listing>, uri: string) => view.sequence + view.segments.indexOf(uri);
      for (const uri of first.segments.filter((candidate) => later.segments.includes(candidate))) assert.equal(sequenceOf(later, uri), sequenceOf(first, uri), `${uri} keeps its sequence number`);
      assert.equal(await readFile(join(sink.directory, 'master.m3u8'), 'utf8'), masterBefore, 'viewers keep the master playlist they have');
      assert.equal(signals.onlineFor(sessionId).length, 1, 'still the one broadcast');
      const paces = await metric(ORIGIN_SESSIONS_METRIC);
      t.diagnostic(`ladder pace after the change: ${JSON.stringify(paces.filter((sample) => sample.value > 0).map((sample) => sample.labels['ladder']))}`);

      assert.equal((await fetch(`${server.url}${publication.location}`, { method: 'DELETE' })).status, 200);
      await eventually(() => signals.offlineFor(sessionId)[0], 'the end signalled', 20_000);
    } finally {
      publication.close();
      if (publication.location) await fetch(`${server.url}${publication.location}`, { method: 'DELETE' }).catch(() => undefined);
    }
  });
});
