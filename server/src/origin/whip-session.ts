import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RTCPeerConnection, RTCRtpCodecParameters, useNACK, usePLI, type MediaStreamTrack, type RTCRtpTransceiver, type RtcpPacket, type RtpPacket } from 'werift';
import type { Logger } from '../observability/index.js';
import type { LadderPlan } from '../vod/index.js';
import { readFfmpegProgress } from '../media/index.js';
import { LadderPace, type LadderPaceState, type LadderPaceVerdict } from './ladder-pace.js';
import { fasterLadder, ladderSourceSize, lighterLadder, liveLadderFfmpegArgs, planLiveLadder, rtpInputSdp, type LadderContinuationArgs, type LiveLadderOptions } from './live-ladder.js';
import type { InspectedOffer } from './whip-offer.js';
import { LiveHlsWatcher, type LadderContinuation } from './live-hls-watcher.js';
import { DEFAULT_KEYFRAME_REQUEST_OPTIONS, KeyframeRequestSchedule, ffmpegReportsDamage } from './keyframe-requests.js';
import type { LiveHlsSink, OriginSession, OriginSignals } from './origin-session.js';
import type { OriginSessions } from './origin-sessions.js';
import { freeRtpPortPair } from './rtp-ports.js';
import { h264SpsSize, vp8KeyframeSize, type FrameSize } from './video-frame-size.js';

/** What one session may use and how long it waits (config: `ORIGIN_*`, lowered by the channel's `origin_limits`: `effectiveOriginLimits`). */
export interface WhipSessionLimits {
  /** No RTP for this long ends the session (`media-timeout`). */
  readonly mediaTimeoutMs: number;
  /** Video + audio; the answer asks the publisher for at most this (`b=AS`, shared between video and audio: `withBitrateCeiling`), and a sustained 25 % more ends the session (`limit`). */
  readonly maxBitrateKbps: number;
  /** The largest picture taken, by its short side (1080: a 1920x1080 or a portrait 1080x1920 camera). */
  readonly maxShortSidePx: number;
  readonly ladder: LiveLadderOptions;
}

export interface WhipSessionDeps {
  readonly sessions: OriginSessions;
  readonly sink: LiveHlsSink;
  readonly signals: OriginSignals;
  readonly limits: WhipSessionLimits;
  /** A directory of this session's own (ffmpeg's output, the SDP); removed at the end. */
  readonly workDir: string;
  readonly ffmpegPath?: string;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Called once, after the session has ended and signalled its end. */
  readonly onEnded?: (session: OriginSession | undefined, reason: string) => void;
  /**
   * Called each time a ladder that fell behind real time is replaced by a lighter one (for
   * metrics): `before-live` (a rung fewer or a faster preset, nobody watched it yet) or `live`
   * (the same rungs go on at a faster preset while viewers watch).
   */
  readonly onLadderShed?: (when: LadderShedTime) => void;
}

export type LadderShedTime = 'before-live' | 'live';

/** The offer could not be answered (werift refused it): a 422 for the publisher. */
export class UnanswerableOfferError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnanswerableOfferError';
  }
}

/** The bitrate limit is judged over this window. */
const BITRATE_WINDOW_MS = 5000;
const BITRATE_TOLERANCE = 1.25;
/**
 * ffmpeg gets this long to write its last segments and `EXT-X-ENDLIST` after SIGINT. It reads
 * SIGINT between input packets: `finish()` keeps forwarding media, or repeats the last Opus
 * packet, or (a video-only publisher that stopped) the last keyframe, so it sees it at
 * once; with none of them it waits for its RTP read to give up: ffmpeg 5.1's SDP demuxer times
 * out after 10 s of no packets (measured: 9.8 s from SIGINT to a clean exit). Longer than that,
 * so the clean exit (final playlists, last segment) wins over SIGKILL (a second SIGINT
 * interrupts the muxer's writes too: empty playlists).
 */
const FFMPEG_FINISH_MS = 13_000;
/** After SIGINT with no media arriving, how often `finish()` repeats the last Opus packet (or keyframe) to wake ffmpeg's read. */
const FFMPEG_WAKE_MS = 300;
/** One 20 ms Opus frame in RTP timestamp units (48 kHz). */
const OPUS_FRAME_TICKS = 960;
/** The wake interval in video RTP timestamp units (90 kHz). */
const VIDEO_WAKE_TICKS = 90 * FFMPEG_WAKE_MS;
/** A keyframe's packets kept for the wake-up at most (a 1080p keyframe is a few hundred). */
const MAX_FRAME_PACKETS = 2048;
const STDERR_TAIL_BYTES = 4096;
/**
 * How many times a session's ladder may be planned again before it is playable (each a new
 * ffmpeg): a picture that grows in steps (an encoder ramping up) gets the ladder of its last
 * step without a publisher that keeps changing size restarting it forever.
 */
const MAX_LADDER_RESTARTS = 3;
/**
 * How many times a ladder that falls behind real time before the session goes live with it is
 * replaced by a lighter one (`lighterLadder`: a rung fewer, or the fastest preset): a 1080p source's four
 * rungs down to one at x264's fastest preset.
 */
const MAX_LADDER_SHEDS = 4;
/** How many times a live ladder may be continued by a faster one (`continueLiveLadder`): once, to x264's fastest preset. */
const MAX_LIVE_RELIEFS = 1;
/**
 * How long a playable ladder whose pace is not known to keep up (`judging`, or `slow`: below
 * real time, not yet by much) may wait before it goes live anyway. A ladder that keeps up is
 * judged so by the time its first segments are out (measured: at once, offer to live 2.8 s) and
 * does not wait; one at 0.75x has lost the 1 s that makes it `behind` about 4 s after ffmpeg's
 * first report, and is replaced before viewers get it. A slower loss than that goes live, and
 * shows as `slow`, then `behind`, in `/metrics`.
 */
const PACE_WAIT_MS = 4000;
/**
 * How long a live ladder's ffmpeg that another continues gets to flush (SIGINT: its last frames
 * encoded, its last segment and playlists written) before it is killed: the new one starts after
 * it, and viewers wait meanwhile.
 */
const CONTINUED_FFMPEG_EXIT_MS = 2000;

type VideoCodec = 'h264' | 'vp8';

interface ReceivedTrack {
  readonly track: MediaStreamTrack;
  readonly transceiver: RTCRtpTransceiver;
  readonly payloadType: number;
}

/**
 * One WHIP session on the replica that answered its offer: a werift peer connection that
 * receives one video (H.264 or VP8) and at most one Opus track, and a live ladder made of them.
 * Nothing runs until the first keyframe tells the picture size (the ladder's rungs depend on
 * it); then ffmpeg is started on an SDP of loopback RTP ports, the received RTP (NACK-repaired
 * by werift, reordered by ffmpeg) is forwarded there with the publisher's sender reports, and
 * keyframes are requested (PLI) until the ladder is playable, then when ffmpeg reports damage
 * and as a slow refresh (`KeyframeRequestSchedule`: why, and why not on new viewers). A `LiveHlsWatcher` hands the
 * files to the sink; once the master playlist is stored and ffmpeg is known to keep up with its
 * input (`LadderPace`; a ladder below real time is replaced by a lighter one first) the session
 * is `live` on the bus and `OriginSignals.online` is called. It ends once, for one reason (DELETE, media timeout, peer
 * gone, limit, ffmpeg failing): media stops, ffmpeg finishes the playlists, the sink closes,
 * the record is ended by compare-and-set, and whoever ended it signals `offline` (when it had
 * been online).
 */
export class WhipSession {
  private readonly now: () => number;
  private readonly pc: RTCPeerConnection;
  private video: ReceivedTrack | undefined;
  private audio: ReceivedTrack | undefined;
  private videoCodec: VideoCodec | undefined;
  /** The largest picture the publisher has sent. */
  private size: FrameSize | undefined;
  /** The picture the offer said it will send (RFC 6236 imageattr), if it said. */
  private declaredSize: FrameSize | undefined;
  /** The picture the running ladder was planned from (`ladderSourceSize`). */
  private ladderSource: FrameSize | undefined;
  /** Starts and restarts of the ladder, one after another. */
  private ladderChanges: Promise<void> = Promise.resolve();
  /** Bumped when a ladder is thrown away: the watcher of an older one no longer makes the session live. */
  private ladderGeneration = 0;
  private ladderRestarts = 0;
  /** How many steps lighter than planned the ladder runs (`lighterLadder`), kept across a re-plan for a grown picture. */
  private ladderSheds = 0;
  /** How many times the live ladder was continued by a faster one (`fasterLadder`) while viewers watched. */
  private liveReliefs = 0;
  /** A continuing ladder is on its way (the old ffmpeg stopping, the new one not yet writing): keyframes are asked for as at the start. */
  private continuing = false;
  /** The media time the ladders before the running one wrote (where its timestamps start). */
  private mediaOffsetS = 0;
  /** The running ladder's pace: does its ffmpeg keep up with the media sent to it? */
  private pace: LadderPace | undefined;
  private behindLogged = false;
  private paceState: LadderPaceState = 'starting';
  /** When the running ladder's first segments were out (its master playlist stored), for `PACE_WAIT_MS`. */
  private playableAtMs: number | undefined;
  private grewAfterLive = false;
  private ffmpeg: ChildProcess | undefined;
  private ffmpegExited: Promise<void> | undefined;
  /** The publisher's last Opus packet: `finish()` sends it again, a frame later, to an ffmpeg waiting for input. */
  private lastAudioRtp: RtpPacket | undefined;
  /**
   * The publisher's last whole keyframe (its packets from the one that starts it to the marker),
   * for `finish()` to send again to a video-only ffmpeg: a keyframe, because ffmpeg's VP8
   * depacketizer drops a repeated delta frame (its picture id breaks the sequence).
   */
  private lastKeyframe: RtpPacket[] = [];
  private keyframeParts: RtpPacket[] | undefined;
  private lastVideoSequence = 0;
  private lastVideoTimestamp = 0;
  private lastVideoAtMs = 0;
  private stderrTail = '';
  /** The part of ffmpeg's stderr after its last newline (a line split across chunks). */
  private stderrLine = '';
  private watcher: LiveHlsWatcher | undefined;
  private socket: Socket | undefined;
  private ports: { video: number; audio?: number } | undefined;
  private playable = false;
  private online = false;
  private lastMediaAtMs: number;
  private readonly windowBytes: { atMs: number; bytes: number }[] = [];
  /** Keyframe requests: until playable, on damage ffmpeg reports, and a slow refresh (see `keyframe-requests.ts`). */
  readonly keyframes: KeyframeRequestSchedule;
  private readonly ticker: NodeJS.Timeout;
  private ending: Promise<void> | undefined;
  private startedAtMs: number;
  /** When the first segment was stored (for the offer-to-live measurement). */
  liveAfterMs: number | undefined;

  private constructor(
    public record: OriginSession,
    private readonly deps: WhipSessionDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.startedAtMs = this.now();
    this.lastMediaAtMs = this.startedAtMs;
    this.keyframes = new KeyframeRequestSchedule({ ...DEFAULT_KEYFRAME_REQUEST_OPTIONS, segmentMs: deps.limits.ladder.segmentS * 1000 });
    this.pc = new RTCPeerConnection({
      codecs: {
        video: [
          new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90_000, rtcpFeedback: [useNACK(), usePLI()], parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' }),
          new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90_000, rtcpFeedback: [useNACK(), usePLI()] }),
        ],
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 })],
      },
    });
    this.ticker = setInterval(() => this.tick(), 500);
  }

  get sessionId(): string {
    return this.record.session_id;
  }

  get channel(): string {
    return this.record.channel;
  }

  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** The running ladder's pace as last judged (every half second, and before going live): what `/metrics` counts. */
  get ladderPace(): LadderPaceState {
    return this.paceState;
  }

  /** Answers `offer` for the claimed `record`; the session then runs until it ends. */
  static async answer(record: OriginSession, offer: InspectedOffer, deps: WhipSessionDeps): Promise<{ session: WhipSession; answerSdp: string }> {
    const session = new WhipSession(record, deps);
    try {
      return { session, answerSdp: await session.negotiate(offer) };
    } catch (error) {
      await session.end('error');
      if (error instanceof UnanswerableOfferError) throw error;
      throw new UnanswerableOfferError(`the offer could not be answered: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  private async negotiate({ sdp: offerSdp, summary }: InspectedOffer): Promise<string> {
    this.declaredSize = summary.sendSize;
    this.pc.onTrack.subscribe((track) => {
      const transceiver = this.pc.getTransceivers().find((candidate) => candidate.receiver.track === track || candidate.receiver.tracks.includes(track));
      const codec = track.codec;
      if (!transceiver || !codec) return;
      const received = { track, transceiver, payloadType: codec.payloadType };
      if (track.kind === 'video' && !this.video) {
        this.video = received;
        this.videoCodec = codec.mimeType.toLowerCase() === 'video/h264' ? 'h264' : 'vp8';
        track.onReceiveRtp.subscribe((packet) => this.onVideoRtp(packet));
        track.onReceiveRtcp.subscribe((packet) => this.forwardSenderReport(packet, this.ports?.video));
        this.requestKeyframe(true);
      } else if (track.kind === 'audio' && !this.audio) {
        this.audio = received;
        track.onReceiveRtp.subscribe((packet) => this.onAudioRtp(packet));
        track.onReceiveRtcp.subscribe((packet) => this.forwardSenderReport(packet, this.ports?.audio));
      }
    });
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'failed' || state === 'closed') void this.end('peer-closed');
    });
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    const transceivers = this.pc.getTransceivers();
    const videoTransceiver = transceivers.find((transceiver) => transceiver.kind === 'video');
    if (!videoTransceiver || videoTransceiver.codecs.length === 0) throw new UnanswerableOfferError('the offer has no video we can receive (H.264 packetization-mode 1 or VP8)');
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    const local = this.pc.localDescription;
    if (!local) throw new UnanswerableOfferError('no answer was made');
    return withBitrateCeiling(local.sdp, this.deps.limits.maxBitrateKbps);
  }

  private onVideoRtp(packet: RtpPacket): void {
    if (!this.video || packet.header.payloadType !== this.video.payloadType) return;
    const size = this.videoCodec === 'h264' ? h264SpsSize(packet.payload) : vp8KeyframeSize(packet.payload);
    this.rememberKeyframe(packet, size !== undefined);
    if (this.ending) return;
    this.countMedia(packet.serializeSize);
    if (size) this.onPictureSize(size);
    if (this.ports && this.socket) {
      this.socket.send(packet.serialize(), this.ports.video, '127.0.0.1');
      this.pace?.forwarded(packet.header.timestamp);
    } else if (!this.size) this.requestKeyframe(false);
  }

  /** `startsKeyframe`: the packet carries a keyframe's size (VP8's keyframe header, H.264's SPS before its IDR). */
  private rememberKeyframe(packet: RtpPacket, startsKeyframe: boolean): void {
    this.lastVideoSequence = packet.header.sequenceNumber;
    this.lastVideoTimestamp = packet.header.timestamp;
    this.lastVideoAtMs = this.now();
    if (startsKeyframe) this.keyframeParts = [];
    if (!this.keyframeParts) return;
    if (this.keyframeParts.length < MAX_FRAME_PACKETS) this.keyframeParts.push(packet);
    if (!packet.header.marker) return;
    this.lastKeyframe = this.keyframeParts;
    this.keyframeParts = undefined;
  }

  private onAudioRtp(packet: RtpPacket): void {
    if (!this.audio || packet.header.payloadType !== this.audio.payloadType) return;
    this.lastAudioRtp = packet;
    if (this.ending) return;
    this.countMedia(packet.serializeSize);
    if (this.ports?.audio !== undefined && this.socket) this.socket.send(packet.serialize(), this.ports.audio, '127.0.0.1');
  }

  /** The publisher's sender reports go to ffmpeg's RTCP port: they are what lines audio up with video. */
  private forwardSenderReport(packet: RtcpPacket, rtpPort: number | undefined): void {
    if (this.ending || rtpPort === undefined || !this.socket || packet.type !== 200) return;
    this.socket.send(packet.serialize(), rtpPort + 1, '127.0.0.1');
  }

  private countMedia(bytes: number): void {
    const nowMs = this.now();
    this.lastMediaAtMs = nowMs;
    const last = this.windowBytes.at(-1);
    if (last && nowMs - last.atMs < 100) last.bytes += bytes;
    else this.windowBytes.push({ atMs: nowMs, bytes });
  }

  /**
   * A keyframe told the picture size. The first plans the ladder. A larger one before the
   * ladder is playable plans it again when its rungs differ (an encoder that started small, as
   * libwebrtc does on a low first bandwidth estimate or a busy CPU, and scaled up: the broadcast
   * and its replay would otherwise keep the small start's rungs); after that the ladder stays
   * (its playlists are being watched), and the growth is logged once.
   */
  private onPictureSize(size: FrameSize): void {
    if (shortSide(size) > this.deps.limits.maxShortSidePx) {
      this.deps.logger.info({ session_id: this.sessionId, width: size.width, height: size.height }, 'origin session over the picture size limit');
      void this.end('limit');
      return;
    }
    if (this.size) {
      if (shortSide(size) <= shortSide(this.size)) return;
      if (this.playable) {
        if (!this.grewAfterLive) this.deps.logger.info({ session_id: this.sessionId, from: this.ladderSource, to: size }, 'origin session picture grew after its ladder went live; the rungs stay');
        this.grewAfterLive = true;
        return;
      }
      if (this.ladderRestarts >= MAX_LADDER_RESTARTS) return;
    }
    this.size = size;
    this.ladderChanges = this.ladderChanges
      .then(() => this.ladderFor(size))
      .catch((error: unknown) => {
        this.deps.logger.error({ err: error, session_id: this.sessionId }, 'origin session could not start its ladder');
        void this.end('error');
      });
  }

  /** Starts the ladder for `size`, or replaces one not yet playable whose rungs `size` changes. */
  private async ladderFor(size: FrameSize): Promise<void> {
    if (this.ending || this.size !== size) return; // a larger picture came meanwhile: its own change follows
    const source = ladderSourceSize(size, this.declaredSize, this.deps.limits.maxShortSidePx);
    if (this.ladderSource) {
      if (this.playable) return;
      const hasAudio = this.audio !== undefined;
      if (sameRungs(this.planFor(this.ladderSource, hasAudio), this.planFor(source, hasAudio))) return;
      // Checked and bumped in one turn: a watcher that finds the old ladder playable from now on is ignored.
      this.ladderGeneration += 1;
      this.ladderRestarts += 1;
      this.playableAtMs = undefined;
      this.deps.logger.info({ session_id: this.sessionId, from: this.ladderSource, to: source }, 'origin session plans its ladder again: the picture grew before it was live');
      await this.discardLadder();
      if (this.ending) return;
    }
    this.ladderSource = source;
    await this.startLadder(source, this.ladderGeneration);
  }

  /** Stops a ladder that was never playable and removes what it made (its ffmpeg, its files here and in the sink). */
  private async discardLadder(): Promise<void> {
    const child = this.ffmpeg;
    const exited = this.ffmpegExited;
    const watcher = this.watcher;
    this.ports = undefined;
    this.ffmpeg = undefined;
    this.ffmpegExited = undefined;
    this.watcher = undefined;
    this.pace = undefined;
    this.stderrLine = '';
    child?.kill('SIGKILL');
    await exited;
    await watcher?.cancel();
    await this.deps.sink.discard();
  }

  /** The ladder for a `source` picture, lightened by the sheds so far. */
  private planFor(source: FrameSize, hasAudio: boolean): LadderPlan {
    let plan = planLiveLadder(source, hasAudio, this.deps.limits.ladder);
    for (let shed = 0; shed < this.ladderSheds; shed += 1) plan = lighterLadder(plan) ?? plan;
    for (let relief = 0; relief < this.liveReliefs; relief += 1) plan = fasterLadder(plan) ?? plan;
    return plan;
  }

  /** Starts ffmpeg and its watcher for the ladder of a `size` picture; `continues`: going on from a live ladder (`continueLiveLadder`). */
  private async startLadder(size: FrameSize, generation: number, continues?: { args: LadderContinuationArgs; watcher: LadderContinuation }): Promise<void> {
    const plan = this.planFor(size, this.audio !== undefined);
    const outputDir = join(this.deps.workDir, `hls-${generation}`);
    await mkdir(outputDir, { recursive: true });
    const videoPort = await freeRtpPortPair();
    const audioPort = this.audio ? await freeRtpPortPair() : undefined;
    const sdpPath = join(this.deps.workDir, 'input.sdp');
    await writeFile(
      sdpPath,
      rtpInputSdp(
        { video: videoPort, ...(audioPort !== undefined ? { audio: audioPort } : {}) },
        { video: { codec: this.videoCodec!, payloadType: this.video!.payloadType }, ...(this.audio ? { audio: { payloadType: this.audio.payloadType, channels: 2 } } : {}) },
      ),
    );
    if (this.ending) return;
    const child = spawn(this.deps.ffmpegPath ?? 'ffmpeg', ['-nostdin', '-hide_banner', ...liveLadderFfmpegArgs(plan, sdpPath, outputDir, this.deps.limits.ladder, continues?.args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
    });
    this.ffmpeg = child;
    const pace = new LadderPace();
    this.pace = pace;
    this.behindLogged = false;
    readFfmpegProgress(child.stdout, (key, value) => {
      if (key !== 'frame') return;
      pace.encoded(Number(value), plan.frameRate);
      // A playable ladder waiting for its pace to be judged goes live (or is replaced) on the report that judges it.
      if (!this.playable && this.playableAtMs !== undefined) void this.goLive(generation);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
      this.onFfmpegStderr(chunk);
    });
    this.ffmpegExited = new Promise((resolve) => {
      child.once('error', (error) => this.deps.logger.error({ err: error, session_id: this.sessionId }, 'ffmpeg could not be started'));
      child.once('close', (code, signal) => {
        if (!this.ending && this.ffmpeg === child) {
          this.deps.logger.error({ session_id: this.sessionId, code, signal, stderr: this.stderrTail }, 'ffmpeg of an origin session stopped');
          void this.end('error');
        }
        resolve();
      });
    });
    this.playableAtMs = undefined;
    const startedAtMs = this.now();
    this.watcher = new LiveHlsWatcher(outputDir, join(this.deps.workDir, `playlists-${generation}`), this.deps.sink, {
      onPlayable: () => {
        if (generation !== this.ladderGeneration) return;
        if (continues) {
          this.continuing = false;
          this.deps.logger.info({ session_id: this.sessionId, preset: plan.preset, rungs: rungNames(plan), after_ms: this.now() - startedAtMs }, 'origin ladder continued: the new one writes');
          return;
        }
        this.playableAtMs = this.now();
        void this.goLive(generation);
      },
      onError: (error) => this.deps.logger.warn({ err: error, session_id: this.sessionId }, 'origin ladder file could not be stored'),
      ...(continues ? { continues: continues.watcher } : {}),
    });
    this.watcher.start();
    if (!this.socket) {
      this.socket = createSocket('udp4');
      this.socket.on('error', (error) => this.deps.logger.warn({ err: error, session_id: this.sessionId }, 'origin RTP forwarding failed'));
    }
    // ffmpeg binds its ports while it starts; a keyframe sent before is lost, so ask again until the ladder is playable.
    this.ports = { video: videoPort, ...(audioPort !== undefined ? { audio: audioPort } : {}) };
    this.requestKeyframe(true);
  }

  private async goLive(generation: number): Promise<void> {
    if (this.playable || this.ending || generation !== this.ladderGeneration) return;
    // Its first segments are out, but an ffmpeg below real time would make viewers wait on it: a lighter ladder
    // instead. Not known to keep up yet: ffmpeg's next report, or the session's tick, tries again.
    if (!this.pace) return;
    const state = this.pace.verdict().state;
    if (state !== 'keeping-up' && state !== 'behind' && this.now() - (this.playableAtMs ?? 0) < PACE_WAIT_MS) return;
    if (this.judgePace()) return;
    this.playable = true;
    this.deps.sink.live();
    this.liveAfterMs = this.now() - this.startedAtMs;
    const media = {
      video: this.size && this.videoCodec ? { codec: this.videoCodec, width: this.size.width, height: this.size.height } : null,
      audio: this.audio ? { codec: 'opus' as const } : null,
    };
    const live = await this.deps.sessions.markLive(this.channel, this.sessionId, this.now(), media);
    if (!live) {
      // Ended elsewhere meanwhile (a relayed DELETE raced us, or a reaper): stop here too.
      void this.end('ended-elsewhere');
      return;
    }
    this.record = live;
    this.deps.logger.info({ session_id: this.sessionId, channel: this.channel, live_after_ms: this.liveAfterMs }, 'origin session is live');
    await this.deps.signals.online(live);
    this.online = true;
  }

  /** Lines of ffmpeg's stderr that say its input was damaged ask the publisher for a keyframe (once per segment at most). */
  private onFfmpegStderr(chunk: string): void {
    const lines = (this.stderrLine + chunk).split('\n');
    this.stderrLine = (lines.pop() ?? '').slice(-STDERR_TAIL_BYTES);
    if (!lines.some(ffmpegReportsDamage)) return;
    this.keyframes.damaged();
    this.requestKeyframe(false);
  }

  private requestKeyframe(force: boolean): void {
    if (!this.video?.track.ssrc) return;
    const reason = this.keyframes.due(this.now(), { playable: this.playable && !this.continuing, force });
    if (!reason) return;
    if (reason !== 'startup') this.deps.logger.debug({ session_id: this.sessionId, reason }, 'origin session asks the publisher for a keyframe');
    this.video.transceiver.receiver.sendRtcpPLI(this.video.track.ssrc).catch(() => {
      // The transport is not up yet or already gone: the next tick asks again.
    });
  }

  private tick(): void {
    if (this.ending) return;
    const nowMs = this.now();
    if (nowMs - this.lastMediaAtMs > this.deps.limits.mediaTimeoutMs) {
      void this.end('media-timeout');
      return;
    }
    while (this.windowBytes.length > 0 && nowMs - this.windowBytes[0]!.atMs > BITRATE_WINDOW_MS) this.windowBytes.shift();
    const spanMs = Math.min(BITRATE_WINDOW_MS, nowMs - this.startedAtMs);
    if (spanMs >= BITRATE_WINDOW_MS) {
      const kbps = (this.windowBytes.reduce((sum, entry) => sum + entry.bytes, 0) * 8) / spanMs;
      if (kbps > this.deps.limits.maxBitrateKbps * BITRATE_TOLERANCE) {
        this.deps.logger.info({ session_id: this.sessionId, kbps: Math.round(kbps) }, 'origin session over its bitrate limit');
        void this.end('limit');
        return;
      }
    }
    if (!this.playable && this.playableAtMs !== undefined) void this.goLive(this.ladderGeneration);
    else this.judgePace();
    this.requestKeyframe(false);
  }

  /**
   * A ladder whose ffmpeg falls behind the media it is sent (a CPU it cannot keep up on: other
   * sessions, other work) drops what it cannot read and never catches up. Before the session goes
   * live with it, it is replaced by a lighter one (`lighterLadder`), as a grown picture's is; once
   * viewers watch it, a faster one with the same rungs continues it (`continueLiveLadder`), once;
   * past that it is logged once. True when it was replaced or continued.
   */
  private judgePace(): boolean {
    const pace = this.pace;
    if (!pace || this.ladderSource === undefined) return false;
    const verdict = pace.verdict();
    this.paceState = verdict.state;
    if (verdict.state !== 'behind') return false;
    const source = this.ladderSource;
    const hasAudio = this.audio !== undefined;
    const current = this.planFor(source, hasAudio);
    if (this.playable) return this.continueLiveLadder(verdict, source, current);
    const lighter = this.ladderSheds >= MAX_LADDER_SHEDS ? undefined : lighterLadder(current);
    if (!lighter) {
      if (!this.behindLogged) {
        this.deps.logger.warn({ session_id: this.sessionId, ...paceFields(verdict), rungs: rungNames(current), preset: current.preset, playable: this.playable }, 'origin ladder falls behind real time');
      }
      this.behindLogged = true;
      return false;
    }
    this.pace = undefined;
    this.paceState = 'starting';
    this.playableAtMs = undefined;
    this.ladderGeneration += 1;
    this.ladderSheds += 1;
    this.deps.onLadderShed?.('before-live');
    this.deps.logger.warn(
      { session_id: this.sessionId, ...paceFields(verdict), from: { rungs: rungNames(current), preset: current.preset }, to: { rungs: rungNames(lighter), preset: lighter.preset } },
      'origin ladder falls behind real time before it is live: a lighter one replaces it',
    );
    const generation = this.ladderGeneration;
    this.ladderChanges = this.ladderChanges
      .then(async () => {
        if (this.ending || this.playable || generation !== this.ladderGeneration) return;
        await this.discardLadder();
        if (this.ending) return;
        await this.startLadder(source, generation);
      })
      .catch((error: unknown) => {
        this.deps.logger.error({ err: error, session_id: this.sessionId }, 'origin session could not start its lighter ladder');
        void this.end('error');
      });
    return true;
  }

  /**
   * A live ladder whose ffmpeg falls behind real time goes on with the same rungs at x264's
   * fastest preset (`fasterLadder`), once: viewers' players know its variants (hls.js does not
   * load the master playlist again), so the rungs stay, and each rung's playlist goes on across
   * the change (`LivePlaylistContinuation`: the new segments numbered on, after a discontinuity,
   * with the new encoder's init segment). The old ffmpeg is stopped first (SIGINT: its last
   * segment written), then the new one starts, its segment files numbered past the old ones and
   * its timestamps after them. Viewers wait for its first segment (a viewer's picture stood
   * still 2.9 s: `origin-live-relief-viewer.e2e.test.ts`); a ladder left as it was would fall
   * further behind for the rest of the broadcast.
   * Already at the fastest preset, or replaced once: logged once. True when it is continued.
   */
  private continueLiveLadder(verdict: Exclude<LadderPaceVerdict, { state: 'starting' }>, source: FrameSize, current: LadderPlan): boolean {
    const faster = this.continuing || this.liveReliefs >= MAX_LIVE_RELIEFS ? undefined : fasterLadder(current);
    if (!faster) {
      if (!this.behindLogged && !this.continuing) {
        this.deps.logger.warn({ session_id: this.sessionId, ...paceFields(verdict), rungs: rungNames(current), preset: current.preset, playable: true }, 'origin ladder falls behind real time');
        this.behindLogged = true;
      }
      return false;
    }
    this.pace = undefined;
    this.paceState = 'starting';
    this.continuing = true;
    this.liveReliefs += 1;
    this.ladderGeneration += 1;
    this.deps.onLadderShed?.('live');
    this.deps.logger.warn(
      { session_id: this.sessionId, ...paceFields(verdict), rungs: rungNames(current), from: current.preset, to: faster.preset },
      'origin ladder falls behind real time while live: the same rungs go on at a faster preset',
    );
    const generation = this.ladderGeneration;
    const replacement = this.liveReliefs;
    this.ladderChanges = this.ladderChanges
      .then(async () => {
        if (this.ending || generation !== this.ladderGeneration) return;
        const old = await this.stopLadderForContinuation();
        if (this.ending || !old) return;
        const startNumber = old.lastSegmentNumber + 1;
        // ffmpeg's last (cut) segment lasts to its last frame's start: one frame more is where the next may start.
        this.mediaOffsetS += old.writtenMediaS + 1 / current.frameRate;
        await this.startLadder(source, generation, {
          args: { startNumber, timestampOffsetS: this.mediaOffsetS, replacement },
          watcher: { playlists: old.playlists, windowSegments: this.deps.limits.ladder.playlistSegments, startNumber },
        });
      })
      .catch((error: unknown) => {
        this.deps.logger.error({ err: error, session_id: this.sessionId }, 'origin session could not continue its live ladder');
        void this.end('error');
      });
    return true;
  }

  /**
   * Stops the running ladder so that another continues it: ffmpeg finishes (SIGINT, killed after
   * `CONTINUED_FFMPEG_EXIT_MS`), its last files are handed without `EXT-X-ENDLIST`. Answers what
   * the next one starts from: the rung playlists as handed, the last segment file number, the
   * media time it wrote.
   */
  private async stopLadderForContinuation(): Promise<{ playlists: ReadonlyMap<string, string>; lastSegmentNumber: number; writtenMediaS: number } | undefined> {
    const child = this.ffmpeg;
    const exited = this.ffmpegExited;
    const watcher = this.watcher;
    if (!child || !watcher) return undefined;
    // Not this session's ffmpeg any more: its exit is not a failure (the close handler checks).
    this.ffmpeg = undefined;
    this.ffmpegExited = undefined;
    this.watcher = undefined;
    child.kill('SIGINT');
    const killer = setTimeout(() => child.kill('SIGKILL'), CONTINUED_FFMPEG_EXIT_MS);
    await exited;
    clearTimeout(killer);
    this.ports = undefined;
    this.stderrLine = '';
    // A last file the sink refused is not worth the broadcast: the new ladder goes on from what viewers have.
    await watcher.stop({ open: true }).catch((error: unknown) => this.deps.logger.warn({ err: error, session_id: this.sessionId }, 'the last files of the ladder being continued could not be stored'));
    return { playlists: watcher.handedPlaylists(), lastSegmentNumber: watcher.lastSegmentNumber(), writtenMediaS: watcher.writtenMediaS() };
  }

  /** Ends the session once (later calls wait for the first); `reason` goes on the record. */
  end(reason: string): Promise<void> {
    this.ending ??= this.finish(reason);
    return this.ending;
  }

  private async finish(reason: string): Promise<void> {
    clearInterval(this.ticker);
    const child = this.ffmpeg;
    if (child && child.exitCode === null && child.signalCode === null) {
      // ffmpeg reads SIGINT between input packets: the publisher's media, while it still comes,
      // is forwarded until ffmpeg exits, so it ends within a packet (not at its 10 s input timeout)
      // and writes its last segment and EXT-X-ENDLIST. The peer connection closes after.
      child.kill('SIGINT');
      const socket = this.socket;
      const forwarding: Array<{ unSubscribe(): void }> = [];
      for (const [received, port] of [[this.video, this.ports?.video], [this.audio, this.ports?.audio]] as const) {
        if (!received || port === undefined || !socket) continue;
        forwarding.push(
          received.track.onReceiveRtp.subscribe((packet) => {
            if (packet.header.payloadType === received.payloadType) socket.send(packet.serialize(), port, '127.0.0.1');
          }),
        );
      }
      // No media coming (the publisher closed first; media-timeout): the last Opus packet again, one
      // 20 ms frame later each time, is the input ffmpeg needs to see SIGINT (measured: 10 s -> under 1 s).
      // Without audio, the last keyframe again, later by the wake interval, once video stopped.
      let repeats = 0;
      let videoSequence: number | undefined;
      let videoTimestamp: number | undefined;
      const waker = setInterval(() => {
        if (!socket) return;
        repeats += 1;
        const last = this.lastAudioRtp;
        if (last && this.ports?.audio !== undefined) {
          const bytes = last.serialize();
          bytes.writeUInt16BE((last.header.sequenceNumber + repeats) & 0xffff, 2);
          bytes.writeUInt32BE((last.header.timestamp + OPUS_FRAME_TICKS * repeats) >>> 0, 4);
          socket.send(bytes, this.ports.audio, '127.0.0.1');
          return;
        }
        const videoPort = this.ports?.video;
        if (videoPort === undefined || this.lastKeyframe.length === 0 || this.now() - this.lastVideoAtMs < FFMPEG_WAKE_MS) return;
        // Numbered and timed after the last video packet (the keyframe itself may be seconds older).
        videoSequence ??= this.lastVideoSequence;
        videoTimestamp = ((videoTimestamp ?? this.lastVideoTimestamp) + VIDEO_WAKE_TICKS) >>> 0;
        for (const part of this.lastKeyframe) {
          const bytes = part.serialize();
          videoSequence = (videoSequence + 1) & 0xffff;
          bytes.writeUInt16BE(videoSequence, 2);
          bytes.writeUInt32BE(videoTimestamp, 4);
          socket.send(bytes, videoPort, '127.0.0.1');
        }
      }, FFMPEG_WAKE_MS);
      const killer = setTimeout(() => child.kill('SIGKILL'), FFMPEG_FINISH_MS);
      await this.ffmpegExited;
      clearTimeout(killer);
      clearInterval(waker);
      for (const subscription of forwarding) subscription.unSubscribe();
    }
    await this.pc.close().catch(() => undefined);
    this.socket?.close();
    await this.watcher?.stop().catch((error: unknown) => this.deps.logger.warn({ err: error, session_id: this.sessionId }, 'the last origin ladder files could not be stored'));
    await this.deps.sink.close().catch((error: unknown) => this.deps.logger.warn({ err: error, session_id: this.sessionId }, 'the origin sink did not close'));
    let ended: OriginSession | undefined;
    try {
      ended = await this.deps.sessions.end(this.channel, this.sessionId, reason, this.now());
      if (ended && this.online) await this.deps.signals.offline(ended);
    } catch (error) {
      this.deps.logger.error({ err: error, session_id: this.sessionId }, 'origin session end could not be recorded');
    }
    if (ended) this.record = ended;
    if (!this.playable && this.ffmpeg) {
      // The ladder never became playable: what ffmpeg said is the one clue to why.
      this.deps.logger.warn({ session_id: this.sessionId, reason, stderr: this.stderrTail }, 'origin session ended before its ladder was playable');
    }
    await rm(this.deps.workDir, { recursive: true, force: true }).catch(() => undefined);
    this.deps.logger.info({ session_id: this.sessionId, channel: this.channel, reason, keyframe_requests: this.keyframes.counts, ladder_sheds: this.ladderSheds, live_reliefs: this.liveReliefs }, 'origin session ended');
    this.deps.onEnded?.(ended, reason);
  }
}

/**
 * Opus's share of a session's bitrate limit when the answer takes audio: 64 kbps (stereo Opus
 * at a high quality) or a quarter of a low limit. The limit is judged on video and audio
 * together, so a publisher keeping to a video `b=AS` of the whole limit would be over it by
 * its audio (with a channel's low limit, past the 25 % tolerance: ended for a limit it kept).
 */
export function audioShareKbps(kbps: number): number {
  return Math.min(64, Math.floor(kbps / 4));
}

/**
 * Adds `b=AS` to the answer's media sections so that video and audio together stay within
 * `kbps`: browsers (libwebrtc) and GStreamer cap each stream's send rate to its section's.
 * Audio (a section with a port, not rejected) gets `audioShareKbps`, video the rest.
 */
export function withBitrateCeiling(sdp: string, kbps: number): string {
  const lines = sdp.split('\r\n');
  const audio = lines.some((line) => /^m=audio [1-9]/.test(line)) ? audioShareKbps(kbps) : 0;
  const shares: Record<string, number> = { video: kbps - audio, ...(audio > 0 ? { audio } : {}) };
  const out: string[] = [];
  let share: number | undefined;
  for (const line of lines) {
    if (line.startsWith('m=')) share = shares[line.slice(2).split(' ')[0] ?? ''];
    if (share !== undefined && line.startsWith('b=')) continue;
    out.push(line);
    if (share !== undefined && line.startsWith('c=')) out.push(`b=AS:${share}`);
  }
  return out.join('\r\n');
}

function rungNames(plan: LadderPlan): string[] {
  return plan.rungs.map((rung) => rung.name);
}

function paceFields(verdict: { lagS: number; excessS: number; speed: number | undefined }): { lag_s: number; excess_s: number; speed?: number } {
  const round = (value: number) => Math.round(value * 100) / 100;
  return { lag_s: round(verdict.lagS), excess_s: round(verdict.excessS), ...(verdict.speed !== undefined ? { speed: round(verdict.speed) } : {}) };
}

function shortSide(size: FrameSize): number {
  return Math.min(size.width, size.height);
}

/** True when two ladder plans have the same rungs (their sizes): replanning would change nothing a viewer gets. */
function sameRungs(a: LadderPlan, b: LadderPlan): boolean {
  return a.rungs.length === b.rungs.length && a.rungs.every((rung, i) => rung.width === b.rungs[i]!.width && rung.height === b.rungs[i]!.height);
}
