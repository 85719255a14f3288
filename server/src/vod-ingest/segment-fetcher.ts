import { createSenderAgents, type SenderAgents } from '../outbound/index.js';
import type { ArchiveSink } from './archive-sink.js';
import { guardedGet, type GuardedResponse, type SourcePolicy } from './guarded-get.js';
import type { IngestClock } from './ingest-clock.js';
import { INGEST_FAILURE_REASONS, IngestError, TransientFetchError } from './ingest-error.js';
import type { IngestLimits } from './ingest-limits.js';
import type { MediaSegmentRef } from './media-playlist.js';
import { sniffSegmentBody, type SegmentFormat } from './segment-format.js';

export interface SegmentFetcherOptions extends SourcePolicy {
  readonly limits: IngestLimits;
  readonly clock: IngestClock;
}

/** A segment stored, or given up on after every try (the caller records a gap). */
export type SegmentFetchResult =
  | { readonly kind: 'archived'; readonly key: string; readonly format: SegmentFormat; readonly bytes: number; readonly attempts: number }
  | { readonly kind: 'unavailable'; readonly attempts: number; readonly detail: string };

/**
 * Every HTTP fetch of an ingest: playlists (read whole, capped) and segments (streamed from the
 * origin into the archive, sniffed, capped in bytes and time, retried with backoff). Goes
 * through the outbound SSRF guard (`guardedGet`). One per ingest; `close()` drops its sockets.
 */
export class SegmentFetcher {
  private readonly agents: SenderAgents = createSenderAgents(8);

  constructor(private readonly options: SegmentFetcherOptions) {}

  get limits(): IngestLimits {
    return this.options.limits;
  }

  /** One playlist load: its text and the URL that answered (after redirects). */
  async fetchPlaylist(url: string, signal?: AbortSignal): Promise<{ url: URL; text: string }> {
    const { limits } = this.options;
    const response = await this.get(url, limits.playlistTimeoutMs, signal);
    this.checkStatus(response);
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxPlaylistBytes) {
      response.body.destroy();
      throw new IngestError(INGEST_FAILURE_REASONS.playlistTooLarge, `${url} is ${declared} bytes; a playlist may have at most ${limits.maxPlaylistBytes}`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > limits.maxPlaylistBytes) {
          throw new IngestError(INGEST_FAILURE_REASONS.playlistTooLarge, `${url} is larger than ${limits.maxPlaylistBytes} bytes`);
        }
        chunks.push(chunk);
      }
    } catch (error) {
      response.body.destroy();
      throw asFetchError(error, url);
    }
    return { url: response.url, text: Buffer.concat(chunks).toString('utf8') };
  }

  /**
   * Streams one segment into the archive, trying up to `segmentAttempts` times with doubling
   * waits on transient trouble (HTTP 4xx/5xx, a dropped connection). A hostile answer (a
   * refused address, a redirect loop, HTML, a body past the byte or time cap) throws
   * `IngestError` at once: retrying would not change it.
   */
  async archiveSegment(segment: MediaSegmentRef, sink: ArchiveSink, signal?: AbortSignal): Promise<SegmentFetchResult> {
    const what = `segment ${segment.sequence} (${segment.url})`;
    return this.withRetries(what, signal, async () => {
      const { body, format, bytes } = await this.openMedia(segment.url, what, signal);
      // A read error reaches here as ours (IngestError, TransientFetchError); anything else is the store's, and propagates.
      const key = await sink.putSegment(segment.sequence, format, body);
      return { key, format, bytes: bytes() };
    });
  }

  /** Streams an fMP4 init section into the archive (same checks and retries as a segment). */
  async archiveInit(url: string, sink: ArchiveSink, signal?: AbortSignal): Promise<SegmentFetchResult> {
    const what = `init section ${url}`;
    return this.withRetries(what, signal, async () => {
      const { body, format, bytes } = await this.openMedia(url, what, signal);
      const key = await sink.putInit(url, body);
      return { key, format, bytes: bytes() };
    });
  }

  /** Waits on the ingest's clock (retry backoff of callers). */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.options.clock.sleep(ms, signal);
  }

  close(): void {
    this.agents.destroy();
  }

  private async withRetries(
    what: string,
    signal: AbortSignal | undefined,
    attempt: () => Promise<{ key: string; format: SegmentFormat; bytes: number }>,
  ): Promise<SegmentFetchResult> {
    const { limits, clock } = this.options;
    let detail: string;
    for (let attempts = 1; ; attempts++) {
      try {
        return { kind: 'archived', attempts, ...(await attempt()) };
      } catch (error) {
        if (!(error instanceof TransientFetchError)) throw error;
        detail = error.message;
      }
      if (attempts >= limits.segmentAttempts || signal?.aborted) return { kind: 'unavailable', attempts, detail: `${what}: ${detail}` };
      await clock.sleep(limits.retryDelayMs * 2 ** (attempts - 1), signal);
    }
  }

  private async openMedia(url: string, what: string, signal: AbortSignal | undefined) {
    const { limits } = this.options;
    const response = await this.get(url, limits.segmentTimeoutMs, signal);
    this.checkStatus(response);
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxSegmentBytes) {
      response.body.destroy();
      throw new IngestError(INGEST_FAILURE_REASONS.segmentTooLarge, `${what} is ${declared} bytes; at most ${limits.maxSegmentBytes} are accepted`);
    }
    try {
      return await sniffSegmentBody(response.body as AsyncIterable<Buffer>, what, limits.maxSegmentBytes);
    } catch (error) {
      response.body.destroy();
      throw asFetchError(error, url);
    }
  }

  private get(url: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<GuardedResponse> {
    return guardedGet(url, { ...this.options, maxRedirects: this.options.limits.maxRedirects, timeoutMs, agents: this.agents, ...(signal ? { signal } : {}) });
  }

  /** Anything but 2xx is transient: 404 (not there yet, or gone), 5xx, 429, 403 from a CDN edge. */
  private checkStatus(response: GuardedResponse): void {
    if (response.status >= 200 && response.status < 300) return;
    response.body.destroy();
    throw new TransientFetchError(`${response.url.href} answered HTTP ${response.status}`, response.status);
  }
}

/** Our own errors pass; anything else thrown while reading a body (a reset) is transient. */
function asFetchError(error: unknown, url: string): Error {
  if (error instanceof IngestError || error instanceof TransientFetchError) return error;
  return new TransientFetchError(`${url} failed: ${(error as Error).message}`, undefined, { cause: error });
}
