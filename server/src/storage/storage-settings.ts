import type { StorageConfig } from './storage-config.js';

/** The environment variables that choose the storage, as `loadConfig` hands them over (trimmed, empty as undefined). */
export interface StorageSettings {
  readonly STORAGE_URL?: string | undefined;
  readonly STORAGE_QUARANTINE_BUCKET?: string | undefined;
  readonly STORAGE_MEDIA_BUCKET?: string | undefined;
  readonly STORAGE_REGION?: string | undefined;
  readonly STORAGE_PATH_STYLE?: boolean | undefined;
}

/** One storage variable that cannot be used; `loadConfig` turns it into its `ConfigError`. */
export class InvalidStorageSetting extends Error {
  constructor(
    readonly variable: keyof StorageSettings,
    problem: string,
  ) {
    super(problem);
    this.name = 'InvalidStorageSetting';
  }
}

/** The region a bucket of an S3-compatible server is in when nobody says (what most of them answer to). */
export const DEFAULT_S3_REGION = 'us-east-1';

/** S3's bucket naming rules: 3-63 lowercase letters, digits, dots and hyphens, a letter or digit at each end. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$/;

/**
 * The storage the environment chooses.
 *
 * - `STORAGE_URL` unset: the local file system, `QUARANTINE_DIR` and `MEDIA_DIR` (one process,
 *   `npm start`).
 * - `STORAGE_URL=http(s)://host:port`: an S3-compatible server there (MinIO, Ceph, Garage, R2...),
 *   path-style addressing unless `STORAGE_PATH_STYLE=0`.
 * - `STORAGE_URL=s3://`: Amazon S3 itself in `STORAGE_REGION`, virtual-hosted addressing.
 *
 * With either S3 form, `STORAGE_QUARANTINE_BUCKET` and `STORAGE_MEDIA_BUCKET` name two different
 * buckets (the quarantine is never served, so it never shares the media's bucket), and
 * `STORAGE_REGION` defaults to us-east-1. Credentials never come from here: a URL with a user or
 * password is refused, and the AWS SDK's default chain finds them (`AWS_ACCESS_KEY_ID` and
 * `AWS_SECRET_ACCESS_KEY`, a profile, an instance or pod role).
 */
export function storageConfigFrom(settings: StorageSettings, directories: { quarantineDir: string; mediaDir: string }): StorageConfig {
  if (settings.STORAGE_URL === undefined) {
    for (const variable of ['STORAGE_QUARANTINE_BUCKET', 'STORAGE_MEDIA_BUCKET', 'STORAGE_REGION', 'STORAGE_PATH_STYLE'] as const) {
      if (settings[variable] !== undefined) throw new InvalidStorageSetting(variable, 'only applies with STORAGE_URL (S3-compatible storage); without it the file system is used');
    }
    return { kind: 'filesystem', quarantineDir: directories.quarantineDir, mediaDir: directories.mediaDir };
  }
  const endpoint = endpointOf(settings.STORAGE_URL);
  const quarantineBucket = bucketName('STORAGE_QUARANTINE_BUCKET', settings.STORAGE_QUARANTINE_BUCKET);
  const mediaBucket = bucketName('STORAGE_MEDIA_BUCKET', settings.STORAGE_MEDIA_BUCKET);
  if (quarantineBucket === mediaBucket) {
    throw new InvalidStorageSetting('STORAGE_MEDIA_BUCKET', 'must differ from STORAGE_QUARANTINE_BUCKET: the media bucket is served, the quarantine never is');
  }
  const region = settings.STORAGE_REGION ?? DEFAULT_S3_REGION;
  if (!REGION.test(region)) throw new InvalidStorageSetting('STORAGE_REGION', 'must be a region name such as us-east-1 or eu-central-1');
  return {
    kind: 's3',
    ...(endpoint ? { endpoint } : {}),
    region,
    forcePathStyle: settings.STORAGE_PATH_STYLE ?? endpoint !== undefined,
    quarantineBucket,
    mediaBucket,
  };
}

/** The endpoint of `STORAGE_URL` (`http(s)://host[:port]`), or undefined for `s3://` (AWS). */
function endpointOf(value: string): string | undefined {
  const refuse = (problem: string) => new InvalidStorageSetting('STORAGE_URL', problem);
  if (value === 's3://') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse('must be http(s)://host[:port] of an S3-compatible server, or s3:// for Amazon S3');
  }
  if (url.username !== '' || url.password !== '') {
    throw refuse('must not hold credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or use a profile or role) instead');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw refuse('must be http(s)://host[:port] of an S3-compatible server, or s3:// for Amazon S3');
  }
  if (url.hostname === '') throw refuse('must name a host');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw refuse('must be only a scheme, host and port: the buckets are STORAGE_QUARANTINE_BUCKET and STORAGE_MEDIA_BUCKET');
  }
  return url.origin;
}

function bucketName(variable: 'STORAGE_QUARANTINE_BUCKET' | 'STORAGE_MEDIA_BUCKET', value: string | undefined): string {
  if (value === undefined) throw new InvalidStorageSetting(variable, 'is required with STORAGE_URL');
  if (!BUCKET_NAME.test(value) || value.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(value)) {
    throw new InvalidStorageSetting(variable, 'must be an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens');
  }
  return value;
}
