import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';

/**
 * Lays out what the image's runtime stage copies to `/app`, from a tree where `npm ci` and
 * `npm run build` ran: the server and the schema package compiled to JavaScript file by file
 * (same paths, `.js` for `.ts`, so `import.meta.url` paths such as the element bundles'
 * still resolve; no tsx, no esbuild at run time), the browser bundles of `element/dist`, the
 * FFmpeg.wasm cores the server serves, and the server's production dependencies installed by
 * `npm ci --omit=dev` from the lockfile. Nothing under test/, no dev dependency, no secret.
 *
 * The Dockerfile runs it in its build stage (where npm can reach the registry); on machines
 * whose container builds cannot, it runs on the host and the build copies its output
 * (`dist/container/app`, or the directory given as the first argument) instead.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const execFileAsync = promisify(execFile);

/** The workspaces the lockfile names: npm ci needs each one's manifest, even those it installs nothing for. */
const WORKSPACES = ['packages/schema', 'server', 'element', 'demo', 'test', 'bench'];

/** Source trees the running server imports, compiled file by file. */
const COMPILED_SOURCES = ['server/src', 'packages/schema/src'];

/** The FFmpeg.wasm core packages `/element/ffmpeg/core*` serves, and the part of each the server resolves (its ESM exports). */
const FFMPEG_CORES = [
  { name: '@ffmpeg/core', files: 'dist/esm' },
  { name: '@ffmpeg/core-mt', files: 'dist/esm' },
];

async function sourceFiles(directory: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) found.push(...(await sourceFiles(path)));
    // Tests and the contract suites they share are not part of the running server.
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.contract.ts') && !entry.name.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

/**
 * Files of installed packages that Node never loads: type declarations, TypeScript sources some
 * packages ship beside their JavaScript, and source maps. About 60 % of the files of the
 * production install; leaving them out makes every copy and removal of the image's /app layer
 * that much faster. Symbolic links (the workspaces' own packages) are not followed.
 */
const NEVER_LOADED = /\.(?:[cm]?ts|map)$/;

/** Deletes NEVER_LOADED files under every `node_modules` of `directory`; returns how many. */
async function pruneNodeModules(directory: string, inside = false): Promise<number> {
  let count = 0;
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) count += await pruneNodeModules(path, inside || entry.name === 'node_modules');
    else if (inside && entry.isFile() && NEVER_LOADED.test(entry.name)) {
      await rm(path);
      count += 1;
    }
  }
  return count;
}

/** Names the production install in `node_modules` by the manifests it came from. */
const INSTALL_KEY_FILE = '.live-upload-install-key';

/** A digest of what `npm ci` installs from: the lockfile and every workspace's manifest. */
async function installKey(): Promise<string> {
  const hash = createHash('sha256');
  for (const manifest of ['package-lock.json', ...WORKSPACES.map((workspace) => `${workspace}/package.json`)]) hash.update(await readFile(join(root, manifest)));
  return hash.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Builds the app tree in `out` (emptied first, but for an unchanged production install), saying on stderr how long each part took. */
export async function prepareApp(out: string): Promise<void> {
  const elementDist = join(root, 'element/dist');
  if (!(await exists(join(elementDist, 'live-upload.js')))) {
    throw new Error(`${relative(root, elementDist)}/live-upload.js is missing: run \`npm run build\` first`);
  }
  // The production install is the slow part (tens of seconds): kept from the last run while the
  // lockfile and the workspace manifests are the same; everything else is laid out afresh.
  const key = await installKey();
  const keyFile = join(out, 'node_modules', INSTALL_KEY_FILE);
  const keepInstall = (await readFile(keyFile, 'utf8').catch(() => '')) === key;
  // (npm nests a workspace's own copy of a package under <workspace>/node_modules: kept too.)
  const generated = keepInstall ? [...COMPILED_SOURCES, 'element/dist'].map((path) => join(out, path)) : [out];
  for (const path of generated) await rm(path, { recursive: true, force: true });
  await mkdir(out, { recursive: true });

  const step = async (name: string, run: () => Promise<void>) => {
    const started = performance.now();
    await run();
    process.stderr.write(`prepare-app: ${name} (${Math.round(performance.now() - started)} ms)\n`);
  };

  await step('manifests', async () => {
    await cp(join(root, 'package.json'), join(out, 'package.json'));
    await cp(join(root, 'package-lock.json'), join(out, 'package-lock.json'));
    for (const workspace of WORKSPACES) {
      const manifest = JSON.parse(await readFile(join(root, workspace, 'package.json'), 'utf8')) as { exports?: unknown };
      // The compiled tree has `.js` where the sources have `.ts`: point the package entries there.
      if (workspace === 'packages/schema' || workspace === 'server') manifest.exports = JSON.parse(JSON.stringify(manifest.exports).replaceAll('.ts"', '.js"'));
      await mkdir(join(out, workspace), { recursive: true });
      await writeFile(join(out, workspace, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    }
  });

  await step(keepInstall ? 'production dependencies (unchanged lockfile: kept)' : 'production dependencies (npm ci --omit=dev --workspace server)', async () => {
    if (keepInstall) return;
    await execFileAsync('npm', ['ci', '--omit=dev', '--workspace', 'server', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: out,
      maxBuffer: 16 * 1024 * 1024,
    });
    await writeFile(keyFile, key);
    const pruned = await pruneNodeModules(out);
    process.stderr.write(`prepare-app: ${pruned} type declarations, TypeScript sources and source maps of dependencies left out\n`);
  });

  await step('server and schema compiled to JavaScript', async () => {
    const entryPoints = (await Promise.all(COMPILED_SOURCES.map((directory) => sourceFiles(join(root, directory))))).flat();
    await build({
      entryPoints,
      outbase: root,
      outdir: out,
      bundle: false,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'linked',
      logLevel: 'warning',
    });
  });

  await step('browser bundles and FFmpeg.wasm cores', async () => {
    // The type declarations are for the npm package, not served.
    await cp(elementDist, join(out, 'element/dist'), { recursive: true, filter: (source) => relative(elementDist, source) !== 'types' });
    // The audience page's browser modules and stylesheet are served as they are, not compiled (uPlot comes with the install).
    const audiencePageClient = join(root, 'server/src/audience-page/client');
    await cp(audiencePageClient, join(out, 'server/src/audience-page/client'), { recursive: true, filter: (source) => !source.endsWith('.d.ts') });
    for (const core of FFMPEG_CORES) {
      const from = join(root, 'node_modules', core.name);
      const to = join(out, 'node_modules', core.name);
      await mkdir(to, { recursive: true });
      await cp(join(from, 'package.json'), join(to, 'package.json'));
      await cp(join(from, core.files), join(to, core.files), { recursive: true });
    }
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = process.argv[2] ?? join(root, 'dist/container/app');
  await prepareApp(out);
  process.stderr.write(`prepare-app: ${out} is ready\n`);
}
