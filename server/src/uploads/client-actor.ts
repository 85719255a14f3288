import { createHmac, hkdfSync } from 'node:crypto';

/**
 * Names an anonymous uploader in the audit log: `client:` and 16 hex of an HMAC of its address
 * under a key derived from `secret`. Stable while the secret is, the same for every request
 * from one address, and neither the address nor anything that brute-forces back to it (a
 * plain hash of an IPv4 address would) is ever written down.
 */
export function createClientActor(secret: string): (address: string) => string {
  const key = Buffer.from(hkdfSync('sha256', secret, 'live-upload', 'audit client actor', 32));
  return (address) => `client:${createHmac('sha256', key).update(address || 'unknown').digest('hex').slice(0, 16)}`;
}
