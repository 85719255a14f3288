import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspectWhipOffer } from './whip-offer.js';

/** An offer shaped like Chromium's: BUNDLE, ICE and DTLS attributes per section. */
function offer(sections: { kind: 'video' | 'audio'; codecs: string[]; direction?: string }[]): string {
  const lines = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1'];
  sections.forEach((section, index) => {
    const payloadTypes = section.codecs.map((_, codecIndex) => 96 + codecIndex);
    lines.push(`m=${section.kind} 9 UDP/TLS/RTP/SAVPF ${payloadTypes.join(' ')}`, 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdef012345', 'a=fingerprint:sha-256 AA:BB', `a=mid:${index}`, `a=${section.direction ?? 'sendonly'}`);
    section.codecs.forEach((codec, codecIndex) => {
      const [rtpmap, fmtp] = codec.split('|');
      lines.push(`a=rtpmap:${96 + codecIndex} ${rtpmap}`);
      if (fmtp) lines.push(`a=fmtp:${96 + codecIndex} ${fmtp}`);
    });
  });
  return `${lines.join('\r\n')}\r\n`;
}

describe('inspectWhipOffer', () => {
  it('takes VP8 or H.264 (packetization-mode 1) video with Opus audio, in the offer\'s order', () => {
    const result = inspectWhipOffer(offer([{ kind: 'audio', codecs: ['opus/48000/2'] }, { kind: 'video', codecs: ['VP9/90000', 'H264/90000|profile-level-id=42e01f;packetization-mode=1', 'VP8/90000'] }]));
    assert.deepEqual(result, { ok: true, summary: { videoCodecs: ['h264', 'vp8'], hasAudio: true } });
    assert.deepEqual(inspectWhipOffer(offer([{ kind: 'video', codecs: ['VP8/90000'] }])), { ok: true, summary: { videoCodecs: ['vp8'], hasAudio: false } });
  });

  const refused: [string, string, RegExp][] = [
    ['no video', offer([{ kind: 'audio', codecs: ['opus/48000/2'] }]), /sends no video/],
    ['video it only receives', offer([{ kind: 'video', codecs: ['VP8/90000'], direction: 'recvonly' }]), /sends no video/],
    ['VP9 or AV1 only', offer([{ kind: 'video', codecs: ['VP9/90000', 'AV1/90000'] }]), /no usable video codec/],
    ['H.264 in single NAL mode only', offer([{ kind: 'video', codecs: ['H264/90000|packetization-mode=0'] }]), /no usable video codec/],
    ['audio in G.711', offer([{ kind: 'video', codecs: ['VP8/90000'] }, { kind: 'audio', codecs: ['PCMU/8000'] }]), /Opus/],
    ['two video tracks', offer([{ kind: 'video', codecs: ['VP8/90000'] }, { kind: 'video', codecs: ['VP8/90000'] }]), /more than one/],
    ['many sections', offer(Array.from({ length: 9 }, () => ({ kind: 'video' as const, codecs: ['VP8/90000'] }))), /at most 4/],
    ['no ICE credentials', offer([{ kind: 'video', codecs: ['VP8/90000'] }]).replace(/a=ice-(ufrag|pwd):.*\r\n/g, ''), /ICE credentials/],
    ['no fingerprint', offer([{ kind: 'video', codecs: ['VP8/90000'] }]).replace(/a=fingerprint:.*\r\n/, ''), /fingerprint/],
    ['not SDP', '{"sdp":"v=0"}', /not an SDP offer/],
    ['no media', 'v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n', /no media section/],
    ['control characters', offer([{ kind: 'video', codecs: ['VP8/90000'] }]).replace('s=-', 's=\u0000\u0007'), /control characters/],
  ];
  for (const [what, sdp, reason] of refused) {
    it(`refuses an offer with ${what}, saying why`, () => {
      const result = inspectWhipOffer(sdp);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.reason, reason);
    });
  }
});

describe('the size an offer declares it sends (RFC 6236 imageattr)', () => {
  const offeredSendSize = (sdp: string) => {
    const inspection = inspectWhipOffer(sdp);
    assert.ok(inspection.ok, inspection.ok ? '' : inspection.reason);
    return inspection.summary.sendSize;
  };
  const video = offer([{ kind: 'audio', codecs: ['opus/48000/2'] }, { kind: 'video', codecs: ['VP8/90000'] }]);
  const withLine = (line: string) => video.replace('a=rtpmap:96 VP8/90000', `a=rtpmap:96 VP8/90000\r\n${line}`);

  it('reads the largest size the video section says it sends', () => {
    assert.deepEqual(offeredSendSize(withLine('a=imageattr:* send [x=960,y=540] recv *')), { width: 960, height: 540 });
    assert.deepEqual(offeredSendSize(withLine('a=imageattr:96 send [x=480,y=270,sar=1.0] [x=1280,y=720,q=0.5] recv [x=320,y=180]')), { width: 1280, height: 720 });
    assert.deepEqual(offeredSendSize(withLine('a=imageattr:96 recv [x=1920,y=1080] send [x=640,y=360]')), { width: 640, height: 360 });
  });

  it('says nothing for no attribute, receive-only sizes, ranges, sizes out of bounds, or an audio section\'s', () => {
    assert.equal(offeredSendSize(video), undefined);
    assert.equal(offeredSendSize(withLine('a=imageattr:* recv [x=1920,y=1080]')), undefined);
    assert.equal(offeredSendSize(withLine('a=imageattr:* send [x=[320:16:640],y=[240:16:480]]')), undefined);
    assert.equal(offeredSendSize(withLine('a=imageattr:* send [x=99999,y=540] [x=8,y=8] [x=0,y=0]')), undefined);
    assert.equal(offeredSendSize(withLine(`a=imageattr:* send ${'[x=1,y=1] '.repeat(5000)}`)), undefined);
    const audioOnly = video.replace('a=rtpmap:96 opus/48000/2', 'a=rtpmap:96 opus/48000/2\r\na=imageattr:* send [x=960,y=540]');
    assert.equal(offeredSendSize(audioOnly), undefined);
  });
});

