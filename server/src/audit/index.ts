export { AuditLog } from './audit-log.js';
export { AUDIT_ACTIONS, auditRecordSchema, type AuditAction, type AuditRecord } from './audit-record.js';
