import { text } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { assertObjectPrefix, type ObjectStore } from '../storage/index.js';
import {
  ARCHIVE_STATES,
  EMPTY_TOTALS,
  archiveHeadSchema,
  archivePageSchema,
  type ArchiveEntry,
  type ArchiveHead,
  type ArchivePage,
  type ArchiveTotals,
  type SourceRestart,
} from './archive-manifest.js';
import type { IngestFailureReason } from './ingest-error.js';
import { SEGMENT_EXTENSIONS, type SegmentFormat } from './segment-format.js';

/** Entries per manifest page: a page of segment entries is about 40 KB of JSON. */
export const DEFAULT_ENTRIES_PER_PAGE = 256;

export const ARCHIVE_KEYS = {
  head: 'manifest.json',
  page: (index: number) => `entries/${String(index).padStart(6, '0')}.json`,
  segment: (sequence: number, format: SegmentFormat) => `segments/${String(sequence).padStart(16, '0')}.${SEGMENT_EXTENSIONS[format]}`,
  init: (index: number) => `init/${String(index).padStart(4, '0')}.mp4`,
} as const;

export interface ArchiveStart {
  readonly kind: 'live' | 'vod';
  readonly source: string;
}

/**
 * One broadcast's archive in an `ObjectStore` under `prefix`: segments streamed in through
 * `put` (visible only once complete, so a failed segment leaves nothing), and the paged
 * manifest (see archive-manifest.ts). `open` resumes an archive another process left
 * `following`; the caller decides what an `ended` or `failed` one means.
 */
export class ArchiveSink {
  private constructor(
    readonly store: ObjectStore,
    readonly prefix: string,
    private headState: ArchiveHead,
    private page: ArchivePage,
    private readonly clock: { now(): number },
  ) {}

  /** Opens the archive at `prefix`: the existing manifest when there is one, else a new one (written at once). */
  static async open(store: ObjectStore, prefix: string, start: ArchiveStart, options: { clock: { now(): number }; entriesPerPage?: number }): Promise<ArchiveSink> {
    assertObjectPrefix(prefix);
    const existing = await readHead(store, prefix);
    if (existing) {
      const last = existing.pageCount === 0 ? undefined : await readPage(store, prefix, existing.pageCount - 1);
      const page: ArchivePage = last ?? { index: 0, entries: [], totals: { ...EMPTY_TOTALS } };
      return new ArchiveSink(store, prefix, existing, page, options.clock);
    }
    const now = options.clock.now();
    const head: ArchiveHead = {
      version: 1,
      kind: start.kind,
      source: start.source,
      state: ARCHIVE_STATES.following,
      createdAtMs: now,
      updatedAtMs: now,
      entriesPerPage: options.entriesPerPage ?? DEFAULT_ENTRIES_PER_PAGE,
      pageCount: 0,
      initSections: {},
    };
    const sink = new ArchiveSink(store, prefix, head, { index: 0, entries: [], totals: { ...EMPTY_TOTALS } }, options.clock);
    await sink.writeHead();
    return sink;
  }

  get head(): ArchiveHead {
    return this.headState;
  }

  get totals(): ArchiveTotals {
    return this.page.totals;
  }

  /** The highest media sequence already handled: a resumed ingest starts after it. */
  get lastSequence(): number | null {
    return this.page.totals.lastSequence;
  }

  /** Stores one segment's bytes (an existing object of the same sequence, from a crashed writer, is replaced). */
  async putSegment(sequence: number, format: SegmentFormat, body: Readable): Promise<string> {
    const key = ARCHIVE_KEYS.segment(sequence, format);
    await this.store.put(`${this.prefix}${key}`, body);
    return key;
  }

  /** The archived key of an init section, if it is archived. */
  initKeyOf(url: string): string | undefined {
    return this.headState.initSections[url];
  }

  /** Stores an init section and records it in the head. */
  async putInit(url: string, body: Readable): Promise<string> {
    const key = ARCHIVE_KEYS.init(Object.keys(this.headState.initSections).length);
    await this.store.put(`${this.prefix}${key}`, body);
    this.headState = { ...this.headState, initSections: { ...this.headState.initSections, [url]: key } };
    await this.writeHead();
    return key;
  }

  /** Records the variant a master playlist led to. */
  async setMediaUrl(url: string): Promise<void> {
    if (this.headState.mediaUrl === url) return;
    this.headState = { ...this.headState, mediaUrl: url };
    await this.writeHead();
  }

  /** Records that the source restarted its media sequence (the numbering from here on), before anything of it is archived. */
  async setSourceRestart(restart: SourceRestart): Promise<void> {
    this.headState = { ...this.headState, sourceRestart: restart };
    await this.writeHead();
  }

  /** Appends an entry: its page is rewritten (and the head, when a page starts). */
  async append(entry: ArchiveEntry): Promise<void> {
    if (this.page.entries.length >= this.headState.entriesPerPage) {
      this.page = { index: this.page.index + 1, entries: [], totals: this.page.totals };
    }
    const totals = addToTotals(this.page.totals, entry);
    this.page = { index: this.page.index, entries: [...this.page.entries, entry], totals };
    await this.store.put(`${this.prefix}${ARCHIVE_KEYS.page(this.page.index)}`, JSON.stringify(this.page), { contentType: 'application/json' });
    if (this.headState.pageCount < this.page.index + 1) {
      this.headState = { ...this.headState, pageCount: this.page.index + 1 };
      await this.writeHead();
    }
  }

  /** Marks the archive ended (usable). */
  async end(endedBy: 'endlist' | 'stop'): Promise<void> {
    this.headState = { ...this.headState, state: ARCHIVE_STATES.ended, endedBy };
    await this.writeHead();
  }

  /** Marks the archive failed with its reason: never to be published. */
  async fail(reason: IngestFailureReason, message: string): Promise<void> {
    this.headState = { ...this.headState, state: ARCHIVE_STATES.failed, failure: { reason, message } };
    await this.writeHead();
  }

  private async writeHead(): Promise<void> {
    this.headState = { ...this.headState, updatedAtMs: this.clock.now() };
    await this.store.put(`${this.prefix}${ARCHIVE_KEYS.head}`, JSON.stringify(this.headState), { contentType: 'application/json' });
  }
}

/** What a reader (the ladder, the API) sees of an archive: its head, totals and entries in order. */
export interface ArchiveReader {
  readonly head: ArchiveHead;
  readonly totals: ArchiveTotals;
  entries(): AsyncIterable<ArchiveEntry>;
}

/** The archive at `prefix`, or undefined when there is none. Pages are read one at a time. */
export async function readArchive(store: ObjectStore, prefix: string): Promise<ArchiveReader | undefined> {
  assertObjectPrefix(prefix);
  const head = await readHead(store, prefix);
  if (!head) return undefined;
  const last = head.pageCount === 0 ? undefined : await readPage(store, prefix, head.pageCount - 1);
  return {
    head,
    totals: last?.totals ?? { ...EMPTY_TOTALS },
    async *entries() {
      for (let index = 0; index < head.pageCount; index++) {
        const page = await readPage(store, prefix, index);
        if (page) yield* page.entries;
      }
    },
  };
}

function addToTotals(totals: ArchiveTotals, entry: ArchiveEntry): ArchiveTotals {
  if (entry.kind === 'segment') {
    return {
      ...totals,
      segments: totals.segments + 1,
      bytes: totals.bytes + entry.bytes,
      durationS: totals.durationS + entry.durationS,
      lastSequence: Math.max(totals.lastSequence ?? -1, entry.sequence),
    };
  }
  return {
    ...totals,
    gaps: totals.gaps + 1,
    missingSegments: totals.missingSegments + (entry.toSequence - entry.fromSequence + 1),
    lastSequence: Math.max(totals.lastSequence ?? -1, entry.toSequence),
  };
}

async function readJson(store: ObjectStore, key: string): Promise<unknown> {
  const read = await store.get(key);
  if (!read) return undefined;
  return JSON.parse(await text(read.body)) as unknown;
}

async function readHead(store: ObjectStore, prefix: string): Promise<ArchiveHead | undefined> {
  const json = await readJson(store, `${prefix}${ARCHIVE_KEYS.head}`);
  return json === undefined ? undefined : (archiveHeadSchema.parse(json) as ArchiveHead);
}

async function readPage(store: ObjectStore, prefix: string, index: number): Promise<ArchivePage | undefined> {
  const json = await readJson(store, `${prefix}${ARCHIVE_KEYS.page(index)}`);
  return json === undefined ? undefined : (archivePageSchema.parse(json) as ArchivePage);
}
