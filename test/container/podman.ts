import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The podman settings this repository's machines need (runc instead of crun, ulimits below the
 * host's hard limits), unless the caller chose a containers.conf of their own.
 */
const CONTAINERS_CONF = process.env['CONTAINERS_CONF'] ?? fileURLToPath(new URL('../../deploy/containers.conf', import.meta.url));

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command from the repository root and resolves with its exit code and output (never
 * rejects on a non-zero exit: the caller says what a failure means). `progress`: also copy its
 * stderr to ours as it comes, for the steps that take minutes.
 */
export function run(command: string, args: readonly string[], options: { progress?: boolean; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, CONTAINERS_CONF }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (options.progress) process.stderr.write(chunk);
    });
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `podman ...` with this repository's containers.conf; throws with podman's own words on a non-zero exit. */
export async function podman(args: readonly string[], options: { progress?: boolean; timeoutMs?: number } = {}): Promise<string> {
  const result = await run('podman', args, options);
  if (result.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  return result.stdout.trim();
}

/** Removes what a test made, whatever state it is in; never throws (cleanup runs on every path). */
export async function removeQuietly(kind: 'container' | 'volume' | 'image', name: string): Promise<void> {
  const args = kind === 'container' ? ['rm', '--force', '--volumes', '--time', '0', name] : kind === 'volume' ? ['volume', 'rm', '--force', name] : ['rmi', '--force', name];
  await run('podman', args).catch(() => undefined);
}
