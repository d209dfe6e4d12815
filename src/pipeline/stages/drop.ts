//! The `drop` stage: drops entries that meet every condition it sets (Promtail's drop.go).
//!
//! ```yaml
//! - drop:
//!     source: [level, msg]     # extracted keys (a string or a list); none: the line itself
//!     separator: '#'           # joins the sources' values @default ';'
//!     expression: 'error#.*'   # Go RE2, unanchored (a substring match)
//!     value: 'error#x'         # or: equal to the joined values (needs `source`; not with `expression`)
//!     older_than: 24h          # Go duration: the entry's timestamp is before now − 24h
//!     longer_than: 8kb         # bytes (UTF-8), powers of 1024: 8kb = 8192
//!     drop_counter_reason: too_old   # @default drop_stage
//! ```
//! The conditions combine with AND (several `drop` stages make an OR), checked in Promtail's order:
//! - `longer_than`: the line is longer than that many bytes.
//! - `older_than`: the timestamp is strictly before now minus the duration.
//! - `source` without `expression`/`value`: every listed key is present in the extracted data (any value,
//!   even null or empty; Promtail's docs say "at least one", its code requires all, and docktail follows
//!   the code).
//! - `expression` without `source`: the regex matches somewhere in the line.
//! - `source` with `expression`/`value`: the values of the present sources (absent ones are skipped,
//!   not joined as empty) joined with `separator` match. A present value that is not a string, number
//!   or boolean (a list, a map, null) means no drop.

import { translateGoRegex } from '../../relabel/go-regex.js';
import type { PipelineEntry, Stage, StageFactory, StageIssue } from '../stage.js';
import {
  expected,
  extractedValueString,
  parseDatasize,
  parseGoDuration,
  structConfig,
  weakString,
} from './config-values.js';

const KEYS = [
  'source',
  'separator',
  'expression',
  'value',
  'older_than',
  'longer_than',
  'drop_counter_reason',
];

interface DropConditions {
  longerThan: number | undefined;
  olderThanMs: number | undefined;
  sources: readonly string[] | undefined;
  separator: string;
  regex: RegExp | undefined;
  value: string | undefined;
}

/** Whether `line` is more than `limit` bytes in UTF-8, measuring only when the length cannot tell. */
function longerThan(line: string, limit: number): boolean {
  if (line.length > limit) return true; // a UTF-16 unit is at least one byte
  if (line.length * 3 <= limit) return false; // and at most three (a surrogate pair: 4 bytes for 2 units)
  return Buffer.byteLength(line, 'utf8') > limit;
}

function present(extracted: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(extracted, key) && extracted[key] !== undefined;
}

class DropStage implements Stage {
  readonly name = 'drop';
  readonly dropReason: string;
  readonly #c: DropConditions;

  constructor(conditions: DropConditions, dropReason: string) {
    this.#c = conditions;
    this.dropReason = dropReason;
  }

  process(entry: PipelineEntry): 'keep' | 'drop' {
    const c = this.#c;
    if (c.longerThan !== undefined && !longerThan(entry.line, c.longerThan)) return 'keep';
    if (c.olderThanMs !== undefined) {
      const at = entry.sec * 1000 + entry.nsec / 1e6;
      if (!(at < Date.now() - c.olderThanMs)) return 'keep';
    }
    const sources = c.sources;
    const matchesValue = c.regex !== undefined || c.value !== undefined;
    if (sources === undefined) {
      if (c.regex !== undefined && !c.regex.test(entry.line)) return 'keep';
      return 'drop';
    }
    if (!matchesValue) {
      for (let i = 0; i < sources.length; i++) if (!present(entry.extracted, sources[i]!)) return 'keep';
      return 'drop';
    }
    let joined: string | undefined;
    for (let i = 0; i < sources.length; i++) {
      const key = sources[i]!;
      if (!present(entry.extracted, key)) continue;
      const text = extractedValueString(entry.extracted[key]);
      if (text === undefined) return 'keep';
      joined = joined === undefined ? text : joined + c.separator + text;
    }
    joined ??= '';
    const matched = c.value !== undefined ? joined === c.value : c.regex!.test(joined);
    return matched ? 'drop' : 'keep';
  }
}

function readSources(value: unknown, issues: StageIssue[]): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) {
    expected(issues, ['source'], 'an extracted key or a list of them', value);
    return undefined;
  }
  const before = issues.length;
  value.forEach((key, i) => {
    if (typeof key !== 'string') expected(issues, ['source', i], 'an extracted key (a string)', key);
  });
  return issues.length > before ? undefined : (value as string[]);
}

/** `drop`: see the module comment for the keys and how they combine. */
export const createDropStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  const m = structConfig(config, KEYS, issues);
  if (m === undefined) return { issues };
  const sources = readSources(m.source, issues);
  const separator = weakString(m, 'separator', issues) ?? ';';
  const expression = weakString(m, 'expression', issues);
  const value = weakString(m, 'value', issues);
  const olderThan = weakString(m, 'older_than', issues);
  const longerThanText = weakString(m, 'longer_than', issues);
  const reason = weakString(m, 'drop_counter_reason', issues);
  const given = (key: string) => m[key] !== undefined && m[key] !== null;
  const hasSource = given('source');

  if (!hasSource && !given('expression') && !given('older_than') && !given('longer_than')) {
    issues.push({
      path: [],
      message:
        'drop stage config must contain at least one of `source`, `expression`, `older_than` or `longer_than`',
    });
  }
  if (value !== undefined && !hasSource) {
    issues.push({
      path: ['value'],
      message: 'drop stage config must contain `source` if `value` is specified',
    });
  }
  if (value !== undefined && expression !== undefined) {
    issues.push({
      path: ['value'],
      message: '`value` and `expression` cannot both be defined: use one of them',
    });
  }
  let regex: RegExp | undefined;
  if (expression !== undefined) {
    const compiled = translateGoRegex(expression, { anchor: false });
    if (compiled.ok) regex = compiled.regex;
    else issues.push({ path: ['expression'], message: compiled.message });
  }
  let olderThanMs: number | undefined;
  if (olderThan !== undefined) {
    const parsed = parseGoDuration(olderThan);
    if (parsed.ok) olderThanMs = parsed.ms;
    else {
      issues.push({
        path: ['older_than'],
        message: `Invalid \`older_than\` \`${olderThan}\`: ${parsed.message} (a Go duration such as 90s, 24h or 1h30m)`,
      });
    }
  }
  let longerThanBytes: number | undefined;
  if (longerThanText !== undefined) {
    const parsed = parseDatasize(longerThanText);
    if (parsed.ok) longerThanBytes = parsed.bytes;
    else {
      issues.push({
        path: ['longer_than'],
        message: `Invalid \`longer_than\` \`${longerThanText}\`: ${parsed.message} (whole bytes, or with a unit: 8kb, 1mb)`,
      });
    }
  }
  if (issues.length > 0) return { issues };
  const conditions: DropConditions = {
    longerThan: longerThanBytes,
    olderThanMs,
    sources: hasSource ? (sources ?? []) : undefined,
    separator,
    regex,
    value,
  };
  return {
    stage: new DropStage(conditions, reason === undefined || reason === '' ? 'drop_stage' : reason),
    issues,
  };
};
