import '../live-badge/live-badge.js';
import { LiveUpload } from './live-upload.component.js';

export { LiveUpload };

// Guarded: a page that loads the bundle twice (or two versions) keeps the first definition.
if (!customElements.get('live-upload')) customElements.define('live-upload', LiveUpload);

declare global {
  interface HTMLElementTagNameMap {
    'live-upload': LiveUpload;
  }
}
