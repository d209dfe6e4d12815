//! Reading a time value with a compiled Go layout (layout.ts), element by element, with Go's rules
//! (getnum, lookup, zone forms, fractional seconds, `_2`, `002`, AM/PM, range checks): the wall clock
//! and what the value said about its zone.

import { daysIn } from './civil.js';
import {
  atoi,
  getnum,
  getnumEnd,
  getnumOk,
  isDigit,
  LONG_DAYS,
  LONG_MONTHS,
  lookup,
  nanoseconds,
  numericZone,
  SHORT_DAYS,
  SHORT_MONTHS,
  skip,
  ydayToDate,
  zoneLength,
} from './fields.js';
import * as S from './layout.js';

/** What a value says: the wall clock, and its zone when it names one. */
export interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  min: number;
  sec: number;
  nsec: number;
  /** The value said UTC (`Z`, `UTC`). */
  utc: boolean;
  /** Offset east of UTC in seconds, when the value had a numeric zone. */
  offset: number | undefined;
  /** Zone abbreviation (`MST`, `GMT+3`), when the value had one. */
  zoneName: string | undefined;
}

function cannotParse(value: string, i: number, what: string): string {
  return `cannot parse ${JSON.stringify(value.slice(i))} as ${JSON.stringify(what)}`;
}

/** Go's parse: reads `value` with a compiled layout; a message (Go's ParseError gist) when it does not fit. */
export function readWall(compiled: S.CompiledLayout, value: string): Wall | string {
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let utc = false;
  let offset: number | undefined;
  let zoneName: string | undefined;
  let pmSet = false;
  let amSet = false;
  let i = 0;
  const chunks = compiled.chunks;
  for (let c = 0; c <= chunks.length; c++) {
    const chunk = chunks[c];
    const prefix = chunk === undefined ? compiled.suffix : chunk.prefix;
    const skipped = skip(value, i, prefix);
    if (skipped < 0) return cannotParse(value, i, prefix);
    i = skipped;
    if (chunk === undefined) {
      if (i < value.length) return `extra text: ${JSON.stringify(value.slice(i))}`;
      break;
    }
    const hold = i;
    let ok = true;
    let range = '';
    switch (chunk.std) {
      case S.YEAR: {
        const n = value.length - i >= 2 ? atoi(value.slice(i, i + 2)) : undefined;
        if (n === undefined) ok = false;
        else {
          year = n >= 69 ? n + 1900 : n + 2000;
          i += 2;
        }
        break;
      }
      case S.LONG_YEAR: {
        const n = value.length - i >= 4 && isDigit(value, i) ? atoi(value.slice(i, i + 4)) : undefined;
        if (n === undefined) ok = false;
        else {
          year = n;
          i += 4;
        }
        break;
      }
      case S.MONTH:
      case S.LONG_MONTH: {
        const table = chunk.std === S.MONTH ? SHORT_MONTHS : LONG_MONTHS;
        const k = lookup(table, value, i);
        if (k < 0) ok = false;
        else i += table[k]!.length;
        month = k + 1;
        break;
      }
      case S.NUM_MONTH:
      case S.ZERO_MONTH:
        month = getnum(value, i, chunk.std === S.ZERO_MONTH);
        ok = getnumOk();
        i = getnumEnd();
        if (ok && (month <= 0 || month > 12)) range = 'month';
        break;
      case S.WEEKDAY:
      case S.LONG_WEEKDAY: {
        const table = chunk.std === S.WEEKDAY ? SHORT_DAYS : LONG_DAYS;
        const k = lookup(table, value, i);
        if (k < 0) ok = false;
        else i += table[k]!.length;
        break;
      }
      case S.DAY:
      case S.UNDER_DAY:
      case S.ZERO_DAY:
        if (chunk.std === S.UNDER_DAY && value[i] === ' ') i++;
        day = getnum(value, i, chunk.std === S.ZERO_DAY);
        ok = getnumOk();
        i = getnumEnd();
        break;
      case S.UNDER_YEARDAY:
      case S.ZERO_YEARDAY: {
        for (let k = 0; k < 2; k++) if (chunk.std === S.UNDER_YEARDAY && value[i] === ' ') i++;
        let n = 0;
        let k = 0;
        for (; k < 3 && isDigit(value, i + k); k++) n = n * 10 + value.charCodeAt(i + k) - 0x30;
        if (k === 0 || (chunk.std === S.ZERO_YEARDAY && k !== 3)) ok = false;
        yday = n;
        i += k;
        break;
      }
      case S.HOUR:
        hour = getnum(value, i, false);
        ok = getnumOk();
        i = getnumEnd();
        if (hour < 0 || hour >= 24) range = 'hour';
        break;
      case S.HOUR12:
      case S.ZERO_HOUR12:
        hour = getnum(value, i, chunk.std === S.ZERO_HOUR12);
        ok = getnumOk();
        i = getnumEnd();
        if (hour < 0 || hour > 12) range = 'hour';
        break;
      case S.MINUTE:
      case S.ZERO_MINUTE:
        min = getnum(value, i, chunk.std === S.ZERO_MINUTE);
        ok = getnumOk();
        i = getnumEnd();
        if (min < 0 || min >= 60) range = 'minute';
        break;
      case S.SECOND:
      case S.ZERO_SECOND: {
        sec = getnum(value, i, chunk.std === S.ZERO_SECOND);
        ok = getnumOk();
        i = getnumEnd();
        if (!ok) break;
        if (sec < 0 || sec >= 60) {
          range = 'second';
          break;
        }
        // A fraction in the value but not in the layout is read anyway (unless the layout has one next).
        const sep = value[i];
        if ((sep === '.' || sep === ',') && isDigit(value, i + 1)) {
          const following = chunks[c + 1];
          if (following !== undefined && (following.std === S.FRAC0 || following.std === S.FRAC9)) break;
          let n = 2;
          while (isDigit(value, i + n)) n++;
          const ns = nanoseconds(value, i, n);
          if (ns === undefined) ok = false;
          else nsec = ns;
          i += n;
        }
        break;
      }
      case S.PM_UPPER:
      case S.PM_LOWER: {
        const p = value.slice(i, i + 2);
        const [am, pm] = chunk.std === S.PM_UPPER ? ['AM', 'PM'] : ['am', 'pm'];
        if (p === pm) pmSet = true;
        else if (p === am) amSet = true;
        else ok = false;
        i += 2;
        break;
      }
      case S.ISO_TZ:
      case S.ISO_SECONDS_TZ:
      case S.ISO_SHORT_TZ:
      case S.ISO_COLON_TZ:
      case S.ISO_COLON_SECONDS_TZ:
      case S.NUM_TZ:
      case S.NUM_SECONDS_TZ:
      case S.NUM_SHORT_TZ:
      case S.NUM_COLON_TZ:
      case S.NUM_COLON_SECONDS_TZ: {
        if (chunk.std <= S.ISO_COLON_SECONDS_TZ && value[i] === 'Z') {
          // The ISO 8601 forms take `Z` for UTC, and a numeric offset otherwise.
          i++;
          utc = true;
          break;
        }
        const z = numericZone(S.ZONE_FORMS[chunk.std]!, value, i);
        if (typeof z === 'string') {
          if (z === '') ok = false;
          else range = z;
        } else {
          offset = z[0];
          i = z[1];
        }
        break;
      }
      case S.TZ: {
        if (value.startsWith('UTC', i)) {
          utc = true;
          i += 3;
          break;
        }
        const n = zoneLength(value, i);
        if (n === 0) ok = false;
        else {
          zoneName = value.slice(i, i + n);
          i += n;
        }
        break;
      }
      case S.FRAC0: {
        const n = 1 + chunk.digits;
        const ns = value.length - i >= n ? nanoseconds(value, i, n) : undefined;
        if (ns === undefined) ok = false;
        else nsec = ns;
        i += n;
        break;
      }
      case S.FRAC9: {
        const sep = value[i];
        if ((sep !== '.' && sep !== ',') || !isDigit(value, i + 1)) break; // fraction omitted
        let n = 1;
        while (isDigit(value, i + n)) n++;
        const ns = nanoseconds(value, i, n);
        if (ns === undefined) ok = false;
        else nsec = ns;
        i += n;
        break;
      }
    }
    if (range) return `${range} out of range`;
    if (!ok) {
      return cannotParse(value, hold, chunk.text);
    }
  }
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;
  if (yday >= 0) {
    const fromYday = ydayToDate(yday, year);
    if (typeof fromYday === 'string') return fromYday;
    if (month >= 0 && month !== fromYday[0]) return 'day-of-year does not match month';
    if (day >= 0 && day !== fromYday[1]) return 'day-of-year does not match day';
    [month, day] = fromYday;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) return 'day out of range';
  return { year, month, day, hour, min, sec, nsec, utc, offset, zoneName };
}
