import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encrypts provider credentials at rest: AES-256-GCM with a key ring. The first key seals,
 * every key opens. A sealed value is `v1.{kid}.{iv}.{ciphertext}.{tag}` (base64url parts, a
 * fresh random 96-bit IV per seal), and its AAD binds it to its record (provider, account id,
 * field), so a ciphertext copied into another record or field fails to open.
 */

const FORMAT_VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64URL_PART = /^[A-Za-z0-9_-]*$/;

/** What a sealed value belongs to; part of the AAD. */
export interface SealContext {
  readonly provider: string;
  readonly accountId: string;
  /** Which secret of the record: `access_token`, `refresh_token`, `app_password`. */
  readonly field: string;
}

/** A sealed value could not be opened, or the key ring is unusable. Never carries plaintext. */
export class TokenVaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenVaultError';
  }
}

export interface VaultKey {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * Parses `kid1:base64-32-bytes,kid2:…` (standard or url-safe base64). Throws a
 * `TokenVaultError` naming the problem (never the key bytes).
 */
export function parseKeyRing(spec: string): VaultKey[] {
  const keys: VaultKey[] = [];
  for (const [index, item] of spec.split(',').entries()) {
    const separator = item.indexOf(':');
    const id = separator < 0 ? '' : item.slice(0, separator).trim();
    const encoded = separator < 0 ? '' : item.slice(separator + 1).trim();
    if (!KEY_ID.test(id)) throw new TokenVaultError(`key ${index + 1}: expected kid:base64-key with a key id of 1-32 letters, digits, - or _`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw new TokenVaultError(`key ${id}: not base64`);
    const key = Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length !== KEY_BYTES) throw new TokenVaultError(`key ${id}: must be ${KEY_BYTES} bytes, got ${key.length}`);
    if (keys.some((existing) => existing.id === id)) throw new TokenVaultError(`key ${id}: key id given twice`);
    keys.push({ id, key });
  }
  if (keys.length === 0) throw new TokenVaultError('the key ring is empty');
  return keys;
}

function aad(kid: string, context: SealContext): Buffer {
  // JSON keeps the parts unambiguous whatever characters an account id holds.
  return Buffer.from(JSON.stringify([FORMAT_VERSION, kid, context.provider, context.accountId, context.field]), 'utf8');
}

export class TokenVault {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly current: VaultKey;

  constructor(keyRing: readonly VaultKey[]) {
    const [current] = keyRing;
    if (!current) throw new TokenVaultError('the key ring is empty');
    this.current = current;
    this.keys = new Map(keyRing.map(({ id, key }) => [id, key]));
  }

  static fromKeyRing(spec: string): TokenVault {
    return new TokenVault(parseKeyRing(spec));
  }

  /** The key id new seals use. */
  get currentKeyId(): string {
    return this.current.id;
  }

  seal(plaintext: string, context: SealContext): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(this.current.id, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [FORMAT_VERSION, this.current.id, iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join('.');
  }

  open(sealed: string, context: SealContext): string {
    const { kid, iv, ciphertext, tag } = parseSealed(sealed);
    const key = this.keys.get(kid);
    if (!key) throw new TokenVaultError(`sealed with unknown key id "${kid}": add it to TOKEN_ENCRYPTION_KEYS to read it`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(kid, context));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new TokenVaultError('sealed value failed authentication: tampered, or bound to another record');
    }
  }

  /** The key id a sealed value was sealed with (no decryption). */
  keyIdOf(sealed: string): string {
    return parseSealed(sealed).kid;
  }

  /** Whether a sealed value was sealed under an older key than the current one. */
  needsReseal(sealed: string): boolean {
    return this.keyIdOf(sealed) !== this.current.id;
  }

  /** Re-encrypts under the current key; a value already under it is returned as it is. */
  reseal(sealed: string, context: SealContext): string {
    if (!this.needsReseal(sealed)) {
      this.open(sealed, context);
      return sealed;
    }
    return this.seal(this.open(sealed, context), context);
  }
}

function parseSealed(sealed: string): { kid: string; iv: Buffer; ciphertext: Buffer; tag: Buffer } {
  const parts = sealed.split('.');
  const [version, kid, iv, ciphertext, tag] = parts;
  if (parts.length !== 5 || version !== FORMAT_VERSION || kid === undefined || !KEY_ID.test(kid) || iv === undefined || ciphertext === undefined || tag === undefined) {
    throw new TokenVaultError('sealed value is malformed');
  }
  if (![iv, ciphertext, tag].every((part) => BASE64URL_PART.test(part))) throw new TokenVaultError('sealed value is malformed');
  const ivBytes = Buffer.from(iv, 'base64url');
  const tagBytes = Buffer.from(tag, 'base64url');
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new TokenVaultError('sealed value is malformed');
  return { kid, iv: ivBytes, ciphertext: Buffer.from(ciphertext, 'base64url'), tag: tagBytes };
}
