import { AUDIT_ACTIONS, type AuditAction } from '../audit/index.js';

/** Audit actions of linking, each with `details.link` naming what happened. */
export const LINK_AUDIT = {
  linked: { action: AUDIT_ACTIONS.providerLinked, link: 'linked' },
  unlinked: { action: AUDIT_ACTIONS.providerUnlinked, link: 'unlinked' },
  needsReauth: { action: AUDIT_ACTIONS.providerNeedsReauth, link: 'needs_reauth' },
} as const satisfies Record<string, { action: AuditAction; link: string }>;

/** Who the audit trail names: the admin token holder, the publisher at the provider, or the refresher. */
export const LINK_ACTORS = { admin: 'admin', publisher: 'publisher', refresher: 'token-refresher' } as const;
