import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoDuration, replayJsonLd } from './replay-json-ld.js';

describe('replay JSON-LD', () => {
  it('writes durations as ISO 8601 PT#H#M#S, zero parts left out, whole seconds', () => {
    assert.equal(isoDuration(0), 'PT0S');
    assert.equal(isoDuration(0.4), 'PT0S');
    assert.equal(isoDuration(59.6), 'PT1M');
    assert.equal(isoDuration(61), 'PT1M1S');
    assert.equal(isoDuration(3600), 'PT1H');
    assert.equal(isoDuration(3_725.4), 'PT1H2M5S');
    assert.equal(isoDuration(90_000), 'PT25H');
    assert.equal(isoDuration(-5), 'PT0S');
  });

  it('leaves out thumbnail and duration when unknown', () => {
    assert.deepEqual(replayJsonLd({ name: 'n', description: 'd', uploadDate: '2026-01-01T00:00:00.000Z', contentUrl: 'https://x/m.m3u8' }), {
      '@context': 'https://schema.org',
      '@type': 'VideoObject',
      name: 'n',
      description: 'd',
      uploadDate: '2026-01-01T00:00:00.000Z',
      contentUrl: 'https://x/m.m3u8',
    });
  });
});
