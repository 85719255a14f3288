import type { LiveStatus, LiveStatusSummary } from '@live-upload/schema';

/** Every public event the elements dispatch. Prefixed `live-` so none clashes with a native name. */
export const LIVE_EVENTS = {
  statusChange: 'live-status-change',
  uploadProgress: 'live-upload-progress',
  uploadComplete: 'live-upload-complete',
  error: 'live-error',
  clipReady: 'live-clip-ready',
  trimChange: 'live-trim-change',
} as const;

export type LiveEventName = (typeof LIVE_EVENTS)[keyof typeof LIVE_EVENTS];

/**
 * `live-status-change`: a channel's status became known or changed.
 * `record` is the channel's record as received; the fields typed here are the ones the badge
 * checked (the full canonical record is validated by the server, not in the browser bundle).
 */
export interface LiveStatusChangeDetail {
  readonly channel: string;
  readonly status: LiveStatus;
  readonly record: LiveStatusSummary;
}

/** `live-upload-progress`: bytes the server acknowledged, and the upload's phase (`uploading`, `paused`, `offline`, ...). */
export interface LiveUploadProgressDetail {
  readonly uploadId: string;
  readonly bytesUploaded: number;
  readonly bytesTotal: number;
  readonly phase: string;
}

/** `live-upload-complete`: every byte is in the quarantine; `status` is the server's first word on it. */
export interface LiveUploadCompleteDetail {
  readonly uploadId: string;
  readonly status: string;
}

/** Where a clip came from: the broadcast and its program time (EXT-X-PROGRAM-DATE-TIME), ISO 8601. */
export interface LiveClipProvenance {
  readonly canonical_id: string;
  readonly from: string;
  readonly to: string;
}

/** `live-clip-ready`: a clip or recording is ready to preview, trim and upload. */
export interface LiveClipReadyDetail {
  readonly source: 'clip' | 'recording';
  /** The media as it would upload now (MP4 for clips; the recorder's format for recordings). */
  readonly blob: Blob;
  readonly durationMs: number;
  /** Clips of a broadcast with a canonical id. */
  readonly provenance: LiveClipProvenance | undefined;
}

/** `live-error`: something the page may want to surface; `code` comes from the server's error table. */
export interface LiveErrorDetail {
  readonly code: string;
  readonly message: string;
}

/** `live-trim-change`: a trim range's selection moved (by keyboard or pointer), ms from the media's start. */
export interface LiveTrimChangeDetail {
  readonly startMs: number;
  readonly endMs: number;
}

export interface LiveEventDetailMap {
  'live-status-change': LiveStatusChangeDetail;
  'live-upload-progress': LiveUploadProgressDetail;
  'live-upload-complete': LiveUploadCompleteDetail;
  'live-error': LiveErrorDetail;
  'live-clip-ready': LiveClipReadyDetail;
  'live-trim-change': LiveTrimChangeDetail;
}

/** Creates a typed `live-*` event that bubbles and crosses shadow roots. */
export function createLiveEvent<N extends LiveEventName>(
  name: N,
  detail: LiveEventDetailMap[N],
): CustomEvent<LiveEventDetailMap[N]> {
  return new CustomEvent(name, { detail, bubbles: true, composed: true });
}

/** The `live-*` events as an event map; they bubble and are composed, so they reach the document too. */
export interface LiveEventMap {
  'live-status-change': CustomEvent<LiveStatusChangeDetail>;
  'live-upload-progress': CustomEvent<LiveUploadProgressDetail>;
  'live-upload-complete': CustomEvent<LiveUploadCompleteDetail>;
  'live-error': CustomEvent<LiveErrorDetail>;
  'live-clip-ready': CustomEvent<LiveClipReadyDetail>;
  'live-trim-change': CustomEvent<LiveTrimChangeDetail>;
}

// Declaration merging needs interfaces, and these add members only through `extends`.
/* eslint-disable @typescript-eslint/no-empty-object-type */
declare global {
  interface HTMLElementEventMap extends LiveEventMap {}
  interface DocumentEventMap extends LiveEventMap {}
}
/* eslint-enable @typescript-eslint/no-empty-object-type */
