//! The reading side of validation: typed field readers over parsed YAML that collect every problem as a
//! located ConfigIssue (p-queue's message style) instead of throwing, and notices for Promtail settings
//! docktail accepts but does not use. Validators in validate*.ts use it to build a Config.

import type { ConfigIssue } from '../core/errors.js';
import { formatPath } from '../core/errors.js';
import type { Locate } from './schema.js';
import { parseDuration, parseSize } from './units.js';
import type { ScalarInfo } from './yaml.js';

export type Path = ReadonlyArray<string | number>;
export type Mapping = Record<string, unknown>;

/** What a validator needs from the loader. */
export interface CheckContext {
  /** Line of a path in the original file. */
  locate: Locate;
  /** How the scalar at a path was written, when known. */
  scalar: (path: Path) => ScalarInfo | undefined;
  /** Whether `-config.expand-env` was on (for a hint when `${…}` shows up unexpanded). */
  expandEnv: boolean;
  /** Reads a `*_file` secret (path as written in the config). */
  readSecret: (file: string) => { ok: true; value: string } | { ok: false; error: string };
  /** Pipeline stages this version runs; any other known stage is an issue naming it. */
  executableStages: ReadonlySet<string>;
}

/** The keys a mapping may have. */
export interface KeySpec {
  known: readonly string[];
  /** Promtail keys accepted and ignored: key → why, reported as a notice. */
  ignored?: Readonly<Record<string, string>>;
  /** Promtail keys docktail refuses: key → message, reported as an issue. */
  unsupported?: Readonly<Record<string, string>>;
}

const YAML11_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const YAML11_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);

export function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** A short rendering of a value for a message. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? value : boundedJson(value, 80);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * JSON of a parsed YAML value, cut once past `max` characters. Not JSON.stringify: YAML aliases share
 * nodes, so nine levels of nine aliases are a small file but a value of 9⁹ items; rendering it whole took
 * minutes and then threw a RangeError (the "billion laughs" document).
 */
function boundedJson(value: unknown, max: number): string {
  let out = '';
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length && out.length <= max; i++) {
        if (i > 0) out += ',';
        visit(v[i] ?? null);
      }
      out += ']';
    } else if (typeof v === 'object' && v !== null) {
      out += '{';
      let first = true;
      for (const [k, item] of Object.entries(v)) {
        if (out.length > max) break;
        out += `${first ? '' : ','}${JSON.stringify(k)}:`;
        first = false;
        visit(item);
      }
      out += '}';
    } else {
      out += JSON.stringify(v) ?? String(v);
    }
  };
  visit(value);
  return out;
}

/** `batchsize`, or `clients[0]` for a list item. */
export function nameOf(path: Path): string {
  const last = path.at(-1);
  if (typeof last !== 'number') return last ?? 'config';
  return formatPath(path.slice(-2));
}

/** Levenshtein distance, for "did you mean" (keys are short). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The closest of `candidates` to `word`, if it is close enough to be a likely typo. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 4)) + 1;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

export class Checker {
  readonly issues: ConfigIssue[] = [];
  readonly notices: string[] = [];
  readonly ctx: CheckContext;

  constructor(ctx: CheckContext) {
    this.ctx = ctx;
  }

  issue(path: Path, message: string): void {
    this.issues.push({ path: [...path], message, line: this.ctx.locate(path) });
  }

  notice(path: Path, message: string): void {
    const line = this.ctx.locate(path);
    this.notices.push(`${formatPath(path)}${line === undefined ? '' : ` (line ${line})`}: ${message}`);
  }

  /** Reports a value of the wrong type: ``Expected `x` to be <what>, got `v` (type)``. */
  expected(path: Path, what: string, value: unknown, secret = false): void {
    let message = `Expected \`${nameOf(path)}\` to be ${what}, got \`${secret ? '<secret>' : show(value)}\` (${typeName(value)})`;
    if (!this.ctx.expandEnv && typeof value === 'string' && value.includes('${')) {
      message += '; to expand environment variables, run with -config.expand-env=true';
    }
    this.issue(path, message);
  }

  /**
   * The mapping at `path`: `{}` when absent or null, undefined (after an issue) when it is not a mapping.
   * Reports unknown keys (with a likely intended key), ignored keys and refused keys.
   */
  mapping(value: unknown, path: Path, spec: KeySpec): Mapping | undefined {
    if (value === undefined || value === null) return {};
    if (!isMapping(value)) {
      this.expected(path, 'a mapping', value);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (spec.known.includes(key)) continue;
      const keyPath = [...path, key];
      // Own keys only: `constructor` or `__proto__` in a config must not find Object.prototype's.
      const ignored = spec.ignored && Object.hasOwn(spec.ignored, key) ? spec.ignored[key] : undefined;
      const refused =
        spec.unsupported && Object.hasOwn(spec.unsupported, key) ? spec.unsupported[key] : undefined;
      if (ignored !== undefined) this.notice(keyPath, ignored);
      else if (refused !== undefined) this.issue(keyPath, refused);
      else {
        const all = [
          ...spec.known,
          ...Object.keys(spec.ignored ?? {}),
          ...Object.keys(spec.unsupported ?? {}),
        ];
        const hint = suggest(key, all);
        this.issue(
          keyPath,
          `Unknown key \`${key}\`${hint === undefined ? '' : ` (did you mean \`${hint}\`?)`}`,
        );
      }
    }
    return value;
  }

  /** A string; numbers and booleans are read as written (`tenant_id: 007` is "007"). Null is absent. */
  string(obj: Mapping, path: Path, key: string, secret = false): string | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    return this.#asString(value, [...path, key], secret);
  }

  #asString(value: unknown, at: Path, secret = false): string | undefined {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean')
      return this.ctx.scalar(at)?.text ?? String(value);
    this.expected(at, 'a string', value, secret);
    return undefined;
  }

  /** A boolean; YAML 1.1's plain `yes`/`no`/`on`/`off` too, as Promtail's yaml.v2 reads them. */
  bool(obj: Mapping, path: Path, key: string): boolean | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    const at = [...path, key];
    if (typeof value === 'string' && this.ctx.scalar(at)?.plain !== false) {
      if (YAML11_TRUE.has(value)) return true;
      if (YAML11_FALSE.has(value)) return false;
    }
    this.expected(at, 'true or false', value);
    return undefined;
  }

  /** An integer within [min, max]. */
  int(obj: Mapping, path: Path, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    this.expected([...path, key], `an integer ${range}`, value);
    return undefined;
  }

  /** A finite number of at least `min`. */
  number(obj: Mapping, path: Path, key: string, min: number): number | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number' && Number.isFinite(value) && value >= min) return value;
    this.expected([...path, key], `a number of ${min} or more`, value);
    return undefined;
  }

  /** A non-negative duration in ms (`positive`: above zero). A bare number is a duration only when 0. */
  duration(obj: Mapping, path: Path, key: string, positive = false): number | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    const ms = value === 0 ? 0 : typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms !== undefined && (positive ? ms > 0 : ms >= 0)) return ms;
    const what = positive
      ? 'a duration above 0, like 500ms, 10s or 1m30s'
      : 'a duration like 500ms, 1m30s or 2h';
    this.expected([...path, key], what, value);
    return undefined;
  }

  /** A size in bytes: a non-negative integer, or a number with a unit (`1MiB`, `256kB`). */
  size(obj: Mapping, path: Path, key: string): number | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    const bytes = typeof value === 'string' ? parseSize(value) : undefined;
    if (bytes !== undefined) return bytes;
    this.expected([...path, key], 'a size like 1048576 or 1MiB', value);
    return undefined;
  }

  /** A list; absent or null is undefined. */
  list(obj: Mapping, path: Path, key: string, what = 'a list'): unknown[] | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value)) return value;
    this.expected([...path, key], what, value);
    return undefined;
  }

  /** A list of strings (numbers read as written). */
  stringList(obj: Mapping, path: Path, key: string): string[] | undefined {
    const items = this.list(obj, path, key, 'a list of strings');
    if (items === undefined) return undefined;
    const out: string[] = [];
    for (let i = 0; i < items.length; i++) {
      const s = this.#asString(items[i], [...path, key, i]);
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  /** A mapping of strings to strings (numbers read as written, null as ''). */
  stringMap(obj: Mapping, path: Path, key: string): Record<string, string> | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    const at = [...path, key];
    if (!isMapping(value)) {
      this.expected(at, 'a mapping of names to strings', value);
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const name of Object.keys(value)) {
      if (name === '__proto__') {
        this.issue([...at, name], 'Invalid name `__proto__`');
        continue;
      }
      const v = value[name];
      out[name] = v === null ? '' : (this.#asString(v, [...at, name]) ?? '');
    }
    return out;
  }
}
