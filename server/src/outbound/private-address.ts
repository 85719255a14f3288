/**
 * The SSRF guard's address classifier: pure, no DNS. An address is parsed into its bytes
 * (every spelling the OS resolver or a URL parser would accept: `0x7f.1`, `2130706433`,
 * `0177.0.0.1`, `[::ffff:127.0.0.1]`) and checked against the ranges a webhook must never reach.
 */

/** Why an address is refused, one table. */
export const PRIVATE_RANGES = {
  unspecified: 'unspecified',
  loopback: 'loopback',
  private: 'private',
  cgnat: 'cgnat',
  linkLocal: 'link_local',
  uniqueLocal: 'unique_local',
  siteLocal: 'site_local',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved',
  documentation: 'documentation',
  benchmarking: 'benchmarking',
  ipv4Mapped: 'ipv4_mapped',
  ipv4Compatible: 'ipv4_compatible',
  tunnel: 'tunnel',
  invalid: 'invalid',
} as const;
export type PrivateRange = (typeof PRIVATE_RANGES)[keyof typeof PRIVATE_RANGES];

export interface ParsedAddress {
  readonly family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: readonly number[];
}

/** IPv4 in any inet_aton form: 1-4 parts, each decimal, octal (leading 0) or hex (0x). */
export function parseIpv4(text: string): ParsedAddress | undefined {
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = Number.parseInt(part.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return undefined;
    if (!Number.isSafeInteger(value)) return undefined;
    values.push(value);
  }
  const last = values.pop()!;
  if (values.some((value) => value > 255)) return undefined;
  if (last >= 256 ** (4 - values.length)) return undefined;
  const bytes = [...values];
  for (let shift = 3 - values.length; shift >= 0; shift--) bytes.push(Math.floor(last / 256 ** shift) % 256);
  return { family: 4, bytes };
}

/** IPv6 text (brackets allowed, no zone id) into 16 bytes, including a trailing dotted IPv4. */
export function parseIpv6(text: string): ParsedAddress | undefined {
  let address = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (address.includes('%') || !/^[0-9a-fA-F:.]+$/.test(address)) return undefined;
  const tail: number[] = [];
  const lastColon = address.lastIndexOf(':');
  if (address.includes('.')) {
    const dotted = address.slice(lastColon + 1);
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(dotted)) return undefined;
    const octets = dotted.split('.').map(Number);
    if (octets.some((octet) => octet > 255)) return undefined;
    tail.push(...octets);
    address = `${address.slice(0, lastColon + 1)}0:0`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groupsOf(halves[0]!);
  const rest = halves.length === 2 ? groupsOf(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  const bytes: number[] = [];
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    const value = Number.parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return { family: 6, bytes };
}

/** Any literal address spelling; undefined for a host name. */
export function parseIpAddress(text: string): ParsedAddress | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

type Cidr = readonly [prefix: readonly number[], bits: number, range: PrivateRange];

const IPV4_RANGES: readonly Cidr[] = [
  [[0, 0, 0, 0], 8, PRIVATE_RANGES.unspecified],
  [[10, 0, 0, 0], 8, PRIVATE_RANGES.private],
  [[100, 64, 0, 0], 10, PRIVATE_RANGES.cgnat],
  [[127, 0, 0, 0], 8, PRIVATE_RANGES.loopback],
  [[169, 254, 0, 0], 16, PRIVATE_RANGES.linkLocal],
  [[172, 16, 0, 0], 12, PRIVATE_RANGES.private],
  [[192, 0, 0, 0], 24, PRIVATE_RANGES.reserved],
  [[192, 0, 2, 0], 24, PRIVATE_RANGES.documentation],
  [[192, 88, 99, 0], 24, PRIVATE_RANGES.tunnel],
  [[192, 168, 0, 0], 16, PRIVATE_RANGES.private],
  [[198, 18, 0, 0], 15, PRIVATE_RANGES.benchmarking],
  [[198, 51, 100, 0], 24, PRIVATE_RANGES.documentation],
  [[203, 0, 113, 0], 24, PRIVATE_RANGES.documentation],
  [[224, 0, 0, 0], 4, PRIVATE_RANGES.multicast],
  [[255, 255, 255, 255], 32, PRIVATE_RANGES.broadcast],
  [[240, 0, 0, 0], 4, PRIVATE_RANGES.reserved],
];

const IPV6_RANGES: readonly Cidr[] = [
  [[0xfc], 7, PRIVATE_RANGES.uniqueLocal],
  [[0xfe, 0x80], 10, PRIVATE_RANGES.linkLocal],
  [[0xfe, 0xc0], 10, PRIVATE_RANGES.siteLocal],
  [[0xff], 8, PRIVATE_RANGES.multicast],
  [[0x20, 0x01, 0x0d, 0xb8], 32, PRIVATE_RANGES.documentation],
  [[0x20, 0x01, 0, 0], 32, PRIVATE_RANGES.tunnel],
  [[0x01, 0, 0, 0, 0, 0, 0, 0], 64, PRIVATE_RANGES.reserved],
  [[0, 0x64, 0xff, 0x9b, 0, 1], 48, PRIVATE_RANGES.private],
];

function inCidr(bytes: readonly number[], [prefix, bits]: Cidr): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const remaining = Math.min(8, bits - bit);
    const mask = (0xff << (8 - remaining)) & 0xff;
    if (((bytes[bit / 8] ?? 0) & mask) !== ((prefix[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

const isZero = (bytes: readonly number[]) => bytes.every((byte) => byte === 0);

/** The refused range an address falls in, or undefined when a webhook may go there. */
export function privateRangeOf(address: ParsedAddress): PrivateRange | undefined {
  const { bytes } = address;
  if (address.family === 4) return IPV4_RANGES.find((cidr) => inCidr(bytes, cidr))?.[2];
  const first10Zero = isZero(bytes.slice(0, 10));
  if (first10Zero && bytes[10] === 0xff && bytes[11] === 0xff) return PRIVATE_RANGES.ipv4Mapped;
  if (isZero(bytes.slice(0, 15))) return bytes[15] === 1 ? PRIVATE_RANGES.loopback : bytes[15] === 0 ? PRIVATE_RANGES.unspecified : PRIVATE_RANGES.ipv4Compatible;
  if (isZero(bytes.slice(0, 12))) return PRIVATE_RANGES.ipv4Compatible;
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address: it decides.
  if (inCidr(bytes, [[0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96, PRIVATE_RANGES.private])) {
    return privateRangeOf({ family: 4, bytes: bytes.slice(12) });
  }
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return privateRangeOf({ family: 4, bytes: bytes.slice(2, 6) });
  return IPV6_RANGES.find((cidr) => inCidr(bytes, cidr))?.[2];
}

/** Classifies a literal address; `invalid` for text that is not one. */
export function classifyAddress(text: string): PrivateRange | undefined {
  const parsed = parseIpAddress(text);
  return parsed ? privateRangeOf(parsed) : PRIVATE_RANGES.invalid;
}

/** Canonical text of a parsed address (dotted quad, or full lowercase IPv6 groups). */
export function formatAddress(address: ParsedAddress): string {
  if (address.family === 4) return address.bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address.bytes[i]! << 8) | address.bytes[i + 1]!).toString(16));
  return groups.join(':');
}
