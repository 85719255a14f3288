import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { elementPageCsp } from './element-page-csp.js';

const directives = (csp: string) => new Map(csp.split(';').map((part) => part.trim().split(/\s+/)).map(([name, ...sources]) => [name!, sources]));

describe('elementPageCsp', () => {
  it('allows no blob: or data: script or worker, nothing inline and no eval: FFmpeg.wasm starts from its own URL', () => {
    const csp = directives(elementPageCsp({ ourOrigin: 'https://live.example', playbackOrigin: 'https://cdn.example' }));
    assert.deepEqual(csp.get('script-src'), ["'self'", 'https://live.example']);
    assert.deepEqual(csp.get('worker-src'), ["'self'", 'https://live.example']);
    for (const name of ['script-src', 'worker-src', 'style-src', 'default-src']) {
      for (const source of csp.get(name) ?? []) assert.doesNotMatch(source, /^(blob:|data:|'unsafe-|'wasm-unsafe-eval'|\*)/, `${name} ${source}`);
    }
  });

  it('styles only from the page (the element adopts constructed stylesheets, which no style-src governs)', () => {
    assert.deepEqual(directives(elementPageCsp({})).get('style-src'), ["'none'"]);
    assert.deepEqual(directives(elementPageCsp({ styleHashes: ["'sha256-abc'"] })).get('style-src'), ["'sha256-abc'"]);
    assert.deepEqual(directives(elementPageCsp({ selfStylesheets: true })).get('style-src'), ["'self'"]);
  });

  it('plays and fetches the live HLS from its origin, previews and MSE from blob:', () => {
    const csp = directives(elementPageCsp({ ourOrigin: 'https://live.example', playbackOrigin: 'https://cdn.example' }));
    assert.deepEqual(csp.get('media-src'), ["'self'", 'https://live.example', 'https://cdn.example', 'blob:']);
    assert.deepEqual(csp.get('connect-src'), ["'self'", 'https://live.example', 'https://cdn.example']);
  });

  it('names each source once, and frames as asked', () => {
    const csp = elementPageCsp({ ourOrigin: 'https://live.example', playbackOrigin: 'https://live.example', frameAncestors: '*' });
    assert.deepEqual(directives(csp).get('connect-src'), ["'self'", 'https://live.example']);
    assert.deepEqual(directives(csp).get('frame-ancestors'), ['*']);
    assert.deepEqual(directives(elementPageCsp({})).get('frame-ancestors'), ["'self'"]);
    assert.equal(directives(csp).get('default-src')?.join(' '), "'none'");
    assert.equal(directives(csp).get('base-uri')?.join(' '), "'none'");
    assert.equal(directives(csp).get('form-action')?.join(' '), "'none'");
  });
});
