//! Shared by the label, metadata and filtering stages: reading a stage's YAML value the way Promtail's
//! mapstructure does (strict `Decode` or `WeakDecode`), Promtail's `getString` for extracted values,
//! Go's `time.ParseDuration`, the `datasize` byte sizes of `longer_than`, and the issue texts.

import { show, suggest, typeName } from '../../config/check.js';
import { formatPath } from '../../core/errors.js';
import { isValidLabelName } from '../../relabel/relabel.js';
import type { StageIssue } from '../stage.js';

export type Mapping = Record<string, unknown>;

/**
 * Promtail keeps the tenant as the reserved label `__tenant_id__` (promtail/client), so a stage that
 * sets, drops or keeps that label changes the tenant; docktail keeps it in `PipelineEntry.tenant`.
 */
export const TENANT_LABEL = '__tenant_id__';

/** Loki's label-name rule (the legacy Prometheus one; see relabel.ts for why not UTF-8 names). */
export const isLabelName = isValidLabelName;

export function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** ``Expected `key` to be <what>, got `value` (type)`` at `[key]`. */
export function expected(
  issues: StageIssue[],
  path: (string | number)[],
  what: string,
  value: unknown,
): void {
  const name = path.length === 0 ? 'the stage config' : `\`${formatPath(path)}\``;
  issues.push({
    path,
    message: `Expected ${name} to be ${what}, got \`${show(value)}\` (${typeName(value)})`,
  });
}

/**
 * The stage config as a mapping. `null` (the stage written with no value) is `{}`, as mapstructure
 * decodes nil into a zero struct. Keys outside `known` are issues: Promtail ignores them silently, which
 * turns a misspelt `expresion:` into a drop of every line, so docktail refuses them like every other key.
 */
export function structConfig(
  config: unknown,
  known: readonly string[],
  issues: StageIssue[],
): Mapping | undefined {
  if (config === null || config === undefined) return {};
  if (!isMapping(config)) {
    expected(issues, [], 'a mapping', config);
    return undefined;
  }
  for (const key of Object.keys(config)) {
    if (known.includes(key)) continue;
    const hint = suggest(key, known);
    issues.push({
      path: [key],
      message: `Unknown key \`${key}\`${hint === undefined ? '' : ` (did you mean \`${hint}\`?)`}`,
    });
  }
  return config;
}

/** A string field under strict `Decode`: only a string, absent when missing or null. */
export function strictString(m: Mapping, key: string, issues: StageIssue[]): string | undefined {
  const value = m[key];
  if (value === undefined || value === null || typeof value === 'string') return value ?? undefined;
  expected(issues, [key], 'a string (quote it)', value);
  return undefined;
}

/**
 * A string field under `WeakDecode`: numbers as Go formats them, booleans as `1`/`0` (mapstructure's
 * rule: `value: true` compares against "1"), absent when missing or null.
 */
export function weakString(m: Mapping, key: string, issues: StageIssue[]): string | undefined {
  const value = m[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return goFormatFloat(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  expected(issues, [key], 'a string', value);
  return undefined;
}

/** A number field under `WeakDecode` (float64): numbers, numeric strings, booleans as 1/0. */
export function weakNumber(m: Mapping, key: string, issues: StageIssue[]): number | undefined {
  const value = m[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    const n = trimmed === '' ? 0 : Number(trimmed);
    if (trimmed === value && Number.isFinite(n)) return n;
  }
  expected(issues, [key], 'a number', value);
  return undefined;
}

const GO_TRUE = new Set([
  '1',
  't',
  'T',
  'TRUE',
  'true',
  'True',
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'on',
  'On',
  'ON',
]);
const GO_FALSE = new Set([
  '0',
  'f',
  'F',
  'FALSE',
  'false',
  'False',
  'n',
  'N',
  'no',
  'No',
  'NO',
  'off',
  'Off',
  'OFF',
]);

/**
 * A boolean field under `WeakDecode`: booleans, numbers (non-zero is true), Go's `ParseBool` strings,
 * and YAML 1.1's `yes`/`no`/`on`/`off`, which Promtail's yaml.v2 reads as booleans and js-yaml as strings.
 */
export function weakBool(m: Mapping, key: string, issues: StageIssue[]): boolean | undefined {
  const value = m[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') {
    if (value === '' || GO_FALSE.has(value)) return false;
    if (GO_TRUE.has(value)) return true;
  }
  expected(issues, [key], 'a boolean', value);
  return undefined;
}

/**
 * Promtail's `getString` for an extracted value: strings as they are, numbers as Go's
 * `FormatFloat(v, 'f', -1, 64)` (never an exponent), booleans as `true`/`false`. Anything else (null,
 * lists, maps) cannot be converted: undefined, and the caller leaves the entry alone.
 */
export function extractedValueString(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return goFormatFloat(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    default:
      return undefined;
  }
}

/** Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest digits that read back, never an exponent. */
export function goFormatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const text = String(v);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const negative = text.startsWith('-');
  const mantissa = text.slice(negative ? 1 : 0, e);
  const exponent = Number(text.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  // Position of the decimal point within `digits` once the exponent is applied.
  const point = (dot < 0 ? mantissa.length : dot) + exponent;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${out}` : out;
}

/** A label value as Loki stores it: valid UTF-8 (a lone surrogate becomes U+FFFD, as Go's decoders do). */
export function wellFormed(value: string): string {
  const s = value as string & { isWellFormed(): boolean; toWellFormed(): string };
  return s.isWellFormed() ? value : s.toWellFormed();
}

const GO_DURATION_UNITS: ReadonlyMap<string, number> = new Map([
  ['ns', 1e-6],
  ['us', 1e-3],
  ['µs', 1e-3], // U+00B5
  ['μs', 1e-3], // U+03BC
  ['ms', 1],
  ['s', 1_000],
  ['m', 60_000],
  ['h', 3_600_000],
]);
/** Go's largest Duration (int64 nanoseconds), in ms. */
const MAX_DURATION_MS = 9_223_372_036_854.775;

/**
 * Go's `time.ParseDuration`, strictly (no `d`, `w` or `y`, unlike Prometheus durations), in ms; or Go's
 * error text (`time: unknown unit "y" in duration "10y"`).
 */
export function parseGoDuration(text: string): { ok: true; ms: number } | { ok: false; message: string } {
  const quoted = JSON.stringify(text);
  const invalid = { ok: false as const, message: `time: invalid duration ${quoted}` };
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s[0] === '-' ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return { ok: true, ms: 0 };
  if (s === '') return invalid;
  let total = 0;
  let i = 0;
  while (i < s.length) {
    const start = i;
    while (i < s.length && s[i]! >= '0' && s[i]! <= '9') i++;
    const pre = i > start;
    let post = false;
    if (s[i] === '.') {
      const fracStart = ++i;
      while (i < s.length && s[i]! >= '0' && s[i]! <= '9') i++;
      post = i > fracStart;
    }
    if (!pre && !post) return invalid;
    const value = Number(s.slice(start, i));
    const unitStart = i;
    while (i < s.length && s[i] !== '.' && !(s[i]! >= '0' && s[i]! <= '9')) i++;
    if (i === unitStart) return { ok: false, message: `time: missing unit in duration ${quoted}` };
    const unitText = s.slice(unitStart, i);
    const unit = GO_DURATION_UNITS.get(unitText);
    if (unit === undefined) {
      return { ok: false, message: `time: unknown unit ${JSON.stringify(unitText)} in duration ${quoted}` };
    }
    total += value * unit;
    if (total > MAX_DURATION_MS) return invalid;
  }
  return { ok: true, ms: sign * total };
}

const DATASIZE_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['', 1n],
  ['b', 1n],
  ['byte', 1n],
  ...['k', 'kb', 'kilo', 'kilobyte', 'kilobytes'].map(u => [u, 1n << 10n] as const),
  ...['m', 'mb', 'mega', 'megabyte', 'megabytes'].map(u => [u, 1n << 20n] as const),
  ...['g', 'gb', 'giga', 'gigabyte', 'gigabytes'].map(u => [u, 1n << 30n] as const),
  ...['t', 'tb', 'tera', 'terabyte', 'terabytes'].map(u => [u, 1n << 40n] as const),
  ...['p', 'pb', 'peta', 'petabyte', 'petabytes'].map(u => [u, 1n << 50n] as const),
  ...['e', 'eb'].map(u => [u, 1n << 60n] as const),
]);

/**
 * Promtail's `flagext.ByteSize` (c2h5oh/datasize on the upper-cased text): whole digits, then an
 * optional unit where every multiple is a power of 1024 (`8kb` is 8192, `1.5kb` is an error). The
 * error text is Go's: `strconv.UnmarshalText: parsing "23QB": invalid syntax`.
 */
export function parseDatasize(text: string): { ok: true; bytes: number } | { ok: false; message: string } {
  const upper = text.toUpperCase();
  const fail = (why: string) => ({
    ok: false as const,
    message: `strconv.UnmarshalText: parsing ${JSON.stringify(upper)}: ${why}`,
  });
  let i = 0;
  while (i < upper.length && upper[i]! >= '0' && upper[i]! <= '9') i++;
  if (i === 0) return fail('invalid syntax');
  const unit = DATASIZE_UNITS.get(upper.slice(i).trim().toLowerCase());
  if (unit === undefined) return fail('invalid syntax');
  const bytes = BigInt(upper.slice(0, i)) * unit;
  if (bytes > 0xffff_ffff_ffff_ffffn) return fail('value out of range');
  return { ok: true, bytes: Number(bytes) };
}
