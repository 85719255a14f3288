/**
 * JSON for an inline `<script type="application/ld+json">`: `<`, `>` and `&` as `\u003c`,
 * `\u003e`, `\u0026`, so neither `</script>` nor `<!--` can end or change the script element,
 * and U+2028 / U+2029 escaped for the readers that still treat them as line ends. Still JSON:
 * `JSON.parse` gives back the same value.
 */
export function serializeJsonLd(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
