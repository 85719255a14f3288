import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { buildElement } from '../../element/scripts/build.js';
import { buildDemo } from '../../scripts/build.js';

/** The system Chromium. Tests never download a browser. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'];

/**
 * Launches the system Chromium, headless. Playwright kills it if the test process exits
 * without `close()`; callers still close it in an `after` hook.
 */
export async function launchChromium(): Promise<Browser> {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: the end-to-end tests drive the system Chromium and never download one; ` +
        'install it (`apt-get install chromium`) or set CHROMIUM_PATH to a Chromium or Chrome binary',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Makes `element/dist` and `demo/dist` (what the server serves to browsers: the badge bundles,
 * `demo.js` and `moderation.js`) match the current source, the way `npm run build` would: everything is built in memory and a file is written
 * only when its bytes differ, through a temporary file and a rename, so a test file running in
 * parallel never reads half a file. Returns the badge bundle for pages served elsewhere.
 */
export async function ensureBrowserBundles(): Promise<{ liveBadgeJs: Uint8Array }> {
  const [element, demo] = await Promise.all([
    buildElement({ write: false }),
    buildDemo({ write: false }),
  ]);
  const outputs = new Map<string, Uint8Array>([
    ...[...element.files].map(([name, contents]) => [join(root, 'element/dist', name), contents] as const),
    ...demo.outputFiles.map((file) => [file.path, file.contents] as const),
  ]);
  await Promise.all([...outputs].map(([path, contents]) => writeIfChanged(path, contents)));
  const liveBadgeJs = element.files.get('live-badge.js');
  if (!liveBadgeJs) throw new Error('the element build produced no live-badge.js');
  return { liveBadgeJs };
}

async function writeIfChanged(path: string, contents: Uint8Array): Promise<void> {
  const existing = await readFile(path).catch(() => undefined);
  if (existing && Buffer.compare(existing, contents) === 0) return;
  await mkdir(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  try {
    await writeFile(temporary, contents);
    await rename(temporary, path);
  } finally {
    await rm(temporary, { force: true });
  }
}
