import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { audioShareKbps, withBitrateCeiling } from './whip-session.js';

const section = (kind: string, port: number, extra: string[] = []) => [`m=${kind} ${port} UDP/TLS/RTP/SAVPF 96`, 'c=IN IP4 0.0.0.0', ...extra, 'a=mid:0'];
const sdpOf = (...sections: string[][]) => ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', ...sections.flat(), ''].join('\r\n');

/** The `b=AS` of each media section, by kind. */
function ceilings(sdp: string): Record<string, number[]> {
  const found: Record<string, number[]> = {};
  let kind = '';
  for (const line of sdp.split('\r\n')) {
    if (line.startsWith('m=')) kind = line.slice(2).split(' ')[0]!;
    const match = /^b=AS:(\d+)$/.exec(line);
    if (match) (found[kind] ??= []).push(Number(match[1]));
  }
  return found;
}

describe('the answer\'s bitrate ceiling', () => {
  it('gives video the whole limit when there is no audio', () => {
    assert.deepEqual(ceilings(withBitrateCeiling(sdpOf(section('video', 9)), 2500)), { video: [2500] });
    assert.deepEqual(ceilings(withBitrateCeiling(sdpOf(section('video', 9), section('audio', 0)), 2500)), { video: [2500] }, 'a rejected audio section takes nothing');
  });

  it('shares the limit between video and audio so that together they keep to it, even a channel\'s lowest', () => {
    for (const kbps of [8000, 2500, 600, 100]) {
      const shared = ceilings(withBitrateCeiling(sdpOf(section('audio', 9), section('video', 9)), kbps));
      assert.equal(shared['audio']![0], audioShareKbps(kbps));
      assert.equal(shared['video']![0]! + shared['audio']![0]!, kbps, String(kbps));
    }
    assert.equal(audioShareKbps(8000), 64);
    assert.equal(audioShareKbps(100), 25);
  });

  it('replaces the bandwidth lines the answer had, and leaves other sections alone', () => {
    const answer = withBitrateCeiling(sdpOf(section('video', 9, ['b=AS:99999', 'b=TIAS:5000000']), section('application', 9, ['b=AS:30'])), 1000);
    assert.deepEqual(ceilings(answer), { video: [1000], application: [30] });
    assert.doesNotMatch(answer, /TIAS/);
  });
});
