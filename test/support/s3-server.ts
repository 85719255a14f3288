import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { StorageConfig } from '../../server/src/storage/storage-config.js';

/** s3rver accepts exactly these (and checks the signature made with them). */
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';
const REGION = 'us-east-1';
const CREDENTIALS_ENV = { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY } as const;

/**
 * The AWS SDK warns once per process that its releases after January 2027 need Node 22 (the
 * image runs 22; this machine's tests run on 20). The SDK's documented switch
 * (aws/aws-sdk-js-v3#7983) keeps that one warning out of test output; nothing else is hidden.
 */
const SDK_WARNING_SWITCH = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } as const;

/** A real S3-compatible server (s3rver) on 127.0.0.1, owned by one test file. */
export interface S3ServerHandle {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly region: string;
  /** Buckets created at start: one for the quarantine, one for the media. */
  readonly quarantineBucket: string;
  readonly mediaBucket: string;
  /** For an `S3Client` in the test process (credentials included: the test's, not the server's). */
  readonly clientConfig: S3ClientConfig;
  /** What `openStorage` takes for these two buckets. */
  readonly storage: Extract<StorageConfig, { kind: 's3' }>;
  /**
   * The environment a server process (in-process `loadConfig` or a spawned `main.ts`) needs to
   * use these buckets: `STORAGE_*` and the credentials the SDK's default chain reads.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Creates one more bucket (names of 3-63 lowercase characters). */
  createBucket(name: string): Promise<void>;
  /** Closes the server and removes its directory. Final. */
  stop(): Promise<void>;
}

/** How long s3rver gets to say it listens, and to exit when asked. */
const READY_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 5_000;

let bucketCounter = 0;

/**
 * Starts s3rver on a free port with a fresh directory and creates two buckets. It runs as a
 * child of the test process (so it outlives every server process a test SIGKILLs) with Node's
 * OpenSSL legacy provider: s3rver encrypts ListObjectsV2 continuation tokens with DES, which
 * OpenSSL 3 leaves out, so without it every listing longer than one page fails with a 500.
 *
 * What s3rver does not do like S3 (the tests work around neither, they just do not ask it):
 * it writes an object in place (a reader can see part of an object being overwritten, two
 * racing writes can mix), lists by directory walk (`a-b` after `a/1`, where S3 sorts bytes),
 * gives a multipart object the MD5 of its whole content as ETag, and answers
 * PutBucketLifecycleConfiguration with 501.
 */
export async function startS3Server(): Promise<S3ServerHandle> {
  // A server started in this process (startTestServer) finds its credentials where a deployed one
  // does, through the SDK's default chain; a developer's own AWS credentials must not leak in.
  Object.assign(process.env, CREDENTIALS_ENV, SDK_WARNING_SWITCH);
  const directory = await mkdtemp(join(tmpdir(), 'live-upload-s3-'));
  let server: ChildProcess;
  let port: number;
  try {
    ({ child: server, port } = await launch(directory));
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  // A test run that dies without stop() must not leave a server behind.
  const killOnExit = (): void => {
    server.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const close = async () => {
    process.off('exit', killOnExit);
    await halt(server);
    await rm(directory, { recursive: true, force: true });
  };
  const endpoint = `http://127.0.0.1:${port}`;
  const clientConfig: S3ClientConfig = {
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
  };
  const client = new S3Client(clientConfig);
  const createBucket = async (name: string) => {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  };
  const suffix = `${process.pid.toString(36)}-${(bucketCounter++).toString(36)}`;
  const quarantineBucket = `quarantine-${suffix}`;
  const mediaBucket = `media-${suffix}`;
  try {
    await createBucket(quarantineBucket);
    await createBucket(mediaBucket);
  } catch (error) {
    client.destroy();
    await close();
    throw error;
  }

  let stopped = false;
  return {
    endpoint,
    region: REGION,
    quarantineBucket,
    mediaBucket,
    clientConfig,
    storage: { kind: 's3', endpoint, region: REGION, forcePathStyle: true, quarantineBucket, mediaBucket },
    env: {
      STORAGE_URL: endpoint,
      STORAGE_REGION: REGION,
      STORAGE_QUARANTINE_BUCKET: quarantineBucket,
      STORAGE_MEDIA_BUCKET: mediaBucket,
      ...CREDENTIALS_ENV,
      ...SDK_WARNING_SWITCH,
    },
    createBucket,
    async stop() {
      if (stopped) return;
      stopped = true;
      client.destroy();
      await close();
    },
  };
}

/**
 * Spawns s3rver's own command line (through `s3rver-main.mjs`, which makes its writes finish before
 * they are answered) on port 0 and reads the port from its "listening" line, bounded.
 */
async function launch(directory: string): Promise<{ child: ChildProcess; port: number }> {
  const cli = fileURLToPath(new URL('./s3rver-main.mjs', import.meta.url));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', cli, '--directory', directory, '--address', '127.0.0.1', '--port', '0', '--silent'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout! });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`s3rver did not start within ${READY_TIMEOUT_MS} ms: ${stderr}`)), READY_TIMEOUT_MS);
      child.once('exit', (code, signal) => reject(new Error(`s3rver exited (${code ?? signal}) before listening: ${stderr}`)));
      lines.on('line', (line) => {
        const listening = /^S3rver listening on [^\s]+:(\d+)$/.exec(line.trim());
        if (!listening) return;
        clearTimeout(timer);
        resolve(Number(listening[1]));
      });
    });
    return { child, port };
  } catch (error) {
    await halt(child);
    throw error;
  } finally {
    lines.close();
    // Whatever it writes later is read and dropped, so a full pipe never blocks it.
    child.stdout?.resume();
  }
}

async function halt(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
