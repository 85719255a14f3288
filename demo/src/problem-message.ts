import { ModerationApiError } from './moderation-api.js';

/** The browser has the preview but cannot play it (a codec it lacks). */
export class PreviewUnplayableError extends Error {
  constructor() {
    super('the browser cannot play this file');
    this.name = 'PreviewUnplayableError';
  }
}

/** What the moderation page says when something failed: what happened and what to do, never a code. */
export const PROBLEM_LABELS = {
  unreachable: 'The server could not be reached. Check that it is running, then try again.',
  forbidden: 'This token may not review uploads. Use the admin token or a moderator token.',
  gone: 'It is no longer waiting for review.',
  busy: 'The server is busy right now. Wait a moment, then try again.',
  serverFault: 'The server had a problem. Try again in a moment.',
  notUnderstood: 'The server’s answer was not understood. Try again; if it keeps happening, reload the page.',
  unplayable: 'This browser cannot play the file. The checks above still tell what it is.',
  unknown: 'Something went wrong. Try again.',
} as const;

/**
 * The sentence a moderator reads for a failure. The technical detail (status, server message,
 * exception) goes to the console for whoever debugs it, not onto the page.
 */
export function problemMessage(error: unknown): string {
  console.warn('moderation page:', error);
  if (error instanceof PreviewUnplayableError) return PROBLEM_LABELS.unplayable;
  if (!(error instanceof ModerationApiError)) return PROBLEM_LABELS.unknown;
  const { status } = error;
  if (status === 0) return PROBLEM_LABELS.unreachable;
  if (status === 403) return PROBLEM_LABELS.forbidden;
  if (status === 404 || status === 409) return PROBLEM_LABELS.gone;
  if (status === 429 || status === 503) return PROBLEM_LABELS.busy;
  if (status >= 500) return PROBLEM_LABELS.serverFault;
  return PROBLEM_LABELS.notUnderstood;
}
