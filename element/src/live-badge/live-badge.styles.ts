import { css } from '@lit/reactive-element';

// Minified at build time (element/scripts/build.ts). Inside var() fallbacks the minifier keeps
// whitespace as written, hence no space after those commas.
export const liveBadgeStyles = css`
  :host {
    --_color: var(--live-offline-color,#5f6368);
    display: inline-block;
    font: var(--live-font,600 0.8125rem/1.25 system-ui,sans-serif);
    color: var(--live-text-color,inherit);
    white-space: nowrap;
  }
  :host([hidden]) {
    display: none;
  }
  :host([status='live']) {
    --_color: var(--live-live-color,#e5133a);
  }
  :host([status='scheduled']) {
    --_color: var(--live-scheduled-color,#5b4ae6);
  }
  [part='base'],
  [part='label'] {
    display: inline-flex;
    align-items: center;
    gap: 0.4em;
    max-width: 100%;
  }
  [part='label'] {
    padding: 0.2em 0.5em;
    border-radius: var(--live-radius,0.25em);
    background: var(--_color);
    color: var(--live-label-color,#fff);
    text-transform: uppercase;
  }
  [part='dot'] {
    flex: none;
    width: 0.5em;
    height: 0.5em;
    border-radius: 50%;
    background: currentColor;
  }
  [part='title'] {
    overflow: hidden;
    text-overflow: ellipsis;
  }
  [part='title']:empty,
  [part='viewers']:empty {
    display: none;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
  }
  @media (prefers-reduced-motion: no-preference) {
    :host([status='live']) [part='dot'] {
      animation: live-pulse var(--live-pulse-duration,1.6s) infinite;
    }
  }
  @keyframes live-pulse {
    50% {
      opacity: 0.25;
    }
  }
`;
