import { css } from 'lit';

// Minified at build time (element/scripts/build.ts). Inside var() fallbacks the minifier keeps
// whitespace as written, hence no space after those commas.
export const liveUploadStyles = css`
  :host {
    display: block;
    font: var(--live-font,400 0.9375rem/1.4 system-ui,sans-serif);
    color: var(--live-text-color,inherit);
    max-width: var(--live-max-width,40rem);
  }
  :host([hidden]) {
    display: none;
  }
  [part='base'] {
    display: grid;
    gap: var(--live-gap,0.75rem);
  }
  video {
    display: block;
    width: 100%;
    max-height: 60vh;
    background: #000;
    border-radius: var(--live-radius,0.25em);
  }
  [part='actions'],
  [part='publish-devices'],
  [part='publish-actions'],
  [part='controls'],
  [part='replay-controls'],
  [part='pending'] {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
  }
  button {
    font: inherit;
    padding: 0.4em 0.9em;
    border: 1px solid var(--live-button-border,#5f6368);
    border-radius: var(--live-radius,0.25em);
    background: var(--live-button-background,#fff);
    color: var(--live-button-color,#202124);
    cursor: pointer;
  }
  button.primary {
    background: var(--live-accent-color,#1a56db);
    border-color: var(--live-accent-color,#1a56db);
    color: var(--live-accent-text-color,#fff);
  }
  button:disabled {
    cursor: not-allowed;
    opacity: 0.6;
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  video:focus-visible {
    outline: 3px solid var(--live-focus-color,#1a56db);
    outline-offset: 2px;
  }
  [part='timer'] {
    font-variant-numeric: tabular-nums;
  }
  select {
    font: inherit;
    padding: 0.3em 0.5em;
    border: 1px solid var(--live-button-border,#5f6368);
    border-radius: var(--live-radius,0.25em);
    background: var(--live-button-background,#fff);
    color: var(--live-button-color,#202124);
  }
  [part='publish'] {
    display: grid;
    gap: 0.5rem;
  }
  :host([publish-state='live']) [part='publish-preview'] {
    outline: 3px solid var(--live-error-color,#b3261e);
  }
  [part='publish-level'] {
    width: 8rem;
  }
  [part='publish-connection'] {
    margin: 0;
    font-variant-numeric: tabular-nums;
  }
  [part='replay-clip'] {
    display: grid;
    gap: 0.5rem;
  }
  input[type='text'] {
    font: inherit;
    padding: 0.3em 0.5em;
    border: 1px solid var(--live-button-border,#5f6368);
    border-radius: var(--live-radius,0.25em);
  }
  [part='progress'] {
    height: 0.5rem;
    border-radius: 0.25rem;
    background: var(--live-track-color,#e0e0e0);
    overflow: hidden;
  }
  [part='progress'] > span {
    display: block;
    height: 100%;
    background: var(--live-accent-color,#1a56db);
  }
  [part='status'] {
    margin: 0;
    min-height: 1.4em;
  }
  [part='error'] {
    margin: 0;
    color: var(--live-error-color,#b3261e);
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
  }
  [part='progress-detail'] {
    margin: 0;
    font-variant-numeric: tabular-nums;
    opacity: 0.85;
  }
  [part='upload-result'] {
    display: grid;
    gap: 0.5rem;
  }
  a {
    color: var(--live-accent-color,#1a56db);
  }
  a:focus-visible {
    outline: 3px solid var(--live-focus-color,#1a56db);
    outline-offset: 2px;
  }
`;
