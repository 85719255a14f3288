export { LiveStatusHub, type CanonicalRecordReader, type StatusListener } from './live-status-hub.js';
export { SseConnection, SseFrameCache, SSE_EVENTS } from './sse-connection.js';
export { SseHeartbeat, type HeartbeatListener, type HeartbeatTimers } from './sse-heartbeat.js';
export { parseCursor, formatCursor, type SseCursor } from './sse-cursor.js';
export { VodProgressRelay, VOD_PROGRESS_EVENT, vodProgressMessageSchema, type VodProgressMessage, type VodProgressListener } from './vod-progress-relay.js';
export { liveStatusOf } from './live-status-of.js';
