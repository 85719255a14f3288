// The element package's public face. Importing it defines <live-badge> and <live-upload>.
export { LiveBadge } from './live-badge/live-badge.js';
export { LiveUpload } from './live-upload/live-upload.js';
export { LiveTrimRange } from './trim-range/trim-range.js';
export { LIVE_UPLOAD_LABELS, resolveUploadLabels, type LiveUploadLabels } from './live-upload/upload-labels.js';
export {
  createLiveEvent,
  LIVE_EVENTS,
  type LiveClipProvenance,
  type LiveClipReadyDetail,
  type LiveErrorDetail,
  type LiveEventDetailMap,
  type LiveEventMap,
  type LiveEventName,
  type LiveStatusChangeDetail,
  type LiveTrimChangeDetail,
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
