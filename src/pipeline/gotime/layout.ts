//! Go's `time.Parse` layouts (reference time `Mon Jan 2 15:04:05 -0700 MST 2006`): a layout is split
//! once, at config time, into literal prefixes and elements, as Go's nextStdChunk splits it. read.ts
//! reads values with the result; parse.ts turns what it reads into an instant.

import { isDigit, type ZoneForm } from './fields.js';

// Layout elements (Go's std* constants).
export const LONG_MONTH = 1;
export const MONTH = 2;
export const NUM_MONTH = 3;
export const ZERO_MONTH = 4;
export const LONG_WEEKDAY = 5;
export const WEEKDAY = 6;
export const DAY = 7;
export const UNDER_DAY = 8;
export const ZERO_DAY = 9;
export const UNDER_YEARDAY = 10;
export const ZERO_YEARDAY = 11;
export const HOUR = 12;
export const HOUR12 = 13;
export const ZERO_HOUR12 = 14;
export const MINUTE = 15;
export const ZERO_MINUTE = 16;
export const SECOND = 17;
export const ZERO_SECOND = 18;
export const LONG_YEAR = 19;
export const YEAR = 20;
export const PM_UPPER = 21;
export const PM_LOWER = 22;
export const TZ = 23;
export const ISO_TZ = 24; // Z0700
export const ISO_SECONDS_TZ = 25; // Z070000
export const ISO_SHORT_TZ = 26; // Z07
export const ISO_COLON_TZ = 27; // Z07:00
export const ISO_COLON_SECONDS_TZ = 28; // Z07:00:00
export const NUM_TZ = 29; // -0700
export const NUM_SECONDS_TZ = 30; // -070000
export const NUM_SHORT_TZ = 31; // -07
export const NUM_COLON_TZ = 32; // -07:00
export const NUM_COLON_SECONDS_TZ = 33; // -07:00:00
export const FRAC0 = 34; // .000
export const FRAC9 = 35; // .999

/** The numeric zone form of each zone element. */
export const ZONE_FORMS: Readonly<Record<number, ZoneForm>> = {
  [ISO_TZ]: 'hhmm',
  [NUM_TZ]: 'hhmm',
  [ISO_SECONDS_TZ]: 'hhmmss',
  [NUM_SECONDS_TZ]: 'hhmmss',
  [ISO_SHORT_TZ]: 'hh',
  [NUM_SHORT_TZ]: 'hh',
  [ISO_COLON_TZ]: 'hh:mm',
  [NUM_COLON_TZ]: 'hh:mm',
  [ISO_COLON_SECONDS_TZ]: 'hh:mm:ss',
  [NUM_COLON_SECONDS_TZ]: 'hh:mm:ss',
};

const STD_0X = [ZERO_MONTH, ZERO_DAY, ZERO_HOUR12, ZERO_MINUTE, ZERO_SECOND, YEAR];

/** One element of a layout and the literal text before it. */
export interface Chunk {
  prefix: string;
  std: number;
  /** The element as written, for error messages. */
  text: string;
  /** Digits of a fractional-second element. */
  digits: number;
}

export interface CompiledLayout {
  readonly layout: string;
  readonly chunks: readonly Chunk[];
  /** Literal text after the last element. */
  readonly suffix: string;
}

function startsWithLower(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x61 && c <= 0x7a;
}

/** Go's nextStdChunk: the first element at or after `from`, as [index, std, length, digits]. */
function nextStd(layout: string, from: number): [number, number, number, number] | undefined {
  for (let i = from; i < layout.length; i++) {
    const c = layout[i];
    switch (c) {
      case 'J':
        if (layout.startsWith('Jan', i)) {
          if (layout.startsWith('January', i)) return [i, LONG_MONTH, 7, 0];
          if (!startsWithLower(layout, i + 3)) return [i, MONTH, 3, 0];
        }
        break;
      case 'M':
        if (layout.startsWith('Mon', i)) {
          if (layout.startsWith('Monday', i)) return [i, LONG_WEEKDAY, 6, 0];
          if (!startsWithLower(layout, i + 3)) return [i, WEEKDAY, 3, 0];
        }
        if (layout.startsWith('MST', i)) return [i, TZ, 3, 0];
        break;
      case '0': {
        const d = layout.charCodeAt(i + 1) - 0x31;
        if (d >= 0 && d <= 5) return [i, STD_0X[d]!, 2, 0];
        if (layout.startsWith('002', i)) return [i, ZERO_YEARDAY, 3, 0];
        break;
      }
      case '1':
        return layout.startsWith('15', i) ? [i, HOUR, 2, 0] : [i, NUM_MONTH, 1, 0];
      case '2':
        return layout.startsWith('2006', i) ? [i, LONG_YEAR, 4, 0] : [i, DAY, 1, 0];
      case '_':
        if (layout[i + 1] === '2') {
          // `_2006` is a literal `_` followed by the year.
          if (layout.startsWith('2006', i + 1)) return [i + 1, LONG_YEAR, 4, 0];
          return [i, UNDER_DAY, 2, 0];
        }
        if (layout.startsWith('__2', i)) return [i, UNDER_YEARDAY, 3, 0];
        break;
      case '3':
        return [i, HOUR12, 1, 0];
      case '4':
        return [i, MINUTE, 1, 0];
      case '5':
        return [i, SECOND, 1, 0];
      case 'P':
        if (layout[i + 1] === 'M') return [i, PM_UPPER, 2, 0];
        break;
      case 'p':
        if (layout[i + 1] === 'm') return [i, PM_LOWER, 2, 0];
        break;
      case '-':
        if (layout.startsWith('-070000', i)) return [i, NUM_SECONDS_TZ, 7, 0];
        if (layout.startsWith('-07:00:00', i)) return [i, NUM_COLON_SECONDS_TZ, 9, 0];
        if (layout.startsWith('-0700', i)) return [i, NUM_TZ, 5, 0];
        if (layout.startsWith('-07:00', i)) return [i, NUM_COLON_TZ, 6, 0];
        if (layout.startsWith('-07', i)) return [i, NUM_SHORT_TZ, 3, 0];
        break;
      case 'Z':
        if (layout.startsWith('Z070000', i)) return [i, ISO_SECONDS_TZ, 7, 0];
        if (layout.startsWith('Z07:00:00', i)) return [i, ISO_COLON_SECONDS_TZ, 9, 0];
        if (layout.startsWith('Z0700', i)) return [i, ISO_TZ, 5, 0];
        if (layout.startsWith('Z07:00', i)) return [i, ISO_COLON_TZ, 6, 0];
        if (layout.startsWith('Z07', i)) return [i, ISO_SHORT_TZ, 3, 0];
        break;
      case '.':
      case ',': {
        const ch = layout[i + 1];
        if (ch === '0' || ch === '9') {
          let j = i + 1;
          while (layout[j] === ch) j++;
          // Only a fraction when the run of digits ends here.
          if (!isDigit(layout, j)) return [i, ch === '0' ? FRAC0 : FRAC9, j - i, j - i - 1];
        }
        break;
      }
    }
  }
  return undefined;
}

/** Splits a layout into elements once, at config time. */
export function compileLayout(layout: string): CompiledLayout {
  const chunks: Chunk[] = [];
  let pos = 0;
  for (;;) {
    const next = nextStd(layout, pos);
    if (next === undefined) break;
    const [index, std, length, digits] = next;
    chunks.push({ prefix: layout.slice(pos, index), std, text: layout.slice(index, index + length), digits });
    pos = index + length;
  }
  return { layout, chunks, suffix: layout.slice(pos) };
}
