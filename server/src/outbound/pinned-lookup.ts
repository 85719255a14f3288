import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './delivery-target.js';

/**
 * A resolver that answers every name with the pinned address: the connection goes to the address
 * the SSRF guard checked (`resolveDeliveryTarget`), whatever DNS answers now. Used by the outbound
 * webhook pools, the VOD ingest's guarded GET and federation's guarded HTTP.
 */
export function pinnedLookup(pinned: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (typeof options === 'object' && options !== null && (options as { all?: boolean }).all) {
      (callback as unknown as (error: null, addresses: { address: string; family: number }[]) => void)(null, [{ address: pinned.address, family: pinned.family }]);
    } else {
      callback(null, pinned.address, pinned.family);
    }
  };
}
