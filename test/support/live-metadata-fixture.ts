import { SCHEMA_VERSION, type LiveMetadata } from '@live-upload/schema';

/**
 * A channel's canonical record as the pipeline first emits it (offline, never started, no
 * providers), with `overrides` on top: for tests of what carries records (hub, SSE, federation)
 * rather than of what makes them.
 */
export function offlineRecord(channel: string, overrides: Partial<LiveMetadata> = {}): LiveMetadata {
  return {
    version: SCHEMA_VERSION,
    canonical_id: null,
    channel,
    providers: {},
    status: 'offline',
    started_at: null,
    ended_at: null,
    title: null,
    viewer_count: null,
    latency_ms: null,
    is_public: true,
    tags: [],
    badge: { label: 'OFFLINE', color: '#5f6368', animate: false },
    updated_at: '2026-11-23T10:00:00.000Z',
    seq: 0,
    sources: {},
    ...overrides,
  };
}
