import type { Logger } from '../observability/index.js';

/** What middleware puts on `ctx.state`. */
export interface AppState {
  requestId: string;
  log: Logger;
  /** Set by routes that should not write an access-log line (health probes, metrics). */
  quiet?: boolean;
}
