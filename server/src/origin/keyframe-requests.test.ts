import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../../test/support/eventually.js';
import { DEFAULT_KEYFRAME_REQUEST_OPTIONS, KeyframeRequestSchedule, ffmpegReportsDamage } from './keyframe-requests.js';
import { rtpInputSdp } from './live-ladder.js';
import { freeRtpPortPair } from './rtp-ports.js';

const SEGMENT_MS = 2000;
const schedule = () => new KeyframeRequestSchedule({ ...DEFAULT_KEYFRAME_REQUEST_OPTIONS, segmentMs: SEGMENT_MS });

describe('keyframe requests of a WHIP session', () => {
  it('ask every second until the ladder is playable, and at once when forced', () => {
    const keyframes = schedule();
    assert.equal(keyframes.due(0, { playable: false }), 'startup');
    assert.equal(keyframes.due(400, { playable: false }), undefined);
    assert.equal(keyframes.due(500, { playable: false, force: true }), 'startup', 'ffmpeg just started: asked regardless of pace');
    assert.equal(keyframes.due(1400, { playable: false }), undefined);
    assert.equal(keyframes.due(1500, { playable: false }), 'startup');
    assert.equal(keyframes.counts.startup, 3);
  });

  it('before the ladder is playable, ask a round trip after the last request when ffmpeg reports damage (it is bound and missed the keyframe)', () => {
    const keyframes = schedule();
    assert.equal(keyframes.due(0, { playable: false }), 'startup');
    keyframes.damaged();
    assert.equal(keyframes.due(200, { playable: false }), undefined, 'the keyframe asked for may still be on its way');
    assert.equal(keyframes.due(300, { playable: false }), 'startup');
    assert.equal(keyframes.due(700, { playable: false }), undefined, 'no damage since: the second-by-second pace');
    assert.equal(keyframes.due(1300, { playable: false }), 'startup');
    assert.equal(keyframes.counts.startup, 3);
  });

  it('once playable, ask on damage at most once per segment, however much damage is reported', () => {
    const keyframes = schedule();
    keyframes.due(0, { playable: false });
    assert.equal(keyframes.due(1000, { playable: true }), undefined, 'no damage, no refresh due yet');
    keyframes.damaged();
    assert.equal(keyframes.due(1000, { playable: true }), undefined, 'the last request was under a segment ago');
    assert.equal(keyframes.due(2000, { playable: true }), 'damage');
    keyframes.damaged();
    keyframes.damaged();
    assert.equal(keyframes.due(2100, { playable: true }), undefined);
    assert.equal(keyframes.due(3999, { playable: true }), undefined);
    assert.equal(keyframes.due(4000, { playable: true }), 'damage');
    assert.equal(keyframes.due(6000, { playable: true }), undefined, 'the damage was answered: nothing more until a refresh is due');
    assert.equal(keyframes.counts.damage, 2);
  });

  it('refresh every fifth segment when nothing else asked, never while damage keeps asking', () => {
    const keyframes = schedule();
    keyframes.due(0, { playable: false });
    assert.equal(keyframes.due(9999, { playable: true }), undefined);
    assert.equal(keyframes.due(10_000, { playable: true }), 'refresh');
    keyframes.damaged();
    assert.equal(keyframes.due(12_000, { playable: true }), 'damage');
    assert.equal(keyframes.due(21_999, { playable: true }), undefined, 'a damage request restarts the refresh wait');
    assert.equal(keyframes.due(22_000, { playable: true }), 'refresh');
  });
});

/** Runs ffmpeg (killed after 30 s: a test never hangs on it), returns its stderr lines. */
function ffmpegStderr(args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-nostdin', '-hide_banner', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', () => {
      clearTimeout(killer);
      resolve(stderr.split('\n'));
    });
  });
}

/** Whether a UDP port on loopback is free (false once ffmpeg has bound it). */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createSocket('udp4');
    probe.once('error', () => {
      probe.close();
      resolve(false);
    });
    probe.bind(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('ffmpeg damage reports (real ffmpeg decoding a damaged stream)', () => {
  let dir: string;
  let clean: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keyframe-damage-'));
    clean = join(dir, 'clean.h264');
    // One keyframe, then 3 s of inter frames: a damaged inter frame is not repaired by the stream itself (a publisher that is never asked).
    await ffmpegStderr(['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30:duration=3', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '1000', '-bsf:v', 'h264_mp4toannexb', '-y', clean]);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sees nothing in a clean decode, and sees what ffmpeg prints when inter frames lost bytes', async () => {
    const cleanLines = await ffmpegStderr(['-v', 'warning', '-i', clean, '-f', 'null', '-']);
    assert.deepEqual(cleanLines.filter(ffmpegReportsDamage), [], cleanLines.join('\n'));

    const bytes = Buffer.from(await readFile(clean));
    // Cut slices out of the middle (as a lost RTP packet would): the keyframe at the start stays whole.
    const damaged = Buffer.concat([bytes.subarray(0, Math.floor(bytes.length * 0.4)), bytes.subarray(Math.floor(bytes.length * 0.4) + 700, Math.floor(bytes.length * 0.7)), bytes.subarray(Math.floor(bytes.length * 0.7) + 700)]);
    for (let i = Math.floor(damaged.length * 0.5); i < damaged.length * 0.5 + 400; i += 7) damaged[i] = 0xff;
    const damagedPath = join(dir, 'damaged.h264');
    await writeFile(damagedPath, damaged);
    const damagedLines = await ffmpegStderr(['-v', 'warning', '-i', damagedPath, '-f', 'null', '-']);
    assert.ok(damagedLines.some(ffmpegReportsDamage), `no damage seen in:\n${damagedLines.join('\n')}`);
  });

  it('sees an RTP loss NACK did not repair: ffmpeg reading an SDP (as the ladder does) from a sender whose packets are dropped now and then', async () => {
    const relayPort = await freeRtpPortPair();
    const ladderPort = await freeRtpPortPair();
    const sdpPath = join(dir, 'input.sdp');
    await writeFile(sdpPath, rtpInputSdp({ video: ladderPort }, { video: { codec: 'h264', payloadType: 96 } }));
    // The loss: every 100th packet of the sender is not passed on (after the first keyframe's).
    const relay = createSocket('udp4');
    const out = createSocket('udp4');
    let packets = 0;
    relay.on('message', (packet) => {
      packets += 1;
      if (packets > 200 && packets % 100 === 0) return;
      out.send(packet, ladderPort, '127.0.0.1');
    });
    await new Promise<void>((resolve) => relay.bind(relayPort, '127.0.0.1', resolve));
    try {
      const receiver = ffmpegStderr(['-v', 'warning', '-protocol_whitelist', 'file,udp,rtp', '-reorder_queue_size', '512', '-i', sdpPath, '-t', '4', '-f', 'null', '-']);
      await eventually(async () => !(await canBind(ladderPort)), 'the ladder-side ffmpeg listening', 10_000, { intervalMs: 50 });
      // One keyframe only, as a libwebrtc publisher that is never asked.
      await ffmpegStderr(['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=5', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '100000', '-bsf:v', 'h264_mp4toannexb', '-f', 'rtp', '-payload_type', '96', `rtp://127.0.0.1:${relayPort}`]);
      const lines = await receiver;
      const damage = lines.filter(ffmpegReportsDamage);
      assert.ok(damage.some((line) => /RTP: missed \d+ packets/.test(line)), `no RTP gap seen in:\n${lines.join('\n')}`);
    } finally {
      relay.close();
      out.close();
    }
  });

  it('knows the lines it has not seen here: a packet after its gap was given up, and VP8 without a keyframe', () => {
    assert.ok(ffmpegReportsDamage('[sdp @ 0x55d0c8a4e2c0] RTP: dropping old packet received too late'));
    assert.ok(ffmpegReportsDamage('[vp8 @ 0x5581] Discarding interframe without a prior keyframe!'));
    assert.ok(!ffmpegReportsDamage("[hls @ 0x5581] Opening 'seg-3.m4s.tmp' for writing"));
    assert.ok(!ffmpegReportsDamage('frame=  120 fps= 30 q=-1.0 size=N/A time=00:00:04.00 bitrate=N/A speed=   1x'));
  });
});
