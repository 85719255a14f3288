import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ORIGIN_LADDER_SHEDS_METRIC, ORIGIN_SESSIONS_METRIC } from '../../server/src/origin/index.js';
import { eventually } from '../support/eventually.js';
import { startWhipTestServer, type WhipTestServer } from '../support/whip-test-server.js';
import { publishWithLibwebrtc } from '../support/whip-wrtc-publisher.js';

/**
 * An origin whose ffmpeg cannot keep up with the live ladder it is configured for: three rungs
 * (720p, 480p, 360p) at x264's `medium` preset from a 1280x720 publisher run at about 0.3x real
 * time on these 2 cores (measured), as a host short of CPU makes any ladder. A libwebrtc
 * publisher (not ours) publishes to the real server.
 */
describe('an origin that cannot keep up with its live ladder', () => {
  let server: WhipTestServer;
  before(async () => {
    server = await startWhipTestServer({ env: { ORIGIN_LADDER_RUNGS: '720,480,360', ORIGIN_LADDER_PRESET: 'medium' } });
  });
  after(async () => {
    await server.close();
  });

  const segments = (handed: readonly string[], rendition: string) => handed.filter((path) => path.startsWith(`${rendition}/seg-`)).length;

  it('sheds what it cannot afford before going live, a rung at a time: the lighter ladder plays, video beside audio', { timeout: 120_000 }, async () => {
    const startedAt = Date.now();
    const publication = await publishWithLibwebrtc(server.whipUrl(), await server.grant(), { width: 1280, height: 720 });
    try {
      assert.equal(publication.status, 201, publication.body);
      const sessionId = publication.location!.split('/').at(-1)!;
      const signals = server.collaborators.signals;
      const online = await eventually(() => signals.onlineFor(sessionId)[0], 'the session to go live', 90_000, { intervalMs: 100 });
      const liveAfterMs = Date.now() - startedAt;
      const sink = server.collaborators.sinks.get(sessionId)!;
      const master = await readFile(join(sink.directory, 'master.m3u8'), 'utf8');
      const sizes = [...master.matchAll(/RESOLUTION=(\d+x\d+)/g)].map((match) => match[1]!);
      const sheds = sink.discarded.length;
      console.log(`# offer to live: ${liveAfterMs} ms, ${sheds} ladder(s) thrown away, live with ${sizes.join(', ')} (the source: ${online.video?.width}x${online.video?.height})`);
      assert.ok(sheds >= 1, 'the three rungs were thrown away before going live');
      assert.ok(sizes.length < 3, `fewer rungs than planned: ${sizes.join(', ')}`);
      assert.equal(signals.onlineFor(sessionId).length, 1, 'live once, with the ladder that stayed: viewers never had one that was thrown away');
      const metric = async (name: string) => (await server.running.metrics.registry.getSingleMetric(name)!.get()).values;
      assert.equal((await metric(ORIGIN_LADDER_SHEDS_METRIC)).find((sample) => sample.labels['when'] === 'before_live')?.value, sheds, 'each shed counted for the operator');
      const paces = await metric(ORIGIN_SESSIONS_METRIC);
      assert.equal(paces.reduce((sum, sample) => sum + sample.value, 0), 1, `one session here, by its ladder's pace: ${JSON.stringify(paces)}`);
      for (const path of sink.discarded.flat()) {
        if (!sink.handed.includes(path)) await assert.rejects(readFile(join(sink.directory, path)), { code: 'ENOENT' }, `${path} removed`);
      }
      const top = sizes[0]!.split('x')[1]!;
      const rendition = `${top}p`;
      assert.ok(!sink.handed.some((path) => path.startsWith('720p/')), 'nothing of the shed top rung is handed after the shed');
      await eventually(() => segments(sink.handed, rendition) >= 4 && segments(sink.handed, 'audio') >= 4, `four ${rendition} and four audio segments`, 60_000, { intervalMs: 200 });
      assert.ok(Math.abs(segments(sink.handed, 'audio') - segments(sink.handed, rendition)) <= 2, `audio beside video: ${segments(sink.handed, 'audio')} audio, ${segments(sink.handed, rendition)} ${rendition} segments`);
      assert.equal((await fetch(`${server.url}${publication.location}`, { method: 'DELETE' })).status, 200);
      await eventually(() => signals.offlineFor(sessionId)[0], 'the end signalled', 20_000);
      assert.equal((await metric(ORIGIN_SESSIONS_METRIC)).reduce((sum, sample) => sum + sample.value, 0), 0, 'no session once it ended');
    } finally {
      publication.close();
      if (publication.location) await fetch(`${server.url}${publication.location}`, { method: 'DELETE' }).catch(() => undefined);
    }
  });
});
