//! Durations and byte sizes as Promtail configs write them. Durations follow Go's `time.ParseDuration`
//! (`500ms`, `1m30s`, `2h`, `1.5s`, `0`) plus the `d`, `w` and `y` units of Prometheus' `model.Duration`,
//! which Promtail uses for some keys (e.g. `refresh_interval`); a superset, so any Promtail value parses.
//! Sizes follow go-humanize's `ParseBytes` (Promtail's `flagext.ByteSize`): `1048576`, `512KiB`, `1MB`,
//! `256kB`, `2 M`; unit names are case-insensitive, `k`/`kB` are 1000 and `Ki`/`KiB` are 1024.

/** Milliseconds per duration unit. */
const DURATION_UNITS_MS: ReadonlyMap<string, number> = new Map([
  ['ns', 1e-6],
  ['us', 1e-3],
  ['µs', 1e-3], // U+00B5 micro sign
  ['μs', 1e-3], // U+03BC Greek mu
  ['ms', 1],
  ['s', 1_000],
  ['m', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
  ['w', 604_800_000],
  ['y', 31_536_000_000],
]);

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Parses a duration into milliseconds (possibly fractional, possibly negative); undefined when the text
 * is not a duration. Like Go, a bare number other than `0` is not a duration: the unit is required.
 */
export function parseDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  let i = 0;
  while (i < s.length) {
    const start = i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    const intDigits = i - start;
    let fracDigits = 0;
    if (s[i] === '.') {
      i++;
      const fracStart = i;
      while (i < s.length && isDigit(s.charCodeAt(i))) i++;
      fracDigits = i - fracStart;
    }
    if (intDigits === 0 && fracDigits === 0) return undefined;
    const value = Number(s.slice(start, i));
    const unitStart = i;
    while (i < s.length && s[i] !== '.' && !isDigit(s.charCodeAt(i))) i++;
    const unit = DURATION_UNITS_MS.get(s.slice(unitStart, i));
    if (unit === undefined || !Number.isFinite(value)) return undefined;
    total += value * unit;
  }
  return Number.isFinite(total) ? sign * total : undefined;
}

/** Renders milliseconds as a Go duration that `parseDuration` reads back: `1h30m`, `1s500ms`, `0s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms === 0) return '0s';
  let out = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const whole = Math.floor(rest);
  // Sub-millisecond digits, rounded to whole nanoseconds as Go keeps them.
  const subNs = Math.round((rest - whole) * 1e6);
  rest = whole;
  const parts: Array<[number, string]> = [
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1_000, 's'],
    [1, 'ms'],
  ];
  for (const [size, unit] of parts) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) out += `${n}${unit}`;
  }
  const us = Math.floor(subNs / 1_000);
  const ns = subNs - us * 1_000;
  if (us > 0) out += `${us}us`;
  if (ns > 0) out += `${ns}ns`;
  return out;
}

/** Bytes per size unit, as go-humanize's `bytesSizeTable` (keys lower-case). */
const SIZE_UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1],
  ['b', 1],
  ['k', 1e3],
  ['kb', 1e3],
  ['ki', 2 ** 10],
  ['kib', 2 ** 10],
  ['m', 1e6],
  ['mb', 1e6],
  ['mi', 2 ** 20],
  ['mib', 2 ** 20],
  ['g', 1e9],
  ['gb', 1e9],
  ['gi', 2 ** 30],
  ['gib', 2 ** 30],
  ['t', 1e12],
  ['tb', 1e12],
  ['ti', 2 ** 40],
  ['tib', 2 ** 40],
  ['p', 1e15],
  ['pb', 1e15],
  ['pi', 2 ** 50],
  ['pib', 2 ** 50],
]);

/**
 * Parses a size into whole bytes (fractions truncated, as go-humanize does); undefined when the text is
 * not a size or the result is not a safe integer. `1,024` is 1024 (commas are digit separators).
 */
export function parseSize(text: string): number | undefined {
  let end = 0;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (!(isDigit(c) || c === 46 /* . */ || c === 44) /* , */) break;
    end++;
  }
  const digits = text.slice(0, end).replaceAll(',', '');
  // Number('') is 0 and Number('1.') is 1; Go's ParseFloat rejects the first and accepts the second.
  if (!/^(\d+\.?\d*|\.\d+)$/.test(digits)) return undefined;
  const unit = SIZE_UNITS.get(text.slice(end).trim().toLowerCase());
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(digits) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
