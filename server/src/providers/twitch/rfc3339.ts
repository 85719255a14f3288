/**
 * Parses an RFC 3339 timestamp as Twitch sends them (`2023-07-19T10:11:12.123456789Z`: up to
 * nanosecond precision, which `Date.parse` does not promise to read) into ms since the epoch,
 * truncating below the millisecond. Undefined for anything else, including impossible dates.
 * Read character by character, not with a regular expression and its eleven captured
 * substrings: it runs twice for every webhook (the replay check and the mapper).
 */
export function parseRfc3339(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length < 20 || value.length > 40) return undefined;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  if (value.charCodeAt(4) !== DASH || value.charCodeAt(7) !== DASH || value.charCodeAt(13) !== COLON || value.charCodeAt(16) !== COLON) return undefined;
  const t = value.charCodeAt(10);
  if (t !== UPPER_T && t !== LOWER_T) return undefined;
  let at = 19;
  let ms = 0;
  if (value.charCodeAt(at) === DOT) {
    const fractionStart = ++at;
    while (at < value.length && isDigit(value.charCodeAt(at))) at++;
    const fractionDigits = at - fractionStart;
    if (fractionDigits < 1 || fractionDigits > 9) return undefined;
    // The first three digits, padded with zeros: 1 -> 100 ms, 12 -> 120 ms.
    for (let i = 0; i < 3; i++) ms = ms * 10 + (i < fractionDigits ? value.charCodeAt(fractionStart + i) - ZERO : 0);
  }
  let offsetMinutes = 0;
  const zone = value.charCodeAt(at);
  if (zone === UPPER_Z || zone === LOWER_Z) {
    if (at + 1 !== value.length) return undefined;
  } else if (zone === PLUS || zone === MINUS) {
    if (at + 6 !== value.length || value.charCodeAt(at + 3) !== COLON) return undefined;
    const oh = digits(value, at + 1, 2);
    const om = digits(value, at + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone === MINUS ? -1 : 1) * (oh * 60 + om);
  } else {
    return undefined;
  }
  // Date.UTC maps years 0-99 to 1900-1999; no Twitch timestamp is that old.
  if (year < 100) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  // RFC 3339 allows a leap second (:60); Date.UTC rolls it into the next minute.
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000;
}

const ZERO = 0x30;
const DASH = 0x2d;
const COLON = 0x3a;
const DOT = 0x2e;
const PLUS = 0x2b;
const MINUS = 0x2d;
const UPPER_T = 0x54;
const LOWER_T = 0x74;
const UPPER_Z = 0x5a;
const LOWER_Z = 0x7a;

function isDigit(code: number): boolean {
  return code >= ZERO && code <= ZERO + 9;
}

/** The number written by `count` ASCII digits at `start`, or -1 when any of them is not one. */
function digits(value: string, start: number, count: number): number {
  let result = 0;
  for (let i = start; i < start + count; i++) {
    const code = value.charCodeAt(i);
    if (!isDigit(code)) return -1;
    result = result * 10 + code - ZERO;
  }
  return result;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Gregorian: without a Date object, as this runs for every webhook, twice. */
function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}
