// The element package's public face. Importing it defines <live-badge>.
export { LiveBadge } from './live-badge/live-badge.js';
export {
  createLiveEvent,
  LIVE_EVENTS,
  type LiveErrorDetail,
  type LiveEventDetailMap,
  type LiveEventMap,
  type LiveEventName,
  type LiveStatusChangeDetail,
  type LiveUploadCompleteDetail,
  type LiveUploadProgressDetail,
} from './events.js';
export { LIVE_LABELS, resolveLabels, type LiveLabelLocale, type LiveLabels } from './labels.js';
export {
  documentLiveStatusRegistry,
  LiveStatusRegistry,
  MAX_CHANNELS_PER_CONNECTION,
  type LiveStatusListener,
} from './live-status-connection.js';
