//! Time zones for Go-style parsing without a tz database package: IANA zones through Intl (offsets are
//! read back from the wall clock Intl formats, cached per minute), Go's `time.LoadLocation` rules for
//! names, and Go's `Date` rule for turning a wall clock into an instant across DST gaps and overlaps.

import { civilSeconds } from './civil.js';

export interface TimeLocation {
  readonly name: string;
  /** Offset east of UTC, in seconds, in effect at an instant. */
  offsetAt(unixSec: number): number;
  /** Go's `Location.lookupName`: the offset of zone abbreviation `abbr` as this location uses it near `unixSec`. */
  lookupAbbreviation(abbr: string, unixSec: number): number | undefined;
}

export const UTC: TimeLocation = {
  name: 'UTC',
  offsetAt: () => 0,
  lookupAbbreviation: abbr => (abbr === 'UTC' ? 0 : undefined),
};

const MAX_MS = 8.64e15;
const HALF_YEAR = 182 * 86400;

class IntlLocation implements TimeLocation {
  readonly name: string;
  readonly #wall: Intl.DateTimeFormat;
  readonly #abbreviations: Intl.DateTimeFormat[];
  readonly #offsets = new Map<number, number>();

  constructor(name: string) {
    this.name = name;
    this.#wall = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    // Two locales give the usual abbreviations (EST/PDT from en-US, CET/BST from en-GB).
    this.#abbreviations = ['en-US', 'en-GB'].map(
      locale => new Intl.DateTimeFormat(locale, { timeZone: name, timeZoneName: 'short' }),
    );
  }

  offsetAt(unixSec: number): number {
    // Zone transitions fall on whole minutes (but for 19th-century local mean time).
    const minute = Math.floor(unixSec / 60);
    let offset = this.#offsets.get(minute);
    if (offset === undefined) {
      offset = this.#compute(minute * 60);
      if (this.#offsets.size >= 10_000) this.#offsets.clear();
      this.#offsets.set(minute, offset);
    }
    return offset;
  }

  #compute(unixSec: number): number {
    const ms = Math.max(-MAX_MS, Math.min(MAX_MS, unixSec * 1000));
    let y = 0;
    let mo = 1;
    let d = 1;
    let h = 0;
    let mi = 0;
    let s = 0;
    let bc = false;
    for (const part of this.#wall.formatToParts(ms)) {
      const n = Number(part.value);
      switch (part.type) {
        case 'year':
          y = n;
          break;
        case 'month':
          mo = n;
          break;
        case 'day':
          d = n;
          break;
        case 'hour':
          h = n;
          break;
        case 'minute':
          mi = n;
          break;
        case 'second':
          s = n;
          break;
        case 'era':
          bc = part.value.startsWith('B');
          break;
      }
    }
    if (bc) y = 1 - y;
    return civilSeconds(y, mo, d, h, mi, s) - ms / 1000;
  }

  #nameAt(unixSec: number, format: Intl.DateTimeFormat): string | undefined {
    const ms = Math.max(-MAX_MS, Math.min(MAX_MS, unixSec * 1000));
    return format.formatToParts(ms).find(p => p.type === 'timeZoneName')?.value;
  }

  lookupAbbreviation(abbr: string, unixSec: number): number | undefined {
    // Go first looks for the zone of that name in effect at the time, then for any zone of that name;
    // the other side of the year stands in for "any" (standard versus daylight time).
    const at = unixSec - this.offsetAt(unixSec);
    for (const t of [at, at - HALF_YEAR, at + HALF_YEAR]) {
      for (const format of this.#abbreviations) {
        if (this.#nameAt(t, format) === abbr) return this.offsetAt(t);
      }
    }
    return undefined;
  }
}

/** Go's `time.LoadLocation`: "" and "UTC" are UTC, "Local" is the process's zone, else an IANA name. */
export function loadLocation(
  name: string,
): { ok: true; location: TimeLocation } | { ok: false; message: string } {
  if (name === '' || name === 'UTC') return { ok: true, location: UTC };
  let zone = name;
  if (name === 'Local') zone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
  else if (name.includes('..') || name.startsWith('/') || name.startsWith('\\') || /^[+-]/.test(name))
    return { ok: false, message: 'time: invalid location name' };
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return { ok: false, message: `unknown time zone ${name}` };
  }
  // Intl matches names case-insensitively; Go reads tzdata files, whose names are case-sensitive.
  if (resolved !== zone && resolved.toLowerCase() === zone.toLowerCase())
    return { ok: false, message: `unknown time zone ${name}` };
  if (resolved === 'UTC' || resolved === 'Etc/UTC') return { ok: true, location: UTC };
  return { ok: true, location: new IntlLocation(zone) };
}

/**
 * Go's `time.Date(…, loc)`: the instant of a wall clock in `loc`. Like Go, it takes the offset at the
 * wall clock read as UTC, then the offset at the instant that gives, so a time in a DST gap or overlap
 * resolves exactly as Go resolves it.
 */
export function wallToUnix(wallSec: number, loc: TimeLocation): number {
  if (loc === UTC) return wallSec;
  const first = loc.offsetAt(wallSec);
  if (first === 0) return wallSec;
  return wallSec - loc.offsetAt(wallSec - first);
}
