import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryRefusedError, HostUnresolvedError, WebhookUrlError, parseWebhookUrl, resolveDeliveryTarget, type ResolveHost } from './delivery-target.js';

const none = new Set<string>();
const answers = (table: Record<string, string[]>): ResolveHost => async (host) => {
  const found = table[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('parseWebhookUrl', () => {
  it('refuses bad URLs, credentials, other schemes, fragments and oversize URLs', () => {
    const bad = [
      'not a url',
      '/relative/path',
      'ftp://example.com/hook',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/plain,hi',
      'gopher://example.com/',
      'ws://example.com/hook',
      'https://user:pass@example.com/hook',
      'https://user@example.com/hook',
      'https://example.com/hook#frag',
      'https://example.com/ho ok',
      'https://example.com/hook\n',
      `https://example.com/${'a'.repeat(2100)}`,
      'https://',
    ];
    for (const text of bad) assert.throws(() => parseWebhookUrl(text, { requireHttps: false }), WebhookUrlError, text.slice(0, 60));
  });

  it('takes http outside production and only https in production', () => {
    assert.equal(parseWebhookUrl('http://example.com/hook', { requireHttps: false }).href, 'http://example.com/hook');
    assert.throws(() => parseWebhookUrl('http://example.com/hook', { requireHttps: true }), /https/);
    assert.equal(parseWebhookUrl('https://Example.COM:8443/a?b=c', { requireHttps: true }).href, 'https://example.com:8443/a?b=c');
  });
});

describe('resolveDeliveryTarget', () => {
  it('refuses literal private addresses in every spelling the URL parser accepts', async () => {
    for (const text of ['http://127.0.0.1/', 'http://0x7f.1/', 'http://2130706433/', 'http://0177.0.0.1/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://169.254.169.254/latest/meta-data/', 'http://10.1.2.3/', 'http://[fd00::1]/', 'http://100.64.1.1/', 'http://0.0.0.0/', 'http://224.0.0.1/', 'http://[fe80::1]/']) {
      await assert.rejects(resolveDeliveryTarget(new URL(text), { allowPrivateHosts: none }), DeliveryRefusedError, text);
    }
  });

  it('refuses a name resolving to a private address, even when only one of its answers is', async () => {
    const resolve = answers({
      'internal.example': ['10.0.0.7'],
      'metadata.example': ['169.254.169.254'],
      'mixed.example': ['93.184.216.34', '127.0.0.1'],
      'mapped.example': ['::ffff:127.0.0.1'],
      'ula.example': ['fd00::5'],
      'public.example': ['93.184.216.34', '2606:2800:220:1::1'],
    });
    for (const host of ['internal.example', 'metadata.example', 'mixed.example', 'mapped.example', 'ula.example']) {
      await assert.rejects(resolveDeliveryTarget(new URL(`https://${host}/hook`), { allowPrivateHosts: none, resolve }), DeliveryRefusedError, host);
    }
    assert.deepEqual(await resolveDeliveryTarget(new URL('https://public.example/hook'), { allowPrivateHosts: none, resolve }), { address: '93.184.216.34', family: 4 });
    await assert.rejects(resolveDeliveryTarget(new URL('https://nowhere.example/'), { allowPrivateHosts: none, resolve }), HostUnresolvedError);
  });

  it('refuses localhost through the system resolver', async () => {
    await assert.rejects(resolveDeliveryTarget(new URL('http://localhost:9/'), { allowPrivateHosts: none }), DeliveryRefusedError);
  });

  it('lets allowlisted hosts reach private ranges, and pins the checked address', async () => {
    const resolve = answers({ 'receiver.internal': ['10.9.8.7'] });
    const allow = new Set(['receiver.internal', '127.0.0.1']);
    assert.deepEqual(await resolveDeliveryTarget(new URL('http://receiver.internal/'), { allowPrivateHosts: allow, resolve }), { address: '10.9.8.7', family: 4 });
    assert.deepEqual(await resolveDeliveryTarget(new URL('http://127.0.0.1:8080/'), { allowPrivateHosts: allow }), { address: '127.0.0.1', family: 4 });
    await assert.rejects(resolveDeliveryTarget(new URL('http://127.0.0.2/'), { allowPrivateHosts: allow }), DeliveryRefusedError);
  });
});
