import type { Badge } from './live-metadata.js';
import type { LiveStatus } from './vocabulary.js';

/** The default badge for a status; labels are translated by the element, this is the fallback. */
export function defaultBadge(status: LiveStatus): Badge {
  switch (status) {
    case 'live':
      return { label: 'LIVE', color: '#e5133a', animate: true };
    case 'scheduled':
      return { label: 'SOON', color: '#6b5cff', animate: false };
    case 'offline':
      return { label: 'OFFLINE', color: '#5f6368', animate: false };
  }
}
