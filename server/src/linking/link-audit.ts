import { AUDIT_ACTIONS, type AuditAction } from '../audit/index.js';

/**
 * Audit actions of linking. The audit table has no linking rows yet, so a link and an unlink
 * are recorded as a channel change and a refused refresh as a provider revocation, each with
 * `details.link` naming what happened. Point these at `provider.linked`, `provider.unlinked`
 * and `provider.needs_reauth` once the table has them.
 */
export const LINK_AUDIT = {
  linked: { action: AUDIT_ACTIONS.channelUpserted, link: 'linked' },
  unlinked: { action: AUDIT_ACTIONS.channelUpserted, link: 'unlinked' },
  needsReauth: { action: AUDIT_ACTIONS.providerRevoked, link: 'needs_reauth' },
} as const satisfies Record<string, { action: AuditAction; link: string }>;

/** Who the audit trail names: the admin token holder, the publisher at the provider, or the refresher. */
export const LINK_ACTORS = { admin: 'admin', publisher: 'publisher', refresher: 'token-refresher' } as const;
