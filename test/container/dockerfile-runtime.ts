import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** What the Dockerfile's last stage says the container runs: its command, environment, user and working directory. */
export interface RuntimeContract {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly user: string;
  readonly workdir: string;
  readonly healthcheck: readonly string[];
  readonly stopSignal: string;
}

/**
 * Reads the runtime contract from the repository's Dockerfile, so a test that cannot build the
 * image runs the same command with the same environment as the image would. Understands the
 * forms the Dockerfile uses: exec-form CMD and HEALTHCHECK, `ENV KEY=value` with line continuations.
 */
export async function readRuntimeContract(): Promise<RuntimeContract> {
  const text = await readFile(fileURLToPath(new URL('../../Dockerfile', import.meta.url)), 'utf8');
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const lastFrom = instructions.findLastIndex((line) => /^FROM\s/i.test(line));
  const stage = instructions.slice(lastFrom + 1);
  const argument = (keyword: string) => stage.findLast((line) => line.toUpperCase().startsWith(`${keyword} `))?.slice(keyword.length + 1).trim();
  const env: Record<string, string> = {};
  for (const line of stage.filter((candidate) => /^ENV\s/i.test(candidate))) {
    for (const match of line.slice(4).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) env[match[1]!] = match[2]!.replace(/^"|"$/g, '');
  }
  const exec = (value: string | undefined, what: string): string[] => {
    const json = value?.replace(/^.*?(\[.*\])$/, '$1');
    if (!json?.startsWith('[')) throw new Error(`the Dockerfile's runtime stage has no exec-form ${what}`);
    return JSON.parse(json) as string[];
  };
  return {
    command: exec(argument('CMD'), 'CMD'),
    env,
    user: argument('USER') ?? 'root',
    workdir: argument('WORKDIR') ?? '/',
    healthcheck: exec(argument('HEALTHCHECK'), 'HEALTHCHECK'),
    stopSignal: argument('STOPSIGNAL') ?? 'SIGTERM',
  };
}
