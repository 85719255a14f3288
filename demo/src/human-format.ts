/**
 * Numbers and times as people read them, in the page's language (`Intl`): sizes in kB/MB,
 * durations in seconds with one decimal, times as "3 minutes ago" next to the date and time.
 */

const SIZE_UNITS = [
  { unit: 'gigabyte', bytes: 1e9 },
  { unit: 'megabyte', bytes: 1e6 },
  { unit: 'kilobyte', bytes: 1e3 },
] as const;

/** "1.2 MB", "830 kB", "512 bytes" (decimal units, as file managers and Uppy show them). */
export function formatBytes(bytes: number, locale?: string): string {
  for (const { unit, bytes: size } of SIZE_UNITS) {
    if (bytes >= size) {
      return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: bytes >= size * 100 ? 0 : 1 }).format(bytes / size);
    }
  }
  return new Intl.NumberFormat(locale, { style: 'unit', unit: 'byte', unitDisplay: 'long' }).format(bytes);
}

/** "10.0 s", "1 min 5 s": tenths below a minute, whole seconds above. */
export function formatDuration(seconds: number, locale?: string): string {
  if (seconds < 60) {
    return new Intl.NumberFormat(locale, { style: 'unit', unit: 'second', unitDisplay: 'narrow', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(seconds);
  }
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds - minutes * 60);
  const part = (value: number, unit: 'minute' | 'second') => new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' }).format(value);
  return rest === 0 ? part(minutes, 'minute') : `${part(minutes, 'minute')} ${part(rest, 'second')}`;
}

const RELATIVE_STEPS = [
  { unit: 'year', ms: 365 * 24 * 3600_000 },
  { unit: 'month', ms: 30 * 24 * 3600_000 },
  { unit: 'week', ms: 7 * 24 * 3600_000 },
  { unit: 'day', ms: 24 * 3600_000 },
  { unit: 'hour', ms: 3600_000 },
  { unit: 'minute', ms: 60_000 },
] as const;

/** "3 minutes ago", "yesterday", "just now" (under a minute). */
export function formatRelativeTime(date: Date, now: Date = new Date(), locale?: string): string {
  const elapsed = date.getTime() - now.getTime();
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  for (const { unit, ms } of RELATIVE_STEPS) {
    if (Math.abs(elapsed) >= ms) return format.format(Math.round(elapsed / ms), unit);
  }
  return format.format(0, 'second');
}

/** "Dec 6, 2026, 7:26 PM" (with seconds: "7:26:07 PM"). */
export function formatDateTime(date: Date, withSeconds = false, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: withSeconds ? 'medium' : 'short' }).format(date);
}

/** "7:26:07 PM": a clip is seconds long, so the seconds count. */
export function formatClockTime(date: Date, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { timeStyle: 'medium' }).format(date);
}

/** A parsed ISO time, or undefined when it is not one. */
export function parseTime(iso: string): Date | undefined {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
