//! Parses the RFC3339Nano timestamp that Docker puts before every log message (`timestamps=1`)
//! straight from bytes into whole seconds and nanoseconds, without building a string or a Date.

/** Longest timestamp accepted: `YYYY-MM-DDTHH:MM:SS.` + fraction digits + `+hh:mm`. */
export const MAX_TIMESTAMP_LENGTH = 48;

const PREFIX = 19; // `YYYY-MM-DDTHH:MM:SS`
const ZERO = 0x30;
const SCALE = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];

/**
 * Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)` from bytes. The result lands in `sec` and `nsec`
 * (fields, so a parse allocates nothing).
 *
 * Docker always sends 9 fraction digits and `Z` (Go's `RFC3339NanoFixed`). Trimmed fractions, more than
 * 9 digits (truncated to ns, as Go does) and numeric offsets are accepted too, for robustness.
 *
 * Consecutive log lines nearly always share the `YYYY-MM-DDTHH:MM:SS` part, so its epoch seconds are
 * cached: a hit costs a 19-byte comparison instead of a calendar computation.
 */
export class TimestampParser {
  /** Seconds since the epoch of the last successful parse (may be negative before 1970). */
  sec = 0;
  /** Nanoseconds within `sec`, 0…999,999,999. */
  nsec = 0;
  #cache = new Uint8Array(PREFIX);
  #cacheValid = false;
  #cacheSec = 0;

  /**
   * Parses a timestamp starting at `start`, reading no byte at or past `end`.
   * @returns the index just after the timestamp (the caller checks what follows), or -1 when the bytes
   *   are not a timestamp or end before it does.
   */
  parse(buf: Uint8Array, start: number, end: number): number {
    if (end - start < PREFIX + 1) return -1;
    let local: number;
    if (this.#cacheValid && this.#cacheHit(buf, start)) {
      local = this.#cacheSec;
    } else {
      local = parsePrefix(buf, start);
      if (Number.isNaN(local)) return -1;
      this.#cache.set(buf.subarray(start, start + PREFIX));
      this.#cacheSec = local;
      this.#cacheValid = true;
    }
    let pos = start + PREFIX;
    let nsec = 0;
    let c = buf[pos]!;
    if (c === 0x2e /* . */) {
      pos++;
      const first = pos;
      c = pos < end ? buf[pos]! - ZERO : -1;
      while (c >= 0 && c <= 9) {
        // Digits past the ninth are below a nanosecond: read and ignore them (Go truncates too).
        if (pos - first < 9) nsec = nsec * 10 + c;
        pos++;
        c = pos < end ? buf[pos]! - ZERO : -1;
      }
      const digits = pos - first;
      if (digits === 0) return -1;
      if (digits < 9) nsec *= SCALE[digits]!;
      if (pos >= end) return -1;
      c = buf[pos]!;
    }
    if (c === 0x5a /* Z */) {
      this.sec = local;
      this.nsec = nsec;
      return pos + 1;
    }
    if ((c !== 0x2b /* + */ && c !== 0x2d) /* - */ || end - pos < 6 || buf[pos + 3] !== 0x3a) return -1;
    const hh = twoDigits(buf, pos + 1);
    const mm = twoDigits(buf, pos + 4);
    if (hh > 23 || mm > 59) return -1;
    const offset = hh * 3600 + mm * 60;
    this.sec = c === 0x2b ? local - offset : local + offset;
    this.nsec = nsec;
    return pos + 6;
  }

  #cacheHit(buf: Uint8Array, start: number): boolean {
    const cache = this.#cache;
    // Compare from the end: the seconds digits are the ones that change.
    for (let i = PREFIX - 1; i >= 0; i--) {
      if (buf[start + i] !== cache[i]) return false;
    }
    return true;
  }
}

/** Two ASCII digits as a number, or 100 when either is not a digit (every caller range-checks). */
function twoDigits(buf: Uint8Array, at: number): number {
  const a = buf[at]! - ZERO;
  const b = buf[at + 1]! - ZERO;
  if (a < 0 || a > 9 || b < 0 || b > 9) return 100;
  return a * 10 + b;
}

/** Epoch seconds of `YYYY-MM-DDTHH:MM:SS` read as UTC, or NaN when it is not one. */
function parsePrefix(buf: Uint8Array, s: number): number {
  if (buf[s + 4] !== 0x2d || buf[s + 7] !== 0x2d || buf[s + 10] !== 0x54) return Number.NaN;
  if (buf[s + 13] !== 0x3a || buf[s + 16] !== 0x3a) return Number.NaN;
  const y1 = twoDigits(buf, s);
  const y2 = twoDigits(buf, s + 2);
  const month = twoDigits(buf, s + 5);
  const day = twoDigits(buf, s + 8);
  const hour = twoDigits(buf, s + 11);
  const minute = twoDigits(buf, s + 14);
  const second = twoDigits(buf, s + 17);
  if (y1 > 99 || y2 > 99 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  const year = y1 * 100 + y2;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
  return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
