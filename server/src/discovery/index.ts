export { StreamDirectory, type StreamDirectoryDeps } from './stream-directory.js';
export { ENGAGEMENT_VIEWERS_FRESH_MS, engagementAt, trendingScore, type Engagement, type EngagementSource } from './engagement.js';
export { streamEntry, summarizeStream, foldText, type StreamEntry, type StreamRecord, type StreamSummary } from './stream-entry.js';
export {
  STREAM_SORTS,
  matchesFilters,
  pageStreams,
  queryStreams,
  sortStreams,
  type StreamFilters,
  type StreamPage,
  type StreamPageRequest,
  type StreamPosition,
  type StreamSort,
} from './stream-index.js';
export { encodeStreamCursor, decodeStreamCursor, type CursorScope } from './stream-cursor.js';
export { parseStreamQuery, STREAM_LIMIT_DEFAULT, STREAM_LIMIT_MAX, STREAM_QUERY_MAX_LENGTH, type StreamQuery } from './stream-query.js';
