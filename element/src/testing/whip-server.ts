import { executeServerCommand } from '@web/test-runner-commands';

/** What the origin did with one WHIP session: its signals to the pipeline and the ladder files its HLS sink got. */
export interface WhipSessionReport {
  readonly online: number;
  readonly offline: number;
  readonly files: readonly string[];
}

/**
 * The real server with our origin (test/support/whip-test-server.ts), booted by
 * `element/web-test-runner.config.mjs` on first use. `url()` is null while that module is not
 * in the tree: the tests that need it are pending then.
 */
export const whipServer = {
  url: () => executeServerCommand<string | null, undefined>('whip-server-url'),
  /** A publisher grant's token, as the host page's backend gets it (admin API; `go-live` unless told otherwise). */
  grant: (options: { channel?: string; capabilities?: string[] } = {}) => executeServerCommand<string, { channel?: string; capabilities?: string[] }>('whip-grant', options),
  /** Creates `channel` ({publisher}/{slug}) on that server, open to uploads, with no provider. */
  createChannel: (channel: string) => executeServerCommand<boolean, { channel: string }>('whip-create-channel', { channel }),
  /** Ends a session from the server's side (works while the page is offline): the DELETE's status. */
  endSession: (sessionId: string) => executeServerCommand<number, { sessionId: string }>('whip-end-session', { sessionId }),
  session: (sessionId: string) => executeServerCommand<WhipSessionReport, { sessionId: string }>('whip-session', { sessionId }),
};

/** The session id at the end of a WHIP `Location` (`/api/v1/whip/sessions/{id}`). */
export function whipSessionId(sessionUrl: string): string {
  return new URL(sessionUrl).pathname.split('/').at(-1) ?? '';
}
