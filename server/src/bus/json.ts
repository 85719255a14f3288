import type { z } from 'zod';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Decodes and validates; throws a ZodError when the bytes are not what the schema says. */
export function decodeJson<T>(data: Uint8Array, schema: z.ZodType<T>): T {
  return schema.parse(JSON.parse(decoder.decode(data)));
}

export function decodeText(data: Uint8Array): string {
  return decoder.decode(data);
}
