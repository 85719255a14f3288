import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyAddress, formatAddress, parseIpAddress } from './private-address.js';

describe('classifyAddress', () => {
  it('refuses every private, local and special range, however it is spelled', () => {
    const hostile: Array<[string, string]> = [
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['0x7f.1', 'loopback'],
      ['0x7f000001', 'loopback'],
      ['2130706433', 'loopback'],
      ['0177.0.0.1', 'loopback'],
      ['017700000001', 'loopback'],
      ['127.1', 'loopback'],
      ['127.0.1', 'loopback'],
      ['::1', 'loopback'],
      ['[::1]', 'loopback'],
      ['0:0:0:0:0:0:0:1', 'loopback'],
      ['[::ffff:127.0.0.1]', 'ipv4_mapped'],
      ['::ffff:7f00:1', 'ipv4_mapped'],
      ['::ffff:8.8.8.8', 'ipv4_mapped'],
      ['::127.0.0.1', 'ipv4_compatible'],
      ['10.0.0.1', 'private'],
      ['10.255.255.255', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['0xc0.0xa8.1.1', 'private'],
      ['3232235777', 'private'],
      ['169.254.169.254', 'link_local'],
      ['0xa9fea9fe', 'link_local'],
      ['2852039166', 'link_local'],
      ['169.254.0.1', 'link_local'],
      ['100.64.0.1', 'cgnat'],
      ['100.127.255.255', 'cgnat'],
      ['fc00::1', 'unique_local'],
      ['fd12:3456:789a::1', 'unique_local'],
      ['fe80::1', 'link_local'],
      ['febf::1', 'link_local'],
      ['fec0::1', 'site_local'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['ff02::1', 'multicast'],
      ['0.0.0.0', 'unspecified'],
      ['0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['::', 'unspecified'],
      ['255.255.255.255', 'broadcast'],
      ['240.0.0.1', 'reserved'],
      ['192.0.2.10', 'documentation'],
      ['2001:db8::1', 'documentation'],
      ['198.18.0.1', 'benchmarking'],
      ['64:ff9b::7f00:1', 'loopback'],
      ['64:ff9b::a9fe:a9fe', 'link_local'],
      ['64:ff9b:1::1', 'private'],
      ['2002:7f00:1::1', 'loopback'],
      ['2002:c0a8:101::1', 'private'],
      ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'tunnel'],
      ['100::1', 'reserved'],
    ];
    for (const [address, range] of hostile) assert.equal(classifyAddress(address), range, address);
  });

  it('lets public addresses through', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '172.15.255.255', '100.63.255.255', '100.128.0.1', '169.253.1.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '64:ff9b::808:808', '2002:808:808::1']) {
      assert.equal(classifyAddress(address), undefined, address);
    }
  });

  it('calls text that is not an address invalid', () => {
    for (const text of ['', 'localhost', 'example.com', '1.2.3.4.5', '256.1.1.1', '1.2.3.256', '08.1.1.1', '4294967296', '1::2::3', '::ffff:300.0.0.1', 'fe80::1%eth0', '12345::', '1:2:3:4:5:6:7:8:9', '[::1', ' 127.0.0.1']) {
      assert.equal(classifyAddress(text), 'invalid', JSON.stringify(text));
    }
  });

  it('parses every spelling to the same bytes', () => {
    for (const spelling of ['127.0.0.1', '0x7f.1', '2130706433', '0177.0.0.01', '0x7f.0.0.0x1', '127.0.1']) {
      assert.equal(formatAddress(parseIpAddress(spelling)!), '127.0.0.1', spelling);
    }
    assert.equal(formatAddress(parseIpAddress('::ffff:127.0.0.1')!), '0:0:0:0:0:ffff:7f00:1');
  });
});
