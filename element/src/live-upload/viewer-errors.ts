import type { LiveUploadLabels } from './upload-labels.js';

/**
 * What a viewer reads for each `live-error` code: a translated sentence (a key of the labels),
 * never the technical detail, which stays in the event and the console. Upload codes are the
 * server's error codes (`{ "error": { "code" } }`) and the upload session's own.
 */
export const VIEWER_ERRORS = {
  playback_failed: 'errorPlayback',
  clip_failed: 'errorClip',
  clipper_unavailable: 'errorClipper',
  recording_unavailable: 'noRecorder',
  recording_failed: 'errorRecording',
  preparation_failed: 'errorPreparation',
  network_error: 'errorNetwork',
  rate_limited: 'errorBusy',
  not_found: 'errorChannel',
  forbidden: 'errorChannel',
  payload_too_large: 'errorTooLarge',
  unsupported_media_type: 'errorUnsupported',
  upload_failed: 'errorUpload',
} as const satisfies Readonly<Record<string, keyof LiveUploadLabels>>;

/** The label for `code`, `fallback` for a code not in the table. */
export function viewerErrorLabel(code: string, fallback: keyof LiveUploadLabels = 'error'): keyof LiveUploadLabels {
  return Object.hasOwn(VIEWER_ERRORS, code) ? VIEWER_ERRORS[code as keyof typeof VIEWER_ERRORS] : fallback;
}
