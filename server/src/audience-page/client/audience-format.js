/* global navigator */
/**
 * How the audience page writes numbers, durations and minutes: with `Intl`, in the reader's
 * language, the same in a chart's axis and in the table beside it.
 */

const language = typeof navigator === 'undefined' ? undefined : navigator.language;
const integer = new Intl.NumberFormat(language, { maximumFractionDigits: 0 });
const minuteOfDay = new Intl.DateTimeFormat(language, { hour: '2-digit', minute: '2-digit' });
const dateAndTime = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });
const clock = new Intl.DateTimeFormat(language, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** A count: `1,234`. */
export function formatCount(value) {
  return integer.format(value);
}

/** A minute's start (ISO or ms): `14:05`. */
export function formatMinute(at) {
  return minuteOfDay.format(new Date(at));
}

/** A moment with its date: `7 Dec 2026, 14:05`. */
export function formatMoment(at) {
  return dateAndTime.format(new Date(at));
}

/** The time of day to the second: when the report was last fetched. */
export function formatClock(at) {
  return clock.format(new Date(at));
}

/** Seconds of watch time as hours and minutes, each unit formatted by `Intl`: `2 hr, 5 min`. */
export function formatWatchTime(seconds) {
  const totalMinutes = Math.round(seconds / 60);
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  const unit = (value, name) => new Intl.NumberFormat(language, { style: 'unit', unit: name, unitDisplay: 'short' }).format(value);
  return hours > 0 ? `${unit(hours, 'hour')} ${unit(minutes, 'minute')}` : unit(minutes, 'minute');
}
