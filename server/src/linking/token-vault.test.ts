import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { TokenVault, TokenVaultError, parseKeyRing, type SealContext } from './token-vault.js';

const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64url');
const context: SealContext = { provider: 'twitch', accountId: '31', field: 'access_token' };

/** Flips one bit of byte `index` in base64url part `part` (2 = iv, 3 = ciphertext, 4 = tag). */
function flip(sealed: string, part: number, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[index] = bytes[index]! ^ 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('token vault', () => {
  it('round-trips a token and seals it differently each time', () => {
    const vault = TokenVault.fromKeyRing(`k1:${keyA}`);
    const first = vault.seal('secret-token-1', context);
    const second = vault.seal('secret-token-1', context);
    assert.notEqual(first, second, 'a fresh IV per seal');
    assert.ok(!first.includes('secret'), 'no plaintext in the sealed value');
    assert.match(first, /^v1\.k1\./);
    assert.equal(vault.open(first, context), 'secret-token-1');
    assert.equal(vault.open(vault.seal('', context), context), '');
    assert.equal(vault.open(vault.seal('ünïcødé ✓', context), context), 'ünïcødé ✓');
  });

  it('refuses every single-bit change of the IV, ciphertext and tag', () => {
    const vault = TokenVault.fromKeyRing(`k1:${keyA}`);
    const sealed = vault.seal('a-token-value', context);
    for (const part of [2, 3, 4]) {
      const length = Buffer.from(sealed.split('.')[part]!, 'base64url').length;
      for (let index = 0; index < length; index++) {
        assert.throws(() => vault.open(flip(sealed, part, index), context), TokenVaultError, `part ${part} byte ${index}`);
      }
    }
    // Truncation and junk are malformed, not crashes.
    for (const bad of ['', 'v1', sealed.slice(0, -3), `${sealed}.x`, sealed.replace(/^v1/, 'v2'), sealed.replace('.', '..'), 'v1.k1.!!!.x.y']) {
      assert.throws(() => vault.open(bad, context), TokenVaultError, bad);
    }
  });

  it('refuses a ciphertext moved to another record or field', () => {
    const vault = TokenVault.fromKeyRing(`k1:${keyA}`);
    const sealed = vault.seal('a-token-value', context);
    for (const other of [
      { ...context, accountId: '32' },
      { ...context, provider: 'youtube' },
      { ...context, field: 'refresh_token' },
    ]) {
      assert.throws(() => vault.open(sealed, other), /failed authentication/);
    }
  });

  it('names an unknown key id clearly', () => {
    const sealed = TokenVault.fromKeyRing(`old:${keyA}`).seal('x', context);
    assert.throws(() => TokenVault.fromKeyRing(`new:${keyB}`).open(sealed, context), /unknown key id "old"/);
  });

  it('rotates: the first key seals, older keys still open, reseal moves a value to the current key', () => {
    const before = TokenVault.fromKeyRing(`k1:${keyA}`);
    const sealed = before.seal('rotating-token', context);
    const after = TokenVault.fromKeyRing(`k2:${keyB},k1:${keyA}`);
    assert.equal(after.open(sealed, context), 'rotating-token');
    assert.equal(after.needsReseal(sealed), true);
    const resealed = after.reseal(sealed, context);
    assert.equal(after.keyIdOf(resealed), 'k2');
    assert.equal(after.needsReseal(resealed), false);
    assert.equal(after.reseal(resealed, context), resealed, 'already current: unchanged');
    assert.equal(TokenVault.fromKeyRing(`k2:${keyB}`).open(resealed, context), 'rotating-token', 'the old key can be dropped');
    assert.throws(() => after.reseal(flip(sealed, 3, 0), context), TokenVaultError, 'reseal authenticates too');
  });

  it('refuses bad key rings with the problem named', () => {
    for (const [spec, message] of [
      ['', /key id/],
      ['k1', /key id/],
      [`k 1:${keyA}`, /key id/],
      [`k1:${randomBytes(16).toString('base64')}`, /32 bytes, got 16/],
      ['k1:not*base64', /not base64/],
      [`k1:${keyA},k1:${keyB}`, /given twice/],
    ] as const) {
      assert.throws(() => parseKeyRing(spec), message, spec);
    }
    assert.equal(parseKeyRing(`a:${keyA}, b:${keyB}`).length, 2);
  });
});
