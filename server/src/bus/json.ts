import type { z } from 'zod';

const decoder = new TextDecoder();

/** UTF-8 JSON. Buffer.from: small ones come from Node's shared pool, several times cheaper than TextEncoder's fresh ArrayBuffer. */
export function encodeJson(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Decodes and validates; throws a ZodError when the bytes are not what the schema says. */
export function decodeJson<T>(data: Uint8Array, schema: z.ZodType<T>): T {
  return schema.parse(JSON.parse(decoder.decode(data)));
}

export function decodeText(data: Uint8Array): string {
  return decoder.decode(data);
}
