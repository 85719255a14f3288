/** The version of the canonical live metadata this package defines. */
export const SCHEMA_VERSION = '2026-01-1' as const;
export type SchemaVersion = typeof SCHEMA_VERSION;
