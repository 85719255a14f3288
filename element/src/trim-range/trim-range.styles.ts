import { css } from 'lit';

// Minified at build time (element/scripts/build.ts). Inside var() fallbacks the minifier keeps
// whitespace as written, hence no space after those commas.
export const trimRangeStyles = css`
  :host {
    display: block;
    --_accent: var(--live-accent-color,#1a56db);
    --_thumb: 1.25rem;
  }
  :host([hidden]) {
    display: none;
  }
  [part='range'] {
    display: grid;
    gap: 0.35rem;
  }
  [part='legend'] {
    margin: 0;
    font-weight: 600;
  }
  [part='track'] {
    position: relative;
    height: 3rem;
    margin: 0 calc(var(--_thumb) / 2);
    touch-action: none;
    cursor: pointer;
  }
  [part='filmstrip'] {
    position: absolute;
    inset: 0.25rem 0;
    display: flex;
    overflow: hidden;
    border-radius: var(--live-radius,0.25em);
    background: var(--live-track-color,#e0e0e0);
  }
  [part='filmstrip'] canvas {
    flex: 1 1 0;
    min-width: 0;
    height: 100%;
    object-fit: cover;
  }
  [part='outside'] {
    position: absolute;
    inset: 0.25rem auto 0.25rem 0;
    background: rgb(0 0 0 / 55%);
  }
  [part='outside'].after {
    inset: 0.25rem 0 0.25rem auto;
  }
  [part='selection'] {
    position: absolute;
    inset: 0;
    left: var(--_start);
    right: calc(100% - var(--_end));
    border: 3px solid var(--_accent);
    border-radius: var(--live-radius,0.25em);
    box-sizing: border-box;
    pointer-events: none;
  }
  [role='slider'] {
    position: absolute;
    top: 0;
    bottom: 0;
    width: var(--_thumb);
    margin-left: calc(var(--_thumb) / -2);
    border-radius: var(--live-radius,0.25em);
    background: var(--_accent);
    cursor: ew-resize;
    touch-action: none;
  }
  [role='slider']::after {
    content: '';
    position: absolute;
    inset: 30% 45%;
    background: var(--live-accent-text-color,#fff);
    border-radius: 1px;
  }
  [part~='start'] {
    left: var(--_start);
  }
  [part~='end'] {
    left: var(--_end);
  }
  [role='slider']:focus-visible {
    outline: 3px solid var(--live-focus-color,#1a56db);
    outline-offset: 2px;
  }
  [part='times'] {
    display: flex;
    flex-wrap: wrap;
    justify-content: space-between;
    gap: 0.25rem 1rem;
    margin: 0;
    font-variant-numeric: tabular-nums;
  }
  [part='length'] {
    font-weight: 600;
  }
`;
