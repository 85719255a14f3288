/** The part of Joyent's `http-signature` (no published types) the fake fediverse server uses. */
declare module 'http-signature' {
  import type { ClientRequest, IncomingMessage } from 'node:http';

  export interface ParsedSignature {
    readonly keyId: string;
    readonly algorithm: string;
    readonly params: Record<string, unknown>;
    readonly signingString: string;
  }

  export interface SignOptions {
    readonly key: string;
    readonly keyId: string;
    readonly algorithm?: string;
    readonly headers?: readonly string[];
    readonly authorizationHeaderName?: string;
  }

  export function signRequest(request: ClientRequest, options: SignOptions): boolean;
  export function parseRequest(request: IncomingMessage, options?: { headers?: readonly string[]; clockSkew?: number; authorizationHeaderName?: string }): ParsedSignature;
  export function verifySignature(parsed: ParsedSignature, publicKeyPem: string): boolean;
}
