//! The values a template works with, modelled on what Go's text/template sees through reflection:
//! strings (every data value is one), booleans, Go `int` (bigint), `int64` (Int64, what sprig's `add`
//! returns), `float64` (number), untyped nil (null), a missing map key (MISSING, printed `<no value>`)
//! and the data map itself (`.`). Printing, truth and comparisons follow Go's fmt and text/template.

/** A missing map key: Go's invalid reflect.Value. */
export const MISSING: unique symbol = Symbol('missing');

/** Go's `int64` (distinct from `int`: Go refuses one where the other is expected). */
export class Int64 {
  readonly value: bigint;
  constructor(value: bigint) {
    this.value = BigInt.asIntN(64, value);
  }
}

/** What `.` is: the map of string values a stage passes to the template. */
export interface TemplateData {
  /** The value of `.name`, or undefined when the map has no such key. */
  get(name: string): string | undefined;
  /** Every key and value (printing `{{ . }}`). */
  entries(): Iterable<readonly [string, string]>;
}

export type Value = string | boolean | bigint | Int64 | number | null | typeof MISSING | TemplateData;

/** Go's reflect kind name of a value, as error messages print it. */
export function typeOf(v: Value): string {
  if (v === MISSING) return 'invalid';
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float64';
  }
  return v instanceof Int64 ? 'int64' : 'map[string]string';
}

/** A runtime failure of a template: Go stops executing and Promtail leaves the entry unchanged. */
export class TemplateExecError extends Error {}

/** A number literal as Go's parse.NumberNode reads it. */
export interface NumberLiteral {
  text: string;
  /** Set when the literal is an integer, or a float with an integral value (Go's IsInt). */
  int?: bigint;
  float: number;
  /** Written as a float (`1.0`, `1e3`): Go passes it as float64 where any type is accepted. */
  floatSyntax: boolean;
}

/** Go's underscoreOK: `_` only between digits, or between a base prefix and a digit. */
function underscoreOK(body: string): boolean {
  let saw = '^';
  let i = 0;
  const hex = /^0[xX]/.test(body);
  if (/^0[xXoObB]/.test(body)) {
    i = 2;
    saw = '0';
  }
  for (; i < body.length; i++) {
    const c = body[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) saw = '0';
    else if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
    } else {
      if (saw === '_') return false;
      saw = '!';
    }
  }
  return saw !== '_';
}

/** Go's strconv.ParseInt(text, 0, 64): sign, 0x/0o/0b/0 prefixes, `_` between digits. */
function parseGoInt(text: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(text);
  if (!m || !underscoreOK(m[2]!)) return undefined;
  const body = m[2]!.replaceAll('_', '');
  if (/^0[xXoObB]$/.test(body)) return undefined;
  let n: bigint;
  if (/^0[xXoObB]/.test(body)) n = BigInt(body.toLowerCase());
  else if (body.length > 1 && body[0] === '0')
    n = BigInt(`0o${body.slice(1)}`); // Go: leading 0 is octal
  else n = BigInt(body);
  if (m[1] === '-') n = -n;
  if (n > 0x7fff_ffff_ffff_ffffn || n < -0x8000_0000_0000_0000n) return undefined;
  return n;
}

/** Reads a number literal; undefined when Go would reject it (`illegal number syntax`). */
export function parseNumberLiteral(text: string, charCode?: number): NumberLiteral | undefined {
  if (charCode !== undefined) return { text, int: BigInt(charCode), float: charCode, floatSyntax: false };
  if (text.endsWith('i')) return undefined; // complex constants: not supported
  const int = parseGoInt(text);
  if (int !== undefined) return { text, int, float: Number(int), floatSyntax: false };
  const isHex = /^[+-]?0[xX]/.test(text);
  // Go reads anything else as a float, and refuses integer-looking text that did not fit an int64.
  if (!/[.eEpP]/.test(text.replace(/^[+-]?0[xX]/, '')) || !underscoreOK(text.replace(/^[+-]/, '')))
    return undefined;
  const clean = text.replaceAll('_', '');
  const decimal = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(clean) ? Number(clean) : Number.NaN;
  const float = isHex ? hexFloat(clean) : decimal;
  if (!Number.isFinite(float)) return undefined;
  const lit: NumberLiteral = { text, float, floatSyntax: true };
  if (Number.isInteger(float) && Math.abs(float) < 2 ** 63) lit.int = BigInt(float);
  return lit;
}

function hexFloat(text: string): number {
  const m = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)$/.exec(text);
  if (!m || (m[2] === '' && m[3] === '')) return NaN;
  const mant = Number.parseInt(`${m[2]}${m[3]}` || '0', 16) / 16 ** m[3]!.length;
  return (m[1] === '-' ? -1 : 1) * mant * 2 ** Number(m[4]);
}

/** Go's `strconv.FormatFloat(v, 'g', -1, 64)`, which `fmt.Print` uses for a float64. */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mant, expText] = v.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 21) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  // %v uses precision 6 for the decision when the shortest form is asked for.
  if (exp >= 6) return `${mant}e+${String(exp).padStart(2, '0')}`;
  return String(v);
}

/** What `{{ value }}` writes: Go's fmt.Print of the value. */
export function printValue(v: Value): string {
  if (typeof v === 'string') return v;
  if (v === MISSING) return '<no value>';
  if (v === null) return '<nil>';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'number':
      return formatGoFloat(v);
  }
  if (v instanceof Int64) return v.value.toString();
  const pairs = [...v.entries()].sort((a, b) => compareStrings(a[0], b[0]));
  return `map[${pairs.map(([k, val]) => `${k}:${val}`).join(' ')}]`;
}

/** Go's isTrue: empty strings and maps, false, zero numbers, nil and missing values are false. */
export function isTrue(v: Value): boolean {
  if (v === MISSING || v === null) return false;
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'boolean':
      return v;
    case 'bigint':
      return v !== 0n;
    case 'number':
      return v !== 0;
  }
  if (v instanceof Int64) return v.value !== 0n;
  for (const _ of v.entries()) return true;
  return false;
}

/** Compares strings as Go does: by UTF-8 bytes, which is code point order. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after every BMP code point in UTF-8 order.
    const sx = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
    const sy = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    return sx - sy;
  }
  return a.length - b.length;
}

type Kind = 'invalid' | 'bool' | 'int' | 'float' | 'string' | 'other';

function kindOf(v: Value): Kind {
  if (v === MISSING || v === null) return 'invalid';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
  }
  return v instanceof Int64 ? 'int' : 'other';
}

function intOf(v: Value): bigint {
  return v instanceof Int64 ? v.value : (v as bigint);
}

/** Go's builtin `eq arg1 arg2...`: true when arg1 equals any of the others. */
export function goEq(a: Value, others: readonly Value[]): boolean {
  if (others.length === 0) throw new TemplateExecError('missing argument for comparison');
  const ka = kindOf(a);
  for (const b of others) {
    const kb = kindOf(b);
    if (ka !== kb) {
      if (ka !== 'invalid' && kb !== 'invalid')
        throw new TemplateExecError(`incompatible types for comparison: ${typeOf(a)} and ${typeOf(b)}`);
      continue;
    }
    let truth: boolean;
    switch (ka) {
      case 'int':
        truth = intOf(a) === intOf(b);
        break;
      case 'other':
        throw new TemplateExecError(`non-comparable type ${typeOf(a)}`);
      case 'invalid':
        truth = true; // two nil or missing values are equal
        break;
      default:
        truth = a === b;
    }
    if (truth) return true;
  }
  return false;
}

/** Go's builtin `lt`. */
export function goLt(a: Value, b: Value): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === 'invalid' || kb === 'invalid' || ka === 'other' || kb === 'other')
    throw new TemplateExecError('invalid type for comparison');
  if (ka !== kb) throw new TemplateExecError('incompatible types for comparison');
  switch (ka) {
    case 'bool':
      throw new TemplateExecError('invalid type for comparison');
    case 'int':
      return intOf(a) < intOf(b);
    case 'string':
      return compareStrings(a as string, b as string) < 0;
    default:
      return (a as number) < (b as number);
  }
}
