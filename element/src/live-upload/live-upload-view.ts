import type { LiveUploadLabels } from './upload-labels.js';

/** What `<live-upload>` is doing, reflected as its `stage` attribute for CSS. */
export type Stage = 'idle' | 'recording' | 'preparing' | 'review' | 'uploading';

/**
 * What the element's controllers may do to the view they share, handed to each as callbacks
 * (so none of it becomes public API of the element): the labels of the current language, the
 * polite status line, errors for people, the stage, and where focus goes after the next render.
 */
export interface LiveUploadView {
  labels(): LiveUploadLabels;
  lang(): string;
  stage(): Stage;
  setStage(stage: Stage): void;
  /** The polite status line. */
  message(): string;
  say(message: string): void;
  /** A translated sentence for `code` (and Try again with `retry`); `detail` goes to `live-error` and the console. */
  reportError(code: string, detail: string, retry?: () => void): void;
  /** Clears the error on screen when it is one of `code`'s (`'*'`: whichever it is). */
  clearError(code: string): void;
  focusAfterRender(selector: string): void;
}

/** What was clipped or recorded, waiting for trim and upload. */
export interface Candidate {
  readonly source: 'clip' | 'recording';
  readonly blob: Blob;
  readonly url: string;
  readonly durationMs: number;
  /** Program time of the first frame (clips of a broadcast). */
  readonly fromMs: number | undefined;
  readonly canonicalId: string | undefined;
  readonly startedAtMs: number | undefined;
}

/** The part of the candidate the viewer keeps, ms from its start. */
export interface TrimRange {
  readonly startMs: number;
  readonly endMs: number;
}
