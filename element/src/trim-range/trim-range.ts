import { LiveTrimRange } from './trim-range.component.js';

export { LiveTrimRange };

// Guarded: a page that loads the bundle twice (or two versions) keeps the first definition.
if (!customElements.get('live-trim-range')) customElements.define('live-trim-range', LiveTrimRange);

declare global {
  interface HTMLElementTagNameMap {
    'live-trim-range': LiveTrimRange;
  }
}
