import { LiveBadge } from './live-badge.component.js';

export { LiveBadge };

// Guarded: a page that loads the bundle twice (or two versions) keeps the first definition.
if (!customElements.get('live-badge')) customElements.define('live-badge', LiveBadge);

declare global {
  interface HTMLElementTagNameMap {
    'live-badge': LiveBadge;
  }
}
