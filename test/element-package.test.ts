/**
 * What `@live-upload/element` ships besides its bundles: TypeScript declarations where its
 * package.json says, and a Custom Elements Manifest describing both elements' attributes and
 * events. Both are generated from the sources by the build (`npm run build`).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { buildCustomElementsManifest, buildElementTypes } from '../element/scripts/build.js';

const elementDir = fileURLToPath(new URL('../element/', import.meta.url));

interface ManifestDeclaration {
  readonly tagName?: string;
  readonly attributes?: ReadonlyArray<{ name: string }>;
  readonly events?: ReadonlyArray<{ name: string }>;
}

describe('the element package', () => {
  let manifest: { modules: Array<{ declarations?: ManifestDeclaration[] }> };
  let declarations: string;
  let pkg: { types: string; customElements: string; exports: Record<string, unknown> };

  before(async () => {
    const [manifestPath, typesPath] = await Promise.all([buildCustomElementsManifest(), buildElementTypes()]);
    manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    declarations = await readFile(typesPath, 'utf8');
    pkg = JSON.parse(await readFile(join(elementDir, 'package.json'), 'utf8'));
  });

  it('ships type declarations where package.json points, exporting the elements and typed events', async () => {
    assert.equal(join(elementDir, pkg.types), join(elementDir, 'dist/types/index.d.ts'));
    for (const name of ['LiveBadge', 'LiveUpload', 'LiveEventMap', 'LiveClipReadyDetail', 'LiveUploadProgressDetail', 'LiveUploadCompleteDetail', 'LiveErrorDetail']) {
      assert.match(declarations, new RegExp(`\\b${name}\\b`), name);
    }
    const component = await readFile(join(elementDir, 'dist/types/live-upload/live-upload.component.d.ts'), 'utf8');
    assert.match(component, /class LiveUpload\w* extends/);
    assert.doesNotMatch(component, /from '\.\.\/testing\//, 'test helpers are not part of the public types');
  });

  it('describes both elements in the Custom Elements Manifest: attributes and events', () => {
    const byTag = new Map(manifest.modules.flatMap((module) => module.declarations ?? []).filter((d) => d.tagName).map((d) => [d.tagName!, d]));
    const badge = byTag.get('live-badge');
    const upload = byTag.get('live-upload');
    assert.ok(badge && upload, 'both custom elements are declared');
    const names = (list: ReadonlyArray<{ name: string }> | undefined) => new Set((list ?? []).map((entry) => entry.name));
    for (const attribute of ['channel', 'endpoint']) assert.ok(names(badge.attributes).has(attribute), `live-badge ${attribute}`);
    for (const attribute of ['channel', 'endpoint', 'clip-seconds', 'no-clip', 'no-record', 'no-upload']) assert.ok(names(upload.attributes).has(attribute), `live-upload ${attribute}`);
    for (const event of ['live-clip-ready', 'live-upload-progress', 'live-upload-complete', 'live-error']) assert.ok(names(upload.events).has(event), `live-upload ${event}`);
    assert.equal(pkg.customElements, 'dist/custom-elements.json');
  });
});
