/**
 * Helix gives a video's length as text like `3h8m33s`, `8m33s` or `33s`
 * (https://dev.twitch.tv/docs/api/reference/#get-videos, `duration`). Parsed strictly: hours
 * up to 999, minutes and seconds below 60, at least one part, nothing else; anything else is
 * not a length we store (undefined), so a hostile or changed format never becomes a bogus
 * number in a replay record.
 */
const TWITCH_DURATION = /^(?:(\d{1,3})h)?(?:(\d{1,2})m)?(?:(\d{1,2})s)?$/;

/** Seconds in a Helix `duration`, or undefined when it is not one. */
export function parseTwitchDuration(text: string): number | undefined {
  if (text.length === 0 || text.length > 12) return undefined;
  const match = TWITCH_DURATION.exec(text);
  if (!match) return undefined;
  const [, hours, minutes, seconds] = match;
  if (hours === undefined && minutes === undefined && seconds === undefined) return undefined;
  const m = Number(minutes ?? 0);
  const s = Number(seconds ?? 0);
  if (m >= 60 || s >= 60) return undefined;
  return Number(hours ?? 0) * 3600 + m * 60 + s;
}
