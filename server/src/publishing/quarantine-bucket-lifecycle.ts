import { PutBucketLifecycleConfigurationCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { Logger } from '../observability/index.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The rule's id in the bucket's lifecycle configuration (a bucket has one configuration: ours replaces what was there). */
export const QUARANTINE_LIFECYCLE_RULE_ID = 'live-upload-quarantine-backstop';

export interface QuarantineBucketLifecycleOptions {
  readonly s3ClientConfig: S3ClientConfig;
  readonly bucket: string;
  /** Config `QUARANTINE_TTL_MS`. */
  readonly ttlMs: number;
  /** Config `UPLOAD_INCOMPLETE_TTL_MS`. */
  readonly incompleteTtlMs: number;
  readonly logger: Logger;
}

/** What the rule's days are, from the TTLs. */
export function quarantineLifecycleDays(ttlMs: number, incompleteTtlMs: number): { expirationDays: number; abortIncompleteDays: number } {
  return {
    // The sweeper deletes (and audits) an upload at creation + TTL, or a rejected one at rejection + TTL,
    // and a rejection comes before creation + TTL: nothing of ours stays past creation + 2 TTL.
    expirationDays: Math.ceil((2 * ttlMs) / DAY_MS) + 1,
    abortIncompleteDays: Math.ceil(incompleteTtlMs / DAY_MS) + 1,
  };
}

/**
 * Puts a lifecycle rule on the quarantine bucket where the S3 server has them: a backstop
 * behind the lifecycle sweeper, which stays the one that deletes on time and audits each
 * deletion (`quarantine.deleted`). The rule expires objects a day after the sweeper would have
 * deleted them at the latest, and aborts multipart uploads (an incomplete tus upload's parts) a
 * day after the incomplete-upload TTL, so a bucket whose replicas are all gone, or parts no
 * abort reached, do not keep quarantined bytes for ever. Rules count whole days, hence the
 * rounding up. A server without lifecycle rules (s3rver answers 501) is logged and left to the
 * sweep; so is one that refuses us (no `s3:PutLifecycleConfiguration` permission).
 */
export async function applyQuarantineBucketLifecycle(options: QuarantineBucketLifecycleOptions): Promise<'applied' | 'unsupported' | 'refused'> {
  const { bucket, logger } = options;
  const days = quarantineLifecycleDays(options.ttlMs, options.incompleteTtlMs);
  const client = new S3Client(options.s3ClientConfig);
  try {
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: QUARANTINE_LIFECYCLE_RULE_ID,
              Status: 'Enabled',
              Filter: { Prefix: '' },
              Expiration: { Days: days.expirationDays },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: days.abortIncompleteDays },
            },
          ],
        },
      }),
    );
    logger.info({ bucket, ...days }, 'quarantine bucket lifecycle rule set (a backstop behind the sweeper)');
    return 'applied';
  } catch (error) {
    const name = (error as { name?: string }).name;
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (name === 'NotImplemented' || status === 501) {
      logger.info({ bucket }, 'the S3 server has no bucket lifecycle rules: the lifecycle sweeper alone deletes the quarantine after its TTL');
      return 'unsupported';
    }
    if (name === 'AccessDenied' || status === 403) {
      logger.warn({ bucket }, 'not allowed to set the quarantine bucket lifecycle rule (s3:PutLifecycleConfiguration): the lifecycle sweeper alone deletes the quarantine after its TTL');
      return 'refused';
    }
    throw error;
  } finally {
    client.destroy();
  }
}
