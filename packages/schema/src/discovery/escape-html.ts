/** HTML escaping for text and double-quoted attribute values. Isomorphic: no DOM. */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * `value` as inert HTML text, safe both between tags and inside a quoted attribute: `& < > " ' \``
 * become character references. Strings from the network (titles, tags) go through this.
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (character) => HTML_ESCAPES[character]!);
}
