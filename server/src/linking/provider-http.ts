import { OAuthGrantError, OAuthUnavailableError } from './oauth-client.js';
import type { OAuthProviderId } from './linked-account.js';

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 256 * 1024;

export interface ProviderResponse {
  readonly status: number;
  /** The JSON body, or undefined when it was empty or not JSON. */
  readonly json: unknown;
}

/**
 * One request to a provider endpoint. Network failures and 5xx become
 * `OAuthUnavailableError`; 4xx is returned for the caller to read the provider's error shape.
 * Never puts the request (which holds secrets) into an error.
 */
export async function providerRequest(
  provider: OAuthProviderId,
  url: URL,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; form?: URLSearchParams; timeoutMs?: number; fetch?: typeof fetch },
): Promise<ProviderResponse> {
  let response: Response;
  try {
    response = await (init.fetch ?? fetch)(url, {
      method: init.method,
      headers: { Accept: 'application/json', ...(init.form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}), ...init.headers },
      ...(init.form ? { body: init.form } : {}),
      redirect: 'error',
      signal: AbortSignal.timeout(init.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (error) {
    throw new OAuthUnavailableError(provider, `${provider} ${url.pathname} unreachable: ${(error as Error).name}`, { cause: error });
  }
  const text = await response.text();
  if (text.length > MAX_RESPONSE_BYTES) throw new OAuthUnavailableError(provider, `${provider} ${url.pathname} answered an oversized body`);
  if (response.status >= 500 || response.status === 429) {
    throw new OAuthUnavailableError(provider, `${provider} ${url.pathname} answered ${response.status}`);
  }
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

/** A short, printable reason from a provider error body (never a token: these bodies carry none). */
export function providerReason(json: unknown, ...fields: string[]): string {
  if (json === null || typeof json !== 'object') return 'no reason given';
  for (const field of fields) {
    const value = (json as Record<string, unknown>)[field];
    if (typeof value === 'string' && value !== '') return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  }
  return 'no reason given';
}

/** A 4xx from the token endpoint: the grant is gone. */
export function grantRefused(provider: OAuthProviderId, response: ProviderResponse, what: string, reason: string): OAuthGrantError {
  return new OAuthGrantError(provider, response.status, `${provider} refused ${what} (${response.status}: ${reason})`);
}
