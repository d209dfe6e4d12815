//! Reading the fields of a time value as Go's time package reads them: one- or two-digit numbers,
//! month and day names, zone abbreviations and numeric offsets, fractional seconds, literal text with
//! Go's space rule, and days of the year. Used by layout.ts, one element at a time.

import { daysBefore, isLeap } from './civil.js';

/** The shapes of a numeric zone: `-0700`, `-07:00`, `-07`, `-07:00:00`, `-070000`. */
export type ZoneForm = 'hhmm' | 'hh:mm' | 'hh' | 'hh:mm:ss' | 'hhmmss';

export function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

export const SHORT_MONTHS = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
];
export const LONG_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
export const SHORT_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
export const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Go's lookup: the index of the table entry the value starts with (ASCII case-insensitively), or -1. */
export function lookup(table: readonly string[], value: string, i: number): number {
  outer: for (let k = 0; k < table.length; k++) {
    const name = table[k]!;
    if (value.length - i < name.length) continue;
    for (let j = 0; j < name.length; j++) {
      // Setting bit 0x20 folds ASCII letters; names are letters only.
      if ((value.charCodeAt(i + j) | 0x20) !== (name.charCodeAt(j) | 0x20)) continue outer;
    }
    return k;
  }
  return -1;
}

/** Go's atoi: optional sign and digits, all of `s`; undefined when not. */
export function atoi(s: string): number | undefined {
  let i = 0;
  const negative = s[0] === '-';
  if (negative || s[0] === '+') i = 1;
  let n = 0;
  for (; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  if (n > 2 ** 63) return undefined;
  return negative ? -n : n;
}

/** Go's parseTimeZone: the length of a zone abbreviation at `i`, or 0. */
export function zoneLength(value: string, i: number): number {
  const rest = value.length - i;
  if (rest < 3) return 0;
  if (value.startsWith('ChST', i) || value.startsWith('MeST', i)) return 4;
  if (value.startsWith('GMT', i)) return 3 + signedOffsetLength(value, i + 3);
  if (value[i] === '+' || value[i] === '-') return signedOffsetLength(value, i);
  let upper = 0;
  while (upper < 6 && i + upper < value.length && /[A-Z]/.test(value[i + upper]!)) upper++;
  switch (upper) {
    case 5:
      return value[i + 4] === 'T' ? 5 : 0;
    case 4:
      return value[i + 3] === 'T' || value.startsWith('WITA', i) ? 4 : 0;
    case 3:
      return 3;
    default:
      return 0;
  }
}

/** Go's parseSignedOffset: `+3`, `-10` (hours, at most 24). */
function signedOffsetLength(value: string, i: number): number {
  const sign = value[i];
  if (sign !== '+' && sign !== '-') return 0;
  let j = i + 1;
  while (isDigit(value, j)) j++;
  if (j === i + 1) return 0;
  if (Number(value.slice(i + 1, j)) > 24) return 0;
  return j - i;
}

/**
 * Go's parseNanoseconds: `value[i]` is `.` or `,`, then `n - 1` digits, of which the first nine count.
 * Digits are read in place; anything else (a layout's fixed-width fraction can meet a sign) goes
 * through Go's atoi, as in Go.
 */
export function nanoseconds(value: string, i: number, n: number): number | undefined {
  const sep = value[i];
  if (sep !== '.' && sep !== ',') return undefined;
  const digits = Math.min(n, 10);
  let ns = 0;
  for (let j = i + 1; j < i + digits; j++) {
    const d = value.charCodeAt(j) - 0x30; // NaN past the end
    if (!(d >= 0 && d <= 9)) {
      const signed = atoi(value.slice(i + 1, i + digits));
      if (signed === undefined || signed < 0) return undefined;
      ns = signed;
      break;
    }
    ns = ns * 10 + d;
  }
  return ns * 10 ** (10 - digits);
}

/** Where getnum stopped, and whether it read a number (module state: no closure per call). */
let numEnd = 0;
let numOk = true;

/** Where the last getnum stopped. */
export function getnumEnd(): number {
  return numEnd;
}

/** Whether the last getnum read a number. */
export function getnumOk(): boolean {
  return numOk;
}

/** Go's getnum: one or two digits at `i` (exactly two when `fixed`). */
export function getnum(value: string, i: number, fixed: boolean): number {
  numOk = true;
  numEnd = i;
  if (!isDigit(value, i)) {
    numOk = false;
    return 0;
  }
  if (!isDigit(value, i + 1)) {
    if (fixed) numOk = false;
    numEnd = i + 1;
    return value.charCodeAt(i) - 0x30;
  }
  numEnd = i + 2;
  return (value.charCodeAt(i) - 0x30) * 10 + value.charCodeAt(i + 1) - 0x30;
}

/** Go's conversion of a day of the year to month and day. */
export function ydayToDate(ydayIn: number, year: number): [number, number] | string {
  let yday = ydayIn;
  if (isLeap(year)) {
    if (yday === 31 + 29) return [2, 29];
    if (yday > 31 + 29) yday--;
  }
  if (yday < 1 || yday > 365) return 'day-of-year out of range';
  let m = Math.floor((yday - 1) / 31) + 1;
  if (daysBefore(m) < yday) m++;
  return [m, yday - daysBefore(m - 1)];
}

/**
 * The ASCII digits `value[from, to)` as a number within `[min, max]`; -1 when one is not a digit (or
 * past the end), or the number is out of range.
 */
export function digitsIn(value: string, from: number, to: number, min: number, max: number): number {
  let x = 0;
  for (let i = from; i < to; i++) {
    const d = value.charCodeAt(i) - 0x30; // NaN past the end
    if (!(d >= 0 && d <= 9)) return -1;
    x = x * 10 + d;
  }
  return x < min || x > max ? -1 : x;
}

/** Two ASCII digits at `i` as a number, or -1. */
const twoDigits = (value: string, i: number): number => digitsIn(value, i, i + 2, 0, 99);

/** A numeric zone (`-0700`, `-07:00`, `-07`, with seconds…) at `i`: [offset, next] or a problem ('' = bad). */
export function numericZone(form: ZoneForm, value: string, i: number): [number, number] | string {
  const rest = value.length - i;
  const h = twoDigits(value, i + 1);
  let m = 0;
  let s = 0;
  let end: number;
  if (form === 'hh:mm') {
    if (rest < 6 || value[i + 3] !== ':') return '';
    m = twoDigits(value, i + 4);
    end = i + 6;
  } else if (form === 'hh') {
    if (rest < 3) return '';
    end = i + 3;
  } else if (form === 'hh:mm:ss') {
    if (rest < 9 || value[i + 3] !== ':' || value[i + 6] !== ':') return '';
    m = twoDigits(value, i + 4);
    s = twoDigits(value, i + 7);
    end = i + 9;
  } else if (form === 'hhmmss') {
    if (rest < 7) return '';
    m = twoDigits(value, i + 3);
    s = twoDigits(value, i + 5);
    end = i + 7;
  } else {
    if (rest < 5) return '';
    m = twoDigits(value, i + 3);
    end = i + 5;
  }
  if (h < 0 || m < 0 || s < 0) return '';
  // Go allows 24 hours and 60 minutes or seconds, as some people write them.
  if (h > 24) return 'time zone offset hour out of range';
  if (m > 60) return 'time zone offset minute out of range';
  if (s > 60) return 'time zone offset second out of range';
  const sign = value[i];
  if (sign !== '+' && sign !== '-') return '';
  const offset = (h * 60 + m) * 60 + s;
  return [sign === '-' ? -offset : offset, end];
}

/** Go's skip: matches a literal prefix; a space in the layout matches one or more spaces (or the end). */
export function skip(value: string, from: number, prefix: string): number {
  let i = from;
  let p = 0;
  while (p < prefix.length) {
    if (prefix[p] === ' ') {
      if (i < value.length && value[i] !== ' ') return -1;
      while (prefix[p] === ' ') p++;
      while (value[i] === ' ') i++;
      continue;
    }
    if (i >= value.length || value[i] !== prefix[p]) return -1;
    i++;
    p++;
  }
  return i;
}
