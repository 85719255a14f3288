/**
 * The SSE event id: where a connection stands in every channel it follows, as
 * `channel=seq` pairs (`acme/show=5,c/d=7`). Each event carries the whole cursor, so the
 * single `Last-Event-ID` a reconnecting client sends says what it has seen of every channel.
 */
export type SseCursor = Map<string, number>;

const PAIR = /^([a-z0-9][a-z0-9-]{0,38}\/[a-z0-9][a-z0-9-]{0,38})=(\d{1,15})$/;

export function formatCursor(cursor: SseCursor): string {
  let id = '';
  for (const [channel, seq] of cursor) id += id === '' ? `${channel}=${seq}` : `,${channel}=${seq}`;
  return id;
}

/** Parses a client-sent cursor; malformed pairs are ignored (the channel gets a snapshot). */
export function parseCursor(value: string | undefined): SseCursor {
  const cursor: SseCursor = new Map();
  if (!value || value.length > 8192) return cursor;
  for (const pair of value.split(',')) {
    const match = PAIR.exec(pair.trim());
    if (match) cursor.set(match[1]!, Number(match[2]));
  }
  return cursor;
}
