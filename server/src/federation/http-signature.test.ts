import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { it } from 'node:test';
import { SignatureError, digestHeader, parseSignatureHeader, signPost, signingString, verifySignature } from './http-signature.js';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });

it('signs a POST over (request-target) host date digest, and the signature holds only for that request', () => {
  const url = new URL('https://social.example/users/alice/inbox?x=1');
  const body = '{"type":"Accept"}';
  const headers = signPost({ keyId: 'https://us.example/ap/actors/acme.news#main-key', privateKeyPem: privateKey, url, body, date: new Date('2026-12-07T05:00:00Z') });
  assert.equal(headers['digest'], digestHeader(body));
  assert.equal(headers['host'], 'social.example');
  assert.equal(headers['date'], 'Mon, 07 Dec 2026 05:00:00 GMT');
  const parsed = parseSignatureHeader(headers['signature']!);
  assert.ok(parsed);
  assert.deepEqual(parsed.headers, ['(request-target)', 'host', 'date', 'digest']);
  assert.equal(parsed.keyId, 'https://us.example/ap/actors/acme.news#main-key');
  const header = (name: string) => headers[name];
  assert.equal(verifySignature(parsed, 'POST', '/users/alice/inbox?x=1', header, publicKey), true);
  assert.equal(verifySignature(parsed, 'POST', '/users/bob/inbox?x=1', header, publicKey), false, 'another target');
  assert.equal(verifySignature(parsed, 'POST', '/users/alice/inbox?x=1', (name) => (name === 'digest' ? digestHeader('{}') : headers[name]), publicKey), false, 'another body');
});

it('parses Signature headers strictly', () => {
  assert.equal(parseSignatureHeader('garbage'), undefined);
  assert.equal(parseSignatureHeader('keyId="a"'), undefined, 'no signature');
  assert.equal(parseSignatureHeader('keyId="a",signature="AAAA",junk'), undefined);
  assert.deepEqual(parseSignatureHeader('keyId="a",signature="AAAA"')?.headers, ['date'], 'draft-cavage default: Date only');
});

it('refuses to build a signing string without a signed header', () => {
  assert.throws(() => signingString(['(request-target)', 'digest'], 'POST', '/inbox', () => undefined), SignatureError);
  assert.throws(() => verifySignature(parseSignatureHeader('keyId="a",signature="AAAA"')!, 'POST', '/', () => 'x', 'not a key'), SignatureError);
});
