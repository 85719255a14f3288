import assert from 'node:assert/strict';
import { it } from 'node:test';
import { clientNetwork } from './client-network.js';

it('counts an IPv4 client by its address and an IPv6 client by its /64', () => {
  assert.equal(clientNetwork('203.0.113.7'), '203.0.113.7');
  assert.equal(clientNetwork('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(clientNetwork('2001:db8:aa:bb:1:2:3:4'), '2001:db8:aa:bb::/64');
  assert.equal(clientNetwork('2001:db8:aa:bb::9'), '2001:db8:aa:bb::/64');
  assert.equal(clientNetwork('2001:0db8:00aa:00bb:ffff::1'), '2001:db8:aa:bb::/64');
  assert.equal(clientNetwork('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(clientNetwork('::1'), '0:0:0:0::/64');
  assert.equal(clientNetwork(''), 'unknown');
});
