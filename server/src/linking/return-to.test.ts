import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedReturnTo, parseReturnToOrigins } from './return-to.js';

const ORIGINS = parseReturnToOrigins(['https://ok.example', 'http://localhost:8080/']);

describe('return_to allowlist', () => {
  it('accepts exact origins with any path and query, dropping the fragment', () => {
    assert.equal(allowedReturnTo('https://ok.example/settings?tab=links#top', ORIGINS)?.toString(), 'https://ok.example/settings?tab=links');
    assert.equal(allowedReturnTo('https://ok.example', ORIGINS)?.toString(), 'https://ok.example/');
    assert.equal(allowedReturnTo('http://localhost:8080/x', ORIGINS)?.origin, 'http://localhost:8080');
  });

  it('refuses everything else', () => {
    for (const hostile of [
      '',
      '/path',
      '//evil.example',
      '//ok.example/',
      'https://ok.example.evil/',
      'https://ok.example.evil.example/',
      'https://evil.example/https://ok.example/',
      'https://ok.example@evil.example/',
      'https://evil.example@ok.example/',
      'https://user:pw@ok.example/',
      'https://ok.example:443@evil.example/',
      'https:ok.example/',
      'https:/ok.example/',
      'https:\\\\ok.example',
      'https://ok.example\\@evil.example',
      'https://ok.example\t/',
      'https://ok.example\n.evil/',
      'http://ok.example/',
      'https://ok.example:8443/',
      'http://localhost:8081/',
      'http://localhost/',
      'http://LOCALHOST:8080/',
      'javascript://ok.example/%0aalert(1)',
      'ftp://ok.example/',
      `https://ok.example/${'x'.repeat(2100)}`,
    ]) {
      assert.equal(allowedReturnTo(hostile, ORIGINS), undefined, JSON.stringify(hostile));
    }
  });

  it('refuses configured entries that are not bare origins', () => {
    for (const bad of ['ok.example', 'https://ok.example/path', 'https://u@ok.example', 'ftp://ok.example', '*']) {
      assert.throws(() => parseReturnToOrigins([bad]), /must be a bare origin/, bad);
    }
  });
});
