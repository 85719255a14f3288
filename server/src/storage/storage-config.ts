/**
 * Where the quarantine and the published media live, as configuration chose it: local
 * directories (the embedded default: one process, `npm start`) or two buckets of an
 * S3-compatible store shared by every replica of a fleet. The quarantine is never served: on
 * S3 it is its own bucket, which no public route maps to. S3 credentials are not configuration:
 * the AWS SDK's default chain finds them (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` in the
 * environment, a mounted profile, an instance role), so no secret sits in a URL or a file of ours.
 */
export type StorageConfig =
  | {
      readonly kind: 'filesystem';
      readonly quarantineDir: string;
      readonly mediaDir: string;
    }
  | {
      readonly kind: 's3';
      /** `http(s)://host:port` of an S3-compatible server; undefined for AWS itself. */
      readonly endpoint?: string;
      readonly region: string;
      /** `http://host/bucket/key` addressing (most self-hosted servers) instead of `http://bucket.host/key`. */
      readonly forcePathStyle: boolean;
      readonly quarantineBucket: string;
      readonly mediaBucket: string;
    };
