import { isIPv6 } from 'node:net';

/**
 * The network a client address stands for when caps are counted per client: an IPv4 address
 * as it is (an IPv4-mapped IPv6 address as its IPv4), an IPv6 address as its /64, which one
 * subscriber is normally given whole (RFC 6177): counted per address, one host could take
 * every place from its 2^64 addresses.
 */
export function clientNetwork(address: string): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.toLowerCase().split('%')[0]!.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return `${groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16)).join(':')}::/64`;
}
