export { LiveStatusHub, type CanonicalRecordReader, type StatusListener } from './live-status-hub.js';
export { SseConnection, SseFrameCache, SSE_EVENTS } from './sse-connection.js';
export { parseCursor, formatCursor, type SseCursor } from './sse-cursor.js';
