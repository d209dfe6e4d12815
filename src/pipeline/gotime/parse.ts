//! Timestamp parsers for the `timestamp` stage, built once per format as Promtail's convertDateLayout
//! builds them: Go's named layouts, `Unix`/`UnixMs`/`UnixUs`/`UnixNs`, and custom layouts (in the
//! configured location; without a year, the current year with Promtail's new-year correction).
//! Results are whole seconds plus nanoseconds: integer arithmetic, never a float for nanoseconds.

import { civilSeconds, daysIn } from './civil.js';
import { digitsIn, isDigit, nanoseconds } from './fields.js';
import { compileLayout } from './layout.js';
import { readWall, type Wall } from './read.js';
import { type TimeLocation, UTC, wallToUnix } from './zone.js';

/** Where a parser writes its result. */
export interface Instant {
  sec: number;
  nsec: number;
}

/** Parses one value into `out`; false when the value does not fit the format. */
export type TimestampParser = (value: string, out: Instant) => boolean;

/** Go's predefined layouts, by name. */
export const NAMED_LAYOUTS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    ANSIC: 'Mon Jan _2 15:04:05 2006',
    UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
    RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
    RFC822: '02 Jan 06 15:04 MST',
    RFC822Z: '02 Jan 06 15:04 -0700',
    RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
    RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
    RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
    RFC3339: '2006-01-02T15:04:05Z07:00',
    RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  }),
);

/**
 * Layouts docktail also accepts by name. Promtail passes these names to Go as literal layouts (which
 * then match nothing but the name itself); here they mean Go's constants of the same name.
 */
export const EXTRA_NAMED_LAYOUTS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    Kitchen: '3:04PM',
    Stamp: 'Jan _2 15:04:05',
    StampMilli: 'Jan _2 15:04:05.000',
    StampMicro: 'Jan _2 15:04:05.000000',
    StampNano: 'Jan _2 15:04:05.000000000',
  }),
);

const INT64_MAX = 0x7fff_ffff_ffff_ffffn;
const INT64_MIN = -0x8000_0000_0000_0000n;
const BILLION = 1_000_000_000n;

/** Go's strconv.ParseInt(s, 10, 64). */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n > INT64_MAX || n < INT64_MIN ? undefined : n;
}

/** Plain digits short enough to be exact as a double (the common case, without BigInt). */
const SMALL_UINT = /^\d{1,15}$/;

/** Go's time.Unix(0, ns) for an int64 nanosecond count (which Go computes with wrap-around). */
function fromNanos(ns: bigint, out: Instant): true {
  const wrapped = BigInt.asIntN(64, ns);
  let sec = wrapped / BILLION;
  let rem = wrapped % BILLION;
  if (rem < 0n) {
    rem += BILLION;
    sec -= 1n;
  }
  out.sec = Number(sec);
  out.nsec = Number(rem);
  return true;
}

/** `UnixMs` / `UnixUs` / `UnixNs`: an integer count of `unitNs` nanoseconds. */
function unixParser(unitNs: number): TimestampParser {
  const perSecond = 1e9 / unitNs;
  const scale = BigInt(unitNs);
  return (value, out) => {
    // Go multiplies in int64 (wrapping past year 2262): only counts well inside that range take this path.
    if (SMALL_UINT.test(value) && Number(value) * unitNs < 9.2e18) {
      const n = Number(value);
      const sec = Math.floor(n / perSecond);
      out.sec = sec;
      out.nsec = (n - sec * perSecond) * unitNs;
      return true;
    }
    if (unitNs === 1 && /^\d{16,19}$/.test(value) && (value.length < 19 || value <= '9223372036854775807')) {
      // Nanoseconds: the seconds and the last nine digits, both exact as doubles.
      out.sec = Number(value.slice(0, -9));
      out.nsec = Number(value.slice(-9));
      return true;
    }
    const n = parseInt64(value);
    return n !== undefined && fromNanos(n * scale, out);
  };
}

/** Promtail's `Unix`: whole seconds, or seconds and a fraction (`1562708916.000000123`). */
const parseUnixSeconds: TimestampParser = (value, out) => {
  const dot = value.indexOf('.');
  if (dot < 0 || value.indexOf('.', dot + 1) >= 0) {
    const n = parseInt64(value);
    if (n === undefined) return false;
    out.sec = Number(n);
    out.nsec = 0;
    return true;
  }
  const secText = value.slice(0, dot);
  const fracText = value.slice(dot + 1);
  // Promtail scales the fraction with a float: int64(float64(frac) * 10^(9-len)); exact for ≤ 9 digits.
  if (SMALL_UINT.test(secText) && fracText.length <= 9 && /^\d+$/.test(fracText)) {
    out.sec = Number(secText);
    out.nsec = Number(fracText) * 10 ** (9 - fracText.length);
    return true;
  }
  const sec = parseInt64(secText);
  const frac = parseInt64(fracText);
  if (sec === undefined || frac === undefined) return false;
  const nsec = BigInt(Math.trunc(Number(frac) * 10 ** (9 - fracText.length)));
  return fromNanos(sec * BILLION + nsec, out);
};

/** How a custom layout resolves a value's zone: Go's `parse(layout, value, defaultLoc, local)`. */
function toInstant(wall: Wall, defaultLoc: TimeLocation, local: TimeLocation, out: Instant): boolean {
  const wallSec = civilSeconds(wall.year, wall.month, wall.day, wall.hour, wall.min, wall.sec);
  let unix: number;
  if (wall.utc) unix = wallSec;
  else if (wall.offset !== undefined) unix = wallSec - wall.offset;
  else if (wall.zoneName !== undefined) {
    let offset = local.lookupAbbreviation(wall.zoneName, wallSec);
    if (offset === undefined) {
      // An unknown abbreviation gets a zero offset, except `GMT+3` style names.
      const gmt = /^GMT([+-]\d+)$/.exec(wall.zoneName);
      offset = gmt ? Number(gmt[1]) * 3600 : 0;
    }
    unix = wallSec - offset;
  } else unix = wallToUnix(wallSec, defaultLoc);
  out.sec = unix;
  out.nsec = wall.nsec;
  return true;
}

/**
 * Promtail's parseTimestampWithoutYear: the current year (UTC clock), or the previous/next one when
 * the value's month is December/January and the current month is January/December.
 */
function applyCurrentYear(wall: Wall, now: Date): void {
  const nowYear = now.getUTCFullYear();
  const nowMonth = now.getUTCMonth() + 1;
  if (wall.month === 12 && nowMonth === 1) wall.year += nowYear - 1;
  else if (wall.month === 1 && nowMonth === 12) wall.year += nowYear + 1;
  else wall.year += nowYear;
}

/**
 * Go's parseRFC3339, the fast path time.Parse takes for the RFC3339 and RFC3339Nano layouts before its
 * general parser: `2006-01-02T15:04:05[.fraction](Z|±hh:mm)` exactly. False when the value is not of
 * that form; the general parser then decides, as in Go. Where this accepts, the general parser gives
 * the same instant (test/unit/stage-timestamp.test.ts checks it on random values).
 */
export function parseRFC3339(value: string, out: Instant): boolean {
  const n = value.length;
  if (n < 20) return false;
  const year = digitsIn(value, 0, 4, 0, 9999);
  const month = digitsIn(value, 5, 7, 1, 12);
  if (year < 0 || month < 0) return false;
  const day = digitsIn(value, 8, 10, 1, daysIn(month, year));
  const hour = digitsIn(value, 11, 13, 0, 23);
  const min = digitsIn(value, 14, 16, 0, 59);
  const sec = digitsIn(value, 17, 19, 0, 59);
  if (day < 0 || hour < 0 || min < 0 || sec < 0) return false;
  if (value[4] !== '-' || value[7] !== '-' || value[10] !== 'T' || value[13] !== ':' || value[16] !== ':') {
    return false;
  }
  let i = 19;
  let nsec = 0;
  if (value[i] === '.' && isDigit(value, i + 1)) {
    let j = i + 2;
    while (j < n && isDigit(value, j)) j++;
    nsec = nanoseconds(value, i, j - i)!;
    i = j;
  }
  let offset = 0;
  if (!(n - i === 1 && value[i] === 'Z')) {
    if (n - i !== 6) return false;
    const hh = digitsIn(value, i + 1, i + 3, 0, 23);
    const mm = digitsIn(value, i + 4, i + 6, 0, 59);
    const sign = value[i];
    if (hh < 0 || mm < 0 || (sign !== '-' && sign !== '+') || value[i + 3] !== ':') return false;
    offset = (hh * 60 + mm) * 60 * (sign === '-' ? -1 : 1);
  }
  out.sec = civilSeconds(year, month, day, hour, min, sec) - offset;
  out.nsec = nsec;
  return true;
}

const RFC3339_LAYOUTS = new Set([NAMED_LAYOUTS.get('RFC3339'), NAMED_LAYOUTS.get('RFC3339Nano')]);

function layoutParser(
  layout: string,
  location: TimeLocation | undefined,
  now: () => Date,
  fast: boolean,
): TimestampParser {
  const compiled = compileLayout(layout);
  const loc = location ?? UTC;
  // Go's time.Parse resolves abbreviations against Local: UTC, as Promtail runs in its container.
  const local = location ?? UTC;
  const withoutYear = !layout.includes('06');
  const rfc3339 = fast && RFC3339_LAYOUTS.has(layout);
  return (value, out) => {
    if (rfc3339 && parseRFC3339(value, out)) return true;
    const wall = readWall(compiled, value);
    if (typeof wall === 'string') return false;
    if (withoutYear) applyCurrentYear(wall, now());
    return toInstant(wall, loc, local, out);
  };
}

const UNIX_FORMATS = ['Unix', 'UnixMs', 'UnixUs', 'UnixNs'];

/** Every format name `timestampParser` knows. */
export const FORMAT_NAMES: readonly string[] = [
  ...NAMED_LAYOUTS.keys(),
  ...EXTRA_NAMED_LAYOUTS.keys(),
  ...UNIX_FORMATS,
];

/**
 * A format that is no name and holds no layout element (`RFC3339nano`, `unix`) can only ever match its
 * own text: Go accepts it, but every value then fails. True for such formats.
 */
export function hasNoElements(format: string): boolean {
  return !FORMAT_NAMES.includes(format) && compileLayout(format).chunks.length === 0;
}

/**
 * Promtail's convertDateLayout: a parser for a format name or layout. Named Go layouts ignore
 * `location` (Promtail parses them with time.Parse); custom ones use it.
 */
export function timestampParser(
  format: string,
  location: TimeLocation | undefined,
  now: () => Date = () => new Date(),
  /** Take Go's RFC3339 fast path (tests turn it off to compare it with the general parser). */
  fastRFC3339 = true,
): TimestampParser {
  switch (format) {
    case 'Unix':
      return parseUnixSeconds;
    case 'UnixMs':
      return unixParser(1_000_000);
    case 'UnixUs':
      return unixParser(1_000);
    case 'UnixNs':
      return unixParser(1);
  }
  const named = NAMED_LAYOUTS.get(format);
  if (named !== undefined) return layoutParser(named, undefined, now, fastRFC3339);
  return layoutParser(EXTRA_NAMED_LAYOUTS.get(format) ?? format, location, now, fastRFC3339);
}
