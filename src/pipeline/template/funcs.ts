//! The functions a template may call: Promtail's own (ToLower, ToUpper, Replace, Trim*, Hash, Sha2Hash,
//! regexReplaceAll[Literal]), Go's builtins that compare and combine (eq, ne, lt, le, gt, ge, and, or,
//! not) and the few sprig functions its docs use (default, substr, add). Each carries Go's signature so
//! the parser can check arity and literal argument types at load time, as Go would fail at run time.

import { translateGoRegex } from '../../relabel/go-regex.js';
import { expandTemplate, parseTemplate } from '../../relabel/template.js';
import { globalRegex, goReplaceAll } from '../go-match.js';
import {
  castStringToInt64,
  goChangeCase,
  goReplace,
  goSubstr,
  goTrim,
  goTrimLeft,
  goTrimRight,
  goTrimSpace,
} from './strings.js';
import { goEq, goLt, Int64, isTrue, TemplateExecError, type Value } from './values.js';

/** node:crypto's createHash, loaded by the first hash a template computes (not with the module). */
let createHash: typeof import('node:crypto').createHash | undefined;

/**
 * How a parameter takes its argument (Go's parameter type): `string`, `int`, `any` (interface{}: a
 * missing value becomes nil) or `value` (reflect.Value: a missing value stays missing).
 */
export type ParamType = 'string' | 'int' | 'any' | 'value';

/** What a function returns, for load-time checks of the functions it feeds. */
export type ResultType = 'string' | 'bool' | 'int64' | 'any';

export interface FuncDef {
  readonly params: readonly ParamType[];
  /** Type of the `...` parameter after `params`, when the function is variadic. */
  readonly variadic?: ParamType;
  /** Fewest arguments that can work (Go fails at run time below it, e.g. `eq` with one). */
  readonly minArgs?: number;
  readonly result: ResultType;
  /** `and` / `or`: arguments evaluated lazily, left to right. */
  readonly shortCircuit?: 'and' | 'or';
  /** Checks a string literal passed as argument `index` (a regex); returns the problem. */
  checkLiteral?(index: number, value: string): string | undefined;
  call(args: Value[]): Value;
}

interface CompiledRegex {
  re: RegExp;
  groupNames: readonly string[];
}

const regexCache = new Map<string, CompiledRegex | string>();

/** Compiles a Go regex once per pattern (the cache is bounded: patterns normally come from the config). */
function goRegex(pattern: string): CompiledRegex | string {
  let hit = regexCache.get(pattern);
  if (hit === undefined) {
    const r = translateGoRegex(pattern);
    hit = r.ok ? { re: globalRegex(r.regex), groupNames: r.groupNames } : r.message;
    if (regexCache.size >= 1000) regexCache.clear();
    regexCache.set(pattern, hit);
  }
  return hit;
}

function regexReplace(literal: boolean) {
  return (args: Value[]): Value => {
    const [pattern, s, repl] = args as [string, string, string];
    const compiled = goRegex(pattern);
    if (typeof compiled === 'string') throw new TemplateExecError(compiled);
    if (literal) return goReplaceAll(compiled.re, s, () => repl);
    const parts = parseTemplate(repl);
    return goReplaceAll(compiled.re, s, m => expandTemplate(parts, m, compiled.groupNames));
  };
}

function hash(algorithm: string) {
  return (args: Value[]): Value => {
    const [salt, input] = args as [string, string];
    createHash ??= process.getBuiltinModule('node:crypto').createHash;
    return createHash(algorithm)
      .update(salt + input)
      .digest('hex');
  };
}

function str1(fn: (s: string) => string): FuncDef {
  return { params: ['string'], result: 'string', call: args => fn(args[0] as string) };
}

function str2(fn: (a: string, b: string) => string): FuncDef {
  return {
    params: ['string', 'string'],
    result: 'string',
    call: args => fn(args[0] as string, args[1] as string),
  };
}

/** Sprig's `empty`, which `default` uses. */
function isEmpty(v: Value): boolean {
  return !isTrue(v);
}

function toInt64(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  if (v instanceof Int64) return v.value;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string') return castStringToInt64(v);
  return 0n;
}

function checkRegex(index: number, value: string): string | undefined {
  if (index !== 0) return undefined;
  const compiled = goRegex(value);
  return typeof compiled === 'string' ? compiled : undefined;
}

const compare = (op: (a: Value, b: Value) => boolean): FuncDef => ({
  params: ['value', 'value'],
  result: 'bool',
  call: args => op(args[0]!, args[1]!),
});

const le = (a: Value, b: Value) => goLt(a, b) || goEq(a, [b]);

/** Every function a template may name. */
export const FUNCS: ReadonlyMap<string, FuncDef> = new Map<string, FuncDef>([
  ['ToLower', str1(s => goChangeCase(s, false))],
  ['ToUpper', str1(s => goChangeCase(s, true))],
  [
    'Replace',
    {
      params: ['string', 'string', 'string', 'int'],
      result: 'string',
      call: ([s, o, n, count]) => goReplace(s as string, o as string, n as string, Number(count as bigint)),
    },
  ],
  ['Trim', str2(goTrim)],
  ['TrimLeft', str2(goTrimLeft)],
  ['TrimRight', str2(goTrimRight)],
  ['TrimPrefix', str2((s, p) => (p !== '' && s.startsWith(p) ? s.slice(p.length) : s))],
  ['TrimSuffix', str2((s, p) => (p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s))],
  ['TrimSpace', str1(goTrimSpace)],
  ['Hash', { params: ['string', 'string'], result: 'string', call: hash('sha3-256') }],
  ['Sha2Hash', { params: ['string', 'string'], result: 'string', call: hash('sha256') }],
  [
    'regexReplaceAll',
    {
      params: ['string', 'string', 'string'],
      result: 'string',
      checkLiteral: checkRegex,
      call: regexReplace(false),
    },
  ],
  [
    'regexReplaceAllLiteral',
    {
      params: ['string', 'string', 'string'],
      result: 'string',
      checkLiteral: checkRegex,
      call: regexReplace(true),
    },
  ],
  [
    'eq',
    { params: ['value'], variadic: 'value', minArgs: 2, result: 'bool', call: a => goEq(a[0]!, a.slice(1)) },
  ],
  ['ne', compare((a, b) => !goEq(a, [b]))],
  ['lt', compare(goLt)],
  ['le', compare(le)],
  ['gt', compare((a, b) => !le(a, b))],
  ['ge', compare((a, b) => !goLt(a, b))],
  ['and', { params: ['value'], variadic: 'value', result: 'any', shortCircuit: 'and', call: a => a.at(-1)! }],
  ['or', { params: ['value'], variadic: 'value', result: 'any', shortCircuit: 'or', call: a => a.at(-1)! }],
  ['not', { params: ['value'], result: 'bool', call: a => !isTrue(a[0]!) }],
  [
    'default',
    {
      params: ['any'],
      variadic: 'any',
      result: 'any',
      call: ([d, ...given]) => (given.length === 0 || isEmpty(given[0]!) ? d! : given[0]!),
    },
  ],
  [
    'substr',
    {
      params: ['int', 'int', 'string'],
      result: 'string',
      call: ([start, end, s]) => {
        const out = goSubstr(Number(start as bigint), Number(end as bigint), s as string);
        if (out instanceof Error) throw new TemplateExecError(`error calling substr: ${out.message}`);
        return out;
      },
    },
  ],
  [
    'add',
    {
      params: [],
      variadic: 'any',
      result: 'int64',
      call: args => new Int64(args.reduce<bigint>((sum, v) => sum + toInt64(v), 0n)),
    },
  ],
]);
