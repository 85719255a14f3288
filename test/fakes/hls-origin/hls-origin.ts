import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { SourceSegment } from './source-segments.js';

export interface HlsOriginOptions {
  /** The origin's time (the test's `ManualClock`): segments appear as it advances. */
  readonly clock: { now(): number };
  /** The media, looped: segment k of the broadcast carries `segments[k % length]`. */
  readonly segments: readonly SourceSegment[];
  /** Segments the live playlist lists at once (older ones roll off). Default 4. */
  readonly windowSize?: number;
  /** Media sequence number of the broadcast's first segment. Default 100. */
  readonly firstSequence?: number;
  /** fMP4 segments' init section: the playlists carry `EXT-X-MAP:URI="init.mp4"`. */
  readonly initSection?: Buffer;
}

/** What the origin reports: a request, and a stalled segment body that will never end. */
export interface HlsOriginEvents {
  request: [path: string];
  stalled: [sequence: number];
}

const HTML_PAGE = `<!doctype html><html><head><title>Just a moment...</title></head><body>${'<p>Checking your browser before accessing the stream.</p>'.repeat(8)}</body></html>`;
const TS_PACKET = Buffer.concat([Buffer.from([0x47, 0x1f, 0xff, 0x10]), Buffer.alloc(184, 0xff)]);

/**
 * A local HLS origin for the ingest tests, written from RFC 8216: a live sliding-window media
 * playlist (`/live/index.m3u8`) whose segments appear on the test's clock, a VOD playlist of the
 * source (`/vod/index.m3u8`), a master playlist (`/master.m3u8`), and switches for what real
 * and hostile origins do: a segment answering 404/5xx, a discontinuity, ENDLIST, redirects and
 * a redirect loop, an HTML body, an endless or stalled body, a segment URL elsewhere, a playlist
 * of 100,000 segments. A missed refresh needs no switch: advance the clock past the window.
 * Segments are real MPEG-TS from ffmpeg (`sourceSegments`).
 */
export class HlsOrigin extends EventEmitter<HlsOriginEvents> {
  /** Sequence -> HTTP status to answer, and how many more times (Infinity: always). */
  readonly failSegment = new Map<number, { status: number; times: number }>();
  /** Sequences preceded by `EXT-X-DISCONTINUITY` (beside the loop's own wrap-arounds). */
  readonly discontinuityBefore = new Set<number>();
  /** Sequences whose body is an HTML page (a CDN's challenge page, 200 OK). */
  readonly htmlSegments = new Set<number>();
  /** Sequences whose body never ends (TS-looking packets as fast as the client reads). */
  readonly endlessSegments = new Set<number>();
  /** Sequences that send their headers and one packet, then nothing, ever. */
  readonly stalledSegments = new Set<number>();
  /** Sequences listed with this URI instead of their own (another host, a private address). */
  readonly segmentUriOverride = new Map<number, string>();
  /** Sequences whose URL answers 302 to this location. */
  readonly segmentRedirect = new Map<number, string>();
  /** The broadcast's last sequence: once it is published, the playlist carries EXT-X-ENDLIST. */
  endAfter: number | undefined;
  /** Requests per segment sequence (live and VOD alike). */
  readonly segmentRequests = new Map<number, number>();
  /** Requests of the init section. */
  initRequests = 0;

  private readonly startedAtMs: number;
  private readonly durationsMs: number[];
  private readonly windowSize: number;
  readonly firstSequence: number;
  private readonly bodies = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    private readonly options: HlsOriginOptions,
  ) {
    super();
    this.startedAtMs = options.clock.now();
    this.durationsMs = options.segments.map((segment) => Math.round(segment.durationS * 1000));
    this.windowSize = options.windowSize ?? 4;
    this.firstSequence = options.firstSequence ?? 100;
  }

  static async start(options: HlsOriginOptions): Promise<HlsOrigin> {
    const holder: { origin?: HlsOrigin } = {};
    const server = createServer((request, response) => holder.origin!.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.origin = new HlsOrigin(server, `http://127.0.0.1:${port}`, options);
    return holder.origin;
  }

  get liveUrl(): string {
    return `${this.baseUrl}/live/index.m3u8`;
  }

  get vodUrl(): string {
    return `${this.baseUrl}/vod/index.m3u8`;
  }

  get masterUrl(): string {
    return `${this.baseUrl}/master.m3u8`;
  }

  get hugeUrl(): string {
    return `${this.baseUrl}/huge/index.m3u8`;
  }

  /** `path` reached through `hops` 302 redirects. */
  redirectedUrl(path: string, hops: number): string {
    return `${this.baseUrl}/redirect/${hops}${path}`;
  }

  /** A URL that redirects to itself through two hops forever. */
  get loopUrl(): string {
    return `${this.baseUrl}/loop/a`;
  }

  /** The target duration: the longest source segment, rounded up. */
  get targetDurationS(): number {
    return Math.ceil(Math.max(...this.durationsMs) / 1000);
  }

  /** The sequence of the last segment published by now, or undefined before the first. */
  get publishedUpTo(): number | undefined {
    let elapsed = this.options.clock.now() - this.startedAtMs;
    let k = -1;
    for (;;) {
      const next = this.durationsMs[(k + 1) % this.durationsMs.length]!;
      if (elapsed < next) break;
      elapsed -= next;
      k++;
      if (this.endAfter !== undefined && this.firstSequence + k >= this.endAfter) break;
    }
    return k < 0 ? undefined : this.firstSequence + k;
  }

  async close(): Promise<void> {
    for (const body of this.bodies) body.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0]!;
    this.emit('request', path);
    const redirect = /^\/redirect\/(\d+)(\/.*)$/.exec(path);
    if (redirect) {
      const hops = Number(redirect[1]);
      return this.redirect(response, hops === 0 ? redirect[2]! : `/redirect/${hops - 1}${redirect[2]}`);
    }
    if (path === '/loop/a') return this.redirect(response, '/loop/b');
    if (path === '/loop/b') return this.redirect(response, '/loop/a');
    if (path === '/live/index.m3u8') return this.text(response, this.livePlaylist());
    if (path === '/vod/index.m3u8') return this.text(response, this.vodPlaylist());
    if (path === '/master.m3u8') return this.text(response, this.masterPlaylist());
    if (path === '/huge/index.m3u8') return this.hugePlaylist(response);
    if (/^\/(live|vod)\/init\.mp4$/.test(path) && this.options.initSection) {
      this.initRequests++;
      response.writeHead(200, { 'content-type': 'video/mp4' }).end(this.options.initSection);
      return;
    }
    const segment = /^\/(live|vod|huge)\/seg-(\d+)\.(ts|m4s)$/.exec(path);
    if (segment) return this.segment(response, segment[1] as 'live' | 'vod' | 'huge', Number(segment[2]));
    response.writeHead(404).end();
  }

  private livePlaylist(): string {
    const last = this.publishedUpTo;
    const lines = ['#EXTM3U', this.version, `#EXT-X-TARGETDURATION:${this.targetDurationS}`];
    if (last === undefined) return [...lines, `#EXT-X-MEDIA-SEQUENCE:${this.firstSequence}`, ...this.map, ''].join('\n');
    const first = Math.max(this.firstSequence, last - this.windowSize + 1);
    let discontinuities = 0;
    for (let sequence = this.firstSequence; sequence < first; sequence++) if (this.hasDiscontinuity(sequence)) discontinuities++;
    lines.push(`#EXT-X-MEDIA-SEQUENCE:${first}`, `#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuities}`, ...this.map);
    for (let sequence = first; sequence <= last; sequence++) {
      if (this.hasDiscontinuity(sequence)) lines.push('#EXT-X-DISCONTINUITY');
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(this.startedAtMs + this.startOffsetMs(sequence)).toISOString()}`);
      lines.push(`#EXTINF:${(this.durationOf(sequence) / 1000).toFixed(3)},`, this.segmentUriOverride.get(sequence) ?? `seg-${sequence}.${this.extension}`);
    }
    if (this.endAfter !== undefined && last >= this.endAfter) lines.push('#EXT-X-ENDLIST');
    return `${lines.join('\n')}\n`;
  }

  private vodPlaylist(): string {
    const lines = ['#EXTM3U', this.version, '#EXT-X-PLAYLIST-TYPE:VOD', `#EXT-X-TARGETDURATION:${this.targetDurationS}`, '#EXT-X-MEDIA-SEQUENCE:0', ...this.map];
    this.options.segments.forEach((segment, index) => {
      if (this.discontinuityBefore.has(index)) lines.push('#EXT-X-DISCONTINUITY');
      lines.push(`#EXTINF:${segment.durationS.toFixed(3)},`, this.segmentUriOverride.get(index) ?? `seg-${index}.${this.extension}`);
    });
    lines.push('#EXT-X-ENDLIST');
    return `${lines.join('\n')}\n`;
  }

  private masterPlaylist(): string {
    return [
      '#EXTM3U',
      '#EXT-X-STREAM-INF:BANDWIDTH=100000,RESOLUTION=80x45,CODECS="avc1.42c00a,mp4a.40.2"',
      'low/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=160x90,CODECS="avc1.42c00c,mp4a.40.2"',
      'live/index.m3u8',
      '',
    ].join('\n');
  }

  /** 100,000 one-second segments, ENDLIST: a VOD no archive should take (about 2.3 MB). */
  private hugePlaylist(response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
    const total = 100_000;
    let next = 0;
    const body = new Readable({
      read() {
        if (next === 0) this.push('#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n');
        const lines: string[] = [];
        for (const end = Math.min(total, next + 5_000); next < end; next++) lines.push(`#EXTINF:1.000,\nseg-${next}.ts`);
        this.push(`${lines.join('\n')}\n`);
        if (next >= total) {
          this.push('#EXT-X-ENDLIST\n');
          this.push(null);
        }
      },
    });
    this.track(response);
    body.pipe(response);
  }

  private segment(response: ServerResponse, kind: 'live' | 'vod' | 'huge', sequence: number): void {
    this.segmentRequests.set(sequence, (this.segmentRequests.get(sequence) ?? 0) + 1);
    const failure = this.failSegment.get(sequence);
    if (failure && failure.times > 0) {
      failure.times--;
      response.writeHead(failure.status, { 'content-type': 'text/plain' }).end(`HTTP ${failure.status}`);
      return;
    }
    const location = this.segmentRedirect.get(sequence);
    if (location !== undefined) return this.redirect(response, location);
    if (this.htmlSegments.has(sequence)) {
      response.writeHead(200, { 'content-type': 'video/mp2t' }).end(HTML_PAGE);
      return;
    }
    if (this.endlessSegments.has(sequence)) {
      response.writeHead(200, { 'content-type': 'video/mp2t' });
      const chunk = Buffer.concat(Array<Buffer>(256).fill(TS_PACKET));
      const endless = new Readable({
        read() {
          this.push(chunk);
        },
      });
      this.track(response);
      response.once('close', () => endless.destroy());
      endless.pipe(response);
      return;
    }
    if (this.stalledSegments.has(sequence)) {
      response.writeHead(200, { 'content-type': 'video/mp2t' });
      response.write(Buffer.concat([TS_PACKET, TS_PACKET]));
      this.track(response);
      this.emit('stalled', sequence);
      return;
    }
    const data = this.dataOf(kind, sequence);
    if (!data) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': String(data.length) }).end(data);
  }

  private dataOf(kind: 'live' | 'vod' | 'huge', sequence: number): Buffer | undefined {
    const { segments } = this.options;
    if (kind === 'huge') return segments[sequence % segments.length]!.data;
    if (kind === 'vod') return segments[sequence]?.data;
    const last = this.publishedUpTo;
    if (last === undefined || sequence < this.firstSequence || sequence > last) return undefined;
    return segments[(sequence - this.firstSequence) % segments.length]!.data;
  }

  private get extension(): string {
    return this.options.initSection ? 'm4s' : 'ts';
  }

  private get version(): string {
    return this.options.initSection ? '#EXT-X-VERSION:7' : '#EXT-X-VERSION:3';
  }

  /** After the playlist's header tags, where ffmpeg writes it; also in a playlist with no segment yet. */
  private get map(): string[] {
    return this.options.initSection ? ['#EXT-X-MAP:URI="init.mp4"'] : [];
  }

  private hasDiscontinuity(sequence: number): boolean {
    const k = sequence - this.firstSequence;
    return this.discontinuityBefore.has(sequence) || (k > 0 && k % this.options.segments.length === 0);
  }

  private durationOf(sequence: number): number {
    return this.durationsMs[(sequence - this.firstSequence) % this.durationsMs.length]!;
  }

  private startOffsetMs(sequence: number): number {
    let offset = 0;
    for (let s = this.firstSequence; s < sequence; s++) offset += this.durationOf(s);
    return offset;
  }

  private redirect(response: ServerResponse, location: string): void {
    response.writeHead(302, { location }).end();
  }

  private text(response: ServerResponse, body: string): void {
    response.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'no-cache' }).end(body);
  }

  private track(response: ServerResponse): void {
    this.bodies.add(response);
    response.once('close', () => this.bodies.delete(response));
  }
}
