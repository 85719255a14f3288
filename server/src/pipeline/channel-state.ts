import { z } from 'zod';
import {
  SCHEMA_VERSION,
  defaultBadge,
  fieldSourceSchema,
  liveMetadataSchema,
  playbackSchema,
  parseChannelRef,
  type FieldSource,
  type LiveMetadata,
  type LiveStatus,
  type Playback,
  type ProviderLinks,
} from '@live-upload/schema';
import type { CanonicalEvent, CanonicalEventFields } from '../provider-adapter/index.js';

/**
 * The per-channel state machine: pure, JSON-serializable state (stored in KV `channel-state`),
 * transitions from canonical events and timers. DESIGN.md "The signal pipeline":
 * ordered by event time per provider, idempotent, leading-edge LIVE, offline held for a grace
 * window, live while any verified provider is live, field updates coalesced.
 *
 * The caller (the pipeline worker) persists `state`, publishes `emit` when it is not null, and
 * calls `applyTimer` at `wakeAtMs` (every transition returns the next one, or null).
 */

/** What one provider last told us about this channel. */
export interface ProviderState {
  /** The provider's own status: live or not. */
  live: boolean;
  /** Whether the event that set this status was verified. Only verified live providers make the channel live. */
  verified: boolean;
  /** The provider's stream / broadcast id while live, when it named one. */
  streamId: string | null;
  /** Event time of the last applied event from this provider: older events change nothing. */
  lastEventTimeMs: number;
  /** Ids of the events applied at exactly `lastEventTimeMs`, so a replay of one of them is a no-op. */
  lastEventIds: string[];
}

export interface ChannelState {
  /**
   * The canonical record as we know it now. `seq` and `updated_at` are those of the last emit;
   * while `pendingFlush` is set, field changes are here but not yet emitted.
   */
  record: LiveMetadata;
  providers: Record<string, ProviderState>;
  /** While LIVE is held after the last verified provider went offline: when the hold ends (our clock). */
  offlineDeadlineMs: number | null;
  /** The offline that started the hold; becomes `ended_at` and `sources.status` when it expires. */
  pendingOffline: FieldSource | null;
  /** Our clock at the last emit; coalescing counts from here. */
  lastEmitAtMs: number | null;
  /** Field changes wait for `lastEmitAtMs + coalesceMs`. */
  pendingFlush: boolean;
  /** Category as the providers set it; `record.tags` is the category followed by `providerTags`. */
  category: string | null;
  providerTags: string[];
  /** Fingerprint of the content last emitted (initially: of the initial record). */
  emittedFingerprint: string;
  /**
   * The seen set: `provider:message id` of the events applied here, with our clock when they
   * were, oldest first; an id is forgotten after the ttl or when more than `MAX_SEEN_IDS` came
   * after it. Kept with the state it guards, so an id is marked in the same write that applies
   * its event. A replay of one of them changes nothing, whatever time it claims.
   * Never mutated: recording an id makes a new array (clones share it).
   */
  seen: SeenIds;
  /**
   * The channel's configured player, kept while a provider that serves its own (our origin)
   * has `record.playback` for its broadcast, and put back when that broadcast ends. Absent in
   * states stored before: those had only the configured one.
   */
  configPlayback?: Playback | null;
}

/** `[provider:message id, our clock when applied]`, oldest first. */
export type SeenIds = ReadonlyArray<readonly [key: string, atMs: number]>;

export interface StateContext {
  /** Our clock (ms since epoch). Timers and coalescing use it; ordering uses event times. */
  nowMs: number;
  /** How long LIVE is held after the last verified provider went offline (default in DESIGN: 30 s). */
  graceWindowMs: number;
  /** At most one field-update emit per this many ms per channel (DESIGN: 2 s). */
  coalesceMs: number;
  /** A new canonical id for a broadcast that started at `startedAtMs`. */
  newCanonicalId(startedAtMs: number): string;
  /** How long an applied message id is remembered (default `DEFAULT_SEEN_TTL_MS`). */
  seenTtlMs?: number;
}

export interface Transition {
  state: ChannelState;
  /** The record to publish on `live.status.<channel>`, or null when nothing is to be emitted now. */
  emit: LiveMetadata | null;
  /** When `applyTimer` should next run (our clock), or null when nothing is scheduled. */
  wakeAtMs: number | null;
  /** False when the event was stale, a duplicate or for nothing (timer: when nothing was due). */
  applied: boolean;
}

/** Same-time event ids remembered per provider; more than this at one millisecond is not a real stream. */
const MAX_SAME_TIME_IDS = 32;
/**
 * Applied message ids a channel remembers at most. A provider resends within minutes, and a
 * channel has a handful of events an hour; a replay of an id forgotten earlier still meets the
 * event-time ordering, which holds without the seen set.
 */
export const MAX_SEEN_IDS = 64;
/** How long an applied message id is remembered by default: a day, like Twitch's resend horizon with room to spare. */
export const DEFAULT_SEEN_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_TAGS = 32;
const MAX_TAG_LENGTH = 64;
const MAX_TITLE_LENGTH = 512;
/** The range `Date` can represent. */
const MAX_TIME_MS = 8.64e15;

export const providerStateSchema = z.object({
  live: z.boolean(),
  verified: z.boolean(),
  streamId: z.string().nullable(),
  lastEventTimeMs: z.number(),
  lastEventIds: z.array(z.string()),
});

/** Decodes a `ChannelState` read from KV. */
export const channelStateSchema: z.ZodType<ChannelState> = z.object({
  record: liveMetadataSchema,
  providers: z.record(z.string(), providerStateSchema),
  offlineDeadlineMs: z.number().nullable(),
  pendingOffline: fieldSourceSchema.nullable(),
  lastEmitAtMs: z.number().nullable(),
  pendingFlush: z.boolean(),
  category: z.string().nullable(),
  providerTags: z.array(z.string()),
  emittedFingerprint: z.string(),
  // States stored before the seen set moved into them have none.
  seen: z.array(z.tuple([z.string(), z.number()])).default([]),
  configPlayback: playbackSchema.nullable().optional(),
});

/** A channel nobody has heard from yet: offline, no broadcast, `seq` 0. */
export function initialChannelState(
  channel: string,
  nowMs: number,
  init: { title?: string | null; providers?: ProviderLinks; playback?: Playback | null } = {},
): ChannelState {
  if (!parseChannelRef(channel)) throw new RangeError(`not a channel: ${channel}`);
  const record: LiveMetadata = {
    version: SCHEMA_VERSION,
    canonical_id: null,
    channel,
    providers: cloneJson(init.providers ?? {}),
    status: 'offline',
    started_at: null,
    ended_at: null,
    title: init.title == null ? null : init.title.slice(0, MAX_TITLE_LENGTH),
    viewer_count: null,
    latency_ms: null,
    is_public: true,
    tags: [],
    badge: defaultBadge('offline'),
    updated_at: new Date(nowMs).toISOString(),
    seq: 0,
    sources: {},
    ...(init.playback ? { playback: cloneJson(init.playback) } : {}),
  };
  return {
    record,
    providers: {},
    offlineDeadlineMs: null,
    pendingOffline: null,
    lastEmitAtMs: null,
    pendingFlush: false,
    category: null,
    providerTags: [],
    emittedFingerprint: contentFingerprint(record),
    seen: [],
    configPlayback: init.playback ? cloneJson(init.playback) : null,
  };
}

/**
 * Applies one canonical event. An online/offline older than the last one applied for that
 * provider, or a duplicate, changes nothing and returns `applied: false`; a field update is
 * ordered per field instead (a field keeps the value of its newest event). A grace hold that expired before
 * this event is settled first, so the event sees the channel offline; a caller that wants the
 * ended broadcast emitted on its own runs `applyTimer` at `wakeAtMs` before later events.
 */
export function applyEvent(state: ChannelState, event: CanonicalEvent, ctx: StateContext): Transition {
  if (event.channel !== state.record.channel) {
    throw new RangeError(`event for ${event.channel} applied to channel ${state.record.channel}`);
  }
  const next = cloneState(state);
  const graceExpired = settleExpiredGrace(next, ctx);

  const seenKey = `${event.provider}:${event.eventId}`;
  if (!isUsableTime(event.eventTimeMs) || hasSeen(state.seen, seenKey, ctx)) {
    return graceExpired ? finish(state, next, ctx, false) : unchanged(state, ctx, false);
  }
  if (event.kind === 'update') {
    // Field updates are ordered per field (each field's source time), not per provider: a
    // title change delivered after a later stream.online (separate subscriptions, delivered
    // independently) still sets the title, and a replay changes nothing.
    // The provider is known from now on (its verification guards what it set), without
    // moving its status order: an update is no online/offline.
    let changed = graceExpired;
    if (!next.providers[event.provider]) {
      next.providers[event.provider] = { live: false, verified: event.verified, streamId: null, lastEventTimeMs: 0, lastEventIds: [] };
      changed = true;
    }
    if (applyFields(next, event)) changed = true;
    if (applyProvenance(next, event)) changed = true;
    if (!changed) return unchanged(state, ctx, false);
    next.seen = withSeen(state.seen, seenKey, ctx);
    return finish(state, next, ctx, true);
  }

  const previous = next.providers[event.provider];
  if (isStaleOrDuplicate(previous, event)) {
    return graceExpired ? finish(state, next, ctx, false) : unchanged(state, ctx, false);
  }

  const provider = recordEventOrder(next, previous, event);
  if (event.kind === 'online') applyOnline(next, provider, event, ctx);
  if (event.kind === 'offline') applyOffline(next, provider, event, ctx);
  applyFields(next, event);
  applyProvenance(next, event);
  next.seen = withSeen(state.seen, seenKey, ctx);
  return finish(state, next, ctx, true);
}

/**
 * Runs what is due at `ctx.nowMs`: the end of a grace hold (the channel goes offline, `ended_at`
 * set) and the coalesced flush. Before anything is due it changes nothing and returns the next
 * `wakeAtMs`.
 */
export function applyTimer(state: ChannelState, ctx: StateContext): Transition {
  const next = cloneState(state);
  const graceExpired = settleExpiredGrace(next, ctx);
  const flushDue = next.pendingFlush && flushAllowed(next, ctx);
  if (!graceExpired && !flushDue) return unchanged(state, ctx, false);
  return finish(state, next, ctx, true);
}

/**
 * The admin changed the channel: its provider links follow the config (a link that stays keeps
 * its current broadcast id), and its title follows the config's default title unless a
 * provider has set one. A real change is emitted at once, like a status transition.
 */
export function applyChannelConfig(
  state: ChannelState,
  config: { title: string | null; providers: ProviderLinks; playback?: Playback | null },
  ctx: StateContext,
): Transition {
  const next = cloneState(state);
  const providers = cloneJson(config.providers);
  if (providers.twitch && next.record.providers.twitch?.user_id === providers.twitch.user_id) {
    providers.twitch.id = next.record.providers.twitch.id;
  }
  if (providers.youtube && next.record.providers.youtube?.channel_id === providers.youtube.channel_id) {
    providers.youtube.id = next.record.providers.youtube.id;
  }
  if (providers.bluesky && next.record.providers.bluesky?.did === providers.bluesky.did) {
    providers.bluesky.post_uri = next.record.providers.bluesky.post_uri;
  }
  next.record.providers = providers;
  next.configPlayback = config.playback ? cloneJson(config.playback) : null;
  // A provider's own player (our origin's playlist) stays while its broadcast goes on.
  if (next.record.sources.playback === undefined) {
    if (config.playback) next.record.playback = cloneJson(config.playback);
    else delete next.record.playback;
  }
  if (next.record.sources.title === undefined) {
    next.record.title = config.title === null ? null : config.title.slice(0, MAX_TITLE_LENGTH);
  }
  if (sameContent(next.record, state.record)) return unchanged(state, ctx, false);
  next.lastEmitAtMs = null; // admin changes are not coalesced
  return finish(state, next, ctx, true);
}

function unchanged(state: ChannelState, ctx: StateContext, applied: boolean): Transition {
  return { state, emit: null, wakeAtMs: nextWakeAtMs(state, ctx), applied };
}

function isUsableTime(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME_MS;
}

function isStaleOrDuplicate(previous: ProviderState | undefined, event: CanonicalEvent): boolean {
  if (!previous) return false;
  if (event.eventTimeMs < previous.lastEventTimeMs) return true;
  return event.eventTimeMs === previous.lastEventTimeMs && previous.lastEventIds.includes(event.eventId);
}

function recordEventOrder(state: ChannelState, previous: ProviderState | undefined, event: CanonicalEvent): ProviderState {
  const sameTime = previous !== undefined && previous.lastEventTimeMs === event.eventTimeMs;
  const provider: ProviderState = {
    live: previous?.live ?? false,
    verified: previous?.verified ?? event.verified,
    streamId: previous?.streamId ?? null,
    lastEventTimeMs: event.eventTimeMs,
    lastEventIds: sameTime ? [...previous.lastEventIds, event.eventId].slice(-MAX_SAME_TIME_IDS) : [event.eventId],
  };
  state.providers[event.provider] = provider;
  return provider;
}

/** An unverified signal never overrides what a verified event said about a live provider. */
function canSetProviderStatus(provider: ProviderState, event: CanonicalEvent): boolean {
  return event.verified || !(provider.live && provider.verified);
}

function applyOnline(state: ChannelState, provider: ProviderState, event: CanonicalEvent, ctx: StateContext): void {
  if (!canSetProviderStatus(provider, event)) return;
  provider.live = true;
  provider.verified = event.verified;
  if (event.providerStreamId !== undefined) provider.streamId = event.providerStreamId;
  if (!event.verified) return;

  const { record } = state;
  if (record.status !== 'live') {
    startBroadcast(state, event, ctx);
  } else if (state.offlineDeadlineMs !== null) {
    // Back within the grace window: the same broadcast goes on.
    state.offlineDeadlineMs = null;
    state.pendingOffline = null;
  }
  setProviderLinkStreamId(record, event.provider, provider.streamId);
  if (event.fields.playback) {
    record.playback = cloneJson(event.fields.playback);
    record.sources.playback = { provider: event.provider, at: isoTime(event.eventTimeMs) };
  }
}

/** The broadcast whose player a provider served is over (or that provider is): the configured player comes back. */
function restoreConfigPlayback(state: ChannelState, provider?: string): void {
  const source = state.record.sources.playback;
  if (source === undefined || (provider !== undefined && source.provider !== provider)) return;
  delete state.record.sources.playback;
  if (state.configPlayback) state.record.playback = cloneJson(state.configPlayback);
  else delete state.record.playback;
}

function startBroadcast(state: ChannelState, event: CanonicalEvent, ctx: StateContext): void {
  const { record } = state;
  const startedAtMs = startTimeOf(event);
  const startedAt = new Date(startedAtMs).toISOString();
  const source: FieldSource = { provider: event.provider, at: isoTime(event.eventTimeMs) };
  record.canonical_id = ctx.newCanonicalId(startedAtMs);
  setStatus(record, 'live');
  record.started_at = startedAt;
  record.ended_at = null;
  record.viewer_count = null;
  record.sources.status = source;
  record.sources.started_at = source;
  delete record.sources.ended_at;
  state.offlineDeadlineMs = null;
  state.pendingOffline = null;
}

function startTimeOf(event: CanonicalEvent): number {
  const stated = event.fields.started_at === undefined ? Number.NaN : Date.parse(event.fields.started_at);
  return isUsableTime(stated) ? stated : event.eventTimeMs;
}

function applyOffline(state: ChannelState, provider: ProviderState, event: CanonicalEvent, ctx: StateContext): void {
  if (!canSetProviderStatus(provider, event)) return;
  const wasCounted = provider.live && provider.verified;
  provider.live = false;
  provider.verified = event.verified;
  provider.streamId = null;
  if (!wasCounted || state.record.status !== 'live') return;

  const source: FieldSource = { provider: event.provider, at: isoTime(event.eventTimeMs) };
  if (anyVerifiedProviderLive(state)) {
    // Still live through another provider: this one's broadcast id (and player, if it served one) is gone now.
    setProviderLinkStreamId(state.record, event.provider, null);
    restoreConfigPlayback(state, event.provider);
    return;
  }
  if (state.offlineDeadlineMs === null) {
    state.offlineDeadlineMs = ctx.nowMs + Math.max(0, ctx.graceWindowMs);
    state.pendingOffline = source;
  } else if (state.pendingOffline === null || sourceTimeMs(state.pendingOffline.at) < event.eventTimeMs) {
    state.pendingOffline = source;
  }
  settleExpiredGrace(state, ctx);
}

/** Ends the held broadcast when its grace window is over. True when it did. */
function settleExpiredGrace(state: ChannelState, ctx: StateContext): boolean {
  if (state.offlineDeadlineMs === null || ctx.nowMs < state.offlineDeadlineMs) return false;
  const { record } = state;
  const ending = state.pendingOffline ?? { provider: record.sources.status?.provider ?? 'unknown', at: isoTime(ctx.nowMs) };
  setStatus(record, 'offline');
  record.ended_at = ending.at;
  record.viewer_count = null;
  record.sources.status = ending;
  record.sources.ended_at = ending;
  for (const [name, provider] of Object.entries(state.providers)) {
    if (!(provider.live && provider.verified)) setProviderLinkStreamId(record, name, null);
  }
  restoreConfigPlayback(state);
  state.offlineDeadlineMs = null;
  state.pendingOffline = null;
  return true;
}

function anyVerifiedProviderLive(state: ChannelState): boolean {
  return Object.values(state.providers).some((provider) => provider.live && provider.verified);
}

function setStatus(record: LiveMetadata, status: LiveStatus): void {
  record.status = status;
  record.badge = defaultBadge(status);
}

/**
 * Twitch and YouTube links name the current broadcast; the Bluesky link names the post or
 * status that announced it (`post_uri`), cleared with the rest when the broadcast ends.
 */
function setProviderLinkStreamId(record: LiveMetadata, provider: string, streamId: string | null): void {
  if (provider === 'twitch' && record.providers.twitch) record.providers.twitch.id = streamId;
  if (provider === 'youtube' && record.providers.youtube) record.providers.youtube.id = streamId;
  if (provider === 'bluesky' && record.providers.bluesky) record.providers.bluesky.post_uri = streamId;
}

/**
 * Provenance from Bluesky: an event naming a post or status URI (`providerStreamId`) sets the
 * link's `post_uri`, newest event wins (`sources.post_uri`), whether or not the channel is
 * live: it never changes the status. An offline naming the URI now set (the status was
 * cleared) clears it. True when the record changed.
 */
function applyProvenance(state: ChannelState, event: CanonicalEvent): boolean {
  const link = state.record.providers.bluesky;
  if (event.provider !== 'bluesky' || event.providerStreamId === undefined || !link) return false;
  const source = state.record.sources.post_uri;
  if (source && sourceTimeMs(source.at) > event.eventTimeMs) return false;
  const postUri = event.kind === 'offline' ? (link.post_uri === event.providerStreamId ? null : link.post_uri) : event.providerStreamId;
  if (postUri === link.post_uri) return false;
  link.post_uri = postUri;
  state.record.sources.post_uri = { provider: event.provider, at: isoTime(event.eventTimeMs) };
  return true;
}

type FieldName = 'title' | 'viewer_count' | 'tags' | 'category';

/** Writes the event's fields the ordering rules allow. True when any of them changed. */
function applyFields(state: ChannelState, event: CanonicalEvent): boolean {
  const { fields } = event;
  let changed = false;
  if (fields.title !== undefined && mayWriteField(state, 'title', event)) {
    const title = fields.title === null ? null : fields.title.slice(0, MAX_TITLE_LENGTH);
    if (title !== state.record.title) {
      state.record.title = title;
      markSource(state, 'title', event);
      changed = true;
    }
  }
  if (fields.viewer_count !== undefined && state.record.status === 'live' && mayWriteField(state, 'viewer_count', event)) {
    const count = normalizeViewerCount(fields.viewer_count);
    if (count !== state.record.viewer_count) {
      state.record.viewer_count = count;
      markSource(state, 'viewer_count', event);
      changed = true;
    }
  }
  if (fields.tags !== undefined && mayWriteField(state, 'tags', event)) {
    const tags = normalizeTags(fields.tags);
    if (!sameList(tags, state.providerTags)) {
      state.providerTags = tags;
      markSource(state, 'tags', event);
      changed = true;
    }
  }
  if (fields.category !== undefined && mayWriteField(state, 'category', event)) {
    const category = normalizeCategory(fields.category);
    if (category !== state.category) {
      state.category = category;
      markSource(state, 'category', event);
      changed = true;
    }
  }
  const tags = normalizeTags(state.category === null ? state.providerTags : [state.category, ...state.providerTags]);
  if (!sameList(tags, state.record.tags)) {
    state.record.tags = tags;
    changed = true;
  }
  return changed;
}

/**
 * A field is written by an event newer than the one that set it (across providers), and an
 * unverified event never overwrites what a verified provider set: it only fills gaps.
 */
function mayWriteField(state: ChannelState, field: FieldName, event: CanonicalEvent): boolean {
  const source = state.record.sources[field];
  if (!source) return true;
  if (sourceTimeMs(source.at) > event.eventTimeMs) return false;
  if (event.verified || source.provider === event.provider) return true;
  return state.providers[source.provider]?.verified !== true;
}

function markSource(state: ChannelState, field: FieldName, event: CanonicalEvent): void {
  state.record.sources[field] = { provider: event.provider, at: isoTime(event.eventTimeMs) };
}

function normalizeViewerCount(count: CanonicalEventFields['viewer_count']): number | null {
  if (count === null || count === undefined || !Number.isFinite(count) || count < 0) return null;
  return Math.floor(count);
}

function normalizeCategory(category: string | null): string | null {
  const trimmed = category?.trim() ?? '';
  return trimmed === '' ? null : trimmed.slice(0, MAX_TAG_LENGTH);
}

function normalizeTags(tags: readonly string[]): string[] {
  const result: string[] = [];
  for (const tag of tags) {
    const trimmed = tag.trim().slice(0, MAX_TAG_LENGTH);
    if (trimmed !== '' && !result.includes(trimmed)) result.push(trimmed);
    if (result.length === MAX_TAGS) break;
  }
  return result;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function flushAllowed(state: ChannelState, ctx: StateContext): boolean {
  return state.lastEmitAtMs === null || ctx.nowMs >= state.lastEmitAtMs + ctx.coalesceMs;
}

/**
 * Decides what goes out: a status transition (status or broadcast changed) now; a field change
 * now when outside the coalescing window, else at its end; nothing when the content is what
 * was last emitted.
 */
function finish(before: ChannelState, next: ChannelState, ctx: StateContext, applied: boolean): Transition {
  const transition =
    next.record.status !== before.record.status || next.record.canonical_id !== before.record.canonical_id;
  const changed = !sameContent(next.record, before.record);

  let emit: LiveMetadata | null = null;
  if (transition || ((changed || next.pendingFlush) && flushAllowed(next, ctx))) {
    // The fingerprint (a canonical string of the content) is built only when something may go
    // out: inside the coalescing window, a burst of updates costs one field comparison each.
    const fingerprint = contentFingerprint(next.record);
    if (fingerprint !== next.emittedFingerprint) {
      next.record.seq += 1;
      next.record.updated_at = isoTime(ctx.nowMs);
      next.lastEmitAtMs = ctx.nowMs;
      next.emittedFingerprint = fingerprint;
      emit = cloneJson(next.record);
    }
    next.pendingFlush = false;
  } else if (changed) {
    next.pendingFlush = true;
  }
  return { state: next, emit, wakeAtMs: nextWakeAtMs(next, ctx), applied };
}

function nextWakeAtMs(state: ChannelState, ctx: StateContext): number | null {
  const times: number[] = [];
  if (state.offlineDeadlineMs !== null) times.push(state.offlineDeadlineMs);
  if (state.pendingFlush && state.lastEmitAtMs !== null) times.push(state.lastEmitAtMs + ctx.coalesceMs);
  return times.length === 0 ? null : Math.min(...times);
}

/** The parts of a record consumers see change; `seq`, `updated_at` and provenance are not content. */
function contentOf(record: LiveMetadata) {
  return {
    canonical_id: record.canonical_id,
    channel: record.channel,
    providers: record.providers,
    status: record.status,
    started_at: record.started_at,
    ended_at: record.ended_at,
    title: record.title,
    viewer_count: record.viewer_count,
    latency_ms: record.latency_ms,
    is_public: record.is_public,
    tags: record.tags,
    badge: record.badge,
    playback: record.playback,
  };
}

function contentFingerprint(record: LiveMetadata): string {
  return stableStringify(contentOf(record));
}

/** Same content (what `contentFingerprint` covers), compared without building the strings. */
function sameContent(a: LiveMetadata, b: LiveMetadata): boolean {
  return sameJson(contentOf(a), contentOf(b));
}

/** Deep equality of JSON data; an `undefined` property equals an absent one, as in JSON. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  for (const key in left) if (!sameJson(left[key], right[key])) return false;
  for (const key in right) if (!(key in left) && right[key] !== undefined) return false;
  return true;
}

/**
 * A deep copy of JSON data (what the state is: it round-trips through KV as JSON): an emitted
 * record, and what a transition takes from config or an event. Faster than `structuredClone`
 * on these small objects (`bench/README.md`).
 */
function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const copy: Record<string, unknown> = {};
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) copy[key] = cloneJson(item);
  }
  return copy as T;
}

/**
 * The copy a transition writes to: new objects for what transitions change in place (the
 * state, its record, the record's sources, its provider links and each link, the providers
 * map), shared references for the rest. What is shared is never written: a transition
 * assigns a new value (tags, playback, a provider's state, a field source, the seen set)
 * instead of changing one, so the state it was given stays as it was (the republish of a
 * redelivery reads the state of its own transition). A deep copy per event was a third of
 * what applying one allocated (bench/README.md, ingest); the channel-state tests run every
 * transition on deep-frozen states, so a write to a shared part throws there.
 */
function cloneState(state: ChannelState): ChannelState {
  const { record } = state;
  return {
    record: { ...record, providers: cloneLinks(record.providers), sources: { ...record.sources } },
    providers: { ...state.providers },
    offlineDeadlineMs: state.offlineDeadlineMs,
    pendingOffline: state.pendingOffline,
    lastEmitAtMs: state.lastEmitAtMs,
    pendingFlush: state.pendingFlush,
    category: state.category,
    providerTags: state.providerTags,
    emittedFingerprint: state.emittedFingerprint,
    seen: state.seen,
    ...(state.configPlayback === undefined ? {} : { configPlayback: state.configPlayback }),
  };
}

/** The links object and each link copied one level: transitions set a link's broadcast id or post uri. */
function cloneLinks(links: ProviderLinks): ProviderLinks {
  const copy: Record<string, unknown> = {};
  for (const name in links) {
    const link = (links as Record<string, unknown>)[name];
    if (link !== undefined) copy[name] = typeof link === 'object' && link !== null ? { ...link } : link;
  }
  return copy as ProviderLinks;
}

function seenTtlOf(ctx: StateContext): number {
  return ctx.seenTtlMs ?? DEFAULT_SEEN_TTL_MS;
}

function hasSeen(seen: SeenIds, key: string, ctx: StateContext): boolean {
  const cutoff = ctx.nowMs - seenTtlOf(ctx);
  for (let i = seen.length - 1; i >= 0; i--) {
    const entry = seen[i]!;
    if (entry[0] === key) return entry[1] > cutoff;
  }
  return false;
}

/** `seen` with `key` added now, less what is past the ttl and the oldest beyond `MAX_SEEN_IDS`. */
function withSeen(seen: SeenIds, key: string, ctx: StateContext): SeenIds {
  const cutoff = ctx.nowMs - seenTtlOf(ctx);
  let start = Math.max(0, seen.length + 1 - MAX_SEEN_IDS);
  while (start < seen.length && seen[start]![1] <= cutoff) start++;
  const next = seen.slice(start);
  next.push([key, ctx.nowMs]);
  return next;
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableStringify(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/*
 * ISO times of sources, made and read for every event: a field update writes the same event
 * time into each field it sets, and checks each field's source time, mostly one string (the
 * last event's). One remembered pair each way spares the Date and its formatting or parse
 * (a third of applying a title update, bench/README ingest).
 */
let isoTimeMs = Number.NaN;
let isoTimeText = '';
let parsedIso = '';
let parsedIsoMs = Number.NaN;

function isoTime(ms: number): string {
  if (ms !== isoTimeMs) {
    isoTimeText = new Date(ms).toISOString();
    isoTimeMs = ms;
  }
  return isoTimeText;
}

/** `Date.parse` of a source's ISO time. */
function sourceTimeMs(at: string): number {
  if (at !== parsedIso) {
    parsedIsoMs = Date.parse(at);
    parsedIso = at;
  }
  return parsedIsoMs;
}
