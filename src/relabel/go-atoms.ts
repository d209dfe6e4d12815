//! One atom of a Go regex at a time, for the translator in go-regex.ts: reading an escape (`\x{41}`,
//! `\101`, `\n`), a Unicode class (`\pL`, `\P{^Greek}`) or a counted repeat (`{2,5}`) from the Go
//! source, and writing a literal or a character class as JS pattern text (with or without the `u`
//! flag). Also the two ways a translation stops early: `Fault` and `NEEDS_UNICODE`.

import { jsProperty, normalize, type Range } from './go-classes.js';

/** A reason the pattern is rejected (internal; becomes `{ ok: false, message }`). */
export class Fault {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}
/** Thrown when the pattern needs the `u` flag; the translation restarts with it. */
export const NEEDS_UNICODE = Symbol('needs unicode');

/** Go's `{n}`, `{n,}`, `{n,m}`: decimal without leading zeros, else `{` is a literal. */
const COUNTED = /\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}/y;
const SYNTAX = new Set('\\^$.|?*+()[]{}/');
const CONTROL: Record<number, string> = { 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' };
const isAlnum = (c: string): boolean => /^[0-9A-Za-z]$/.test(c);
const isOctal = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';

/** Parses `{n}`, `{n,}` or `{n,m}` at `at`; returns its end, or -1 when `{` is a literal. */
export function countedRepeat(src: string, at: number): number {
  COUNTED.lastIndex = at;
  const m = COUNTED.exec(src);
  if (!m) return -1;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : m[3] === undefined ? -1 : Number(m[3]);
  if (min > 1000 || max > 1000 || (max >= 0 && min > max)) {
    throw new Fault(`invalid repeat count: \`${m[0]}\``);
  }
  return at + m[0].length;
}

/** A single-character escape at `at` (Go's parseEscape): its code point and where it ends. */
export function parseEscape(src: string, at: number): [cp: number, end: number] {
  if (at + 1 >= src.length) throw new Fault('trailing backslash at end of expression');
  const c = src[at + 1]!;
  const code = c.charCodeAt(0);
  if (code < 0x80 && !isAlnum(c)) return [code, at + 2];
  if ((c >= '1' && c <= '7' && !isOctal(src[at + 2])) || c === '8' || c === '9') {
    throw new Fault(`backreference \`\\${c}\` is not supported (Go RE2 has no backreferences)`);
  }
  if (c >= '0' && c <= '7') {
    let end = at + 2;
    while (end < at + 4 && isOctal(src[end])) end++;
    return [Number.parseInt(src.slice(at + 1, end), 8), end];
  }
  if (c === 'x') {
    const m = /^\\x(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{2}))/.exec(src.slice(at, at + 16));
    const value = m ? Number.parseInt(m[1] ?? m[2]!, 16) : -1;
    if (!m || value > 0x10ffff) throw new Fault(`invalid escape sequence: \`${src.slice(at, at + 4)}\``);
    return [value, at + m[0].length];
  }
  const simple = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 }[c];
  if (simple !== undefined) return [simple, at + 2];
  if (c === 'k') throw new Fault('backreference `\\k` is not supported (Go RE2 has no backreferences)');
  throw new Fault(`invalid escape sequence: \`\\${String.fromCodePoint(src.codePointAt(at + 1)!)}\``);
}

/** `\pL`, `\p{Greek}`, `\P{^Lu}`… at `at`, as a JS property escape, and where it ends. */
export function unicodeClass(src: string, at: number, unicode: boolean): [text: string, end: number] {
  if (!unicode) throw NEEDS_UNICODE;
  let negated = src[at + 1] === 'P';
  let name: string;
  let end: number;
  if (src[at + 2] === '{') {
    const close = src.indexOf('}', at);
    if (close < 0) throw new Fault(`invalid character class range: \`${src.slice(at)}\``);
    name = src.slice(at + 3, close);
    end = close + 1;
  } else {
    if (at + 2 >= src.length) throw new Fault(`invalid character class range: \`${src.slice(at)}\``);
    name = String.fromCodePoint(src.codePointAt(at + 2)!);
    end = at + 2 + name.length;
  }
  const seq = src.slice(at, end);
  if (name.startsWith('^')) {
    negated = !negated;
    name = name.slice(1);
  }
  const property = jsProperty(name);
  if (!property) throw new Fault(`invalid character class range: \`${seq}\``);
  return [`\\${negated ? 'P' : 'p'}{${property}}`, end];
}

/** A literal code point as JS pattern text (outside a class). */
export function literalText(cp: number, unicode: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (SYNTAX.has(ch)) return `\\${ch}`;
  if (cp >= 0x20 && cp < 0x7f) return ch;
  if (cp <= 0xffff) return hexEscape(cp);
  if (unicode) return `\\u{${cp.toString(16)}}`;
  // Without `u`, keep the surrogate pair together so a quantifier repeats both halves.
  return `(?:${hexEscape(ch.charCodeAt(0))}${hexEscape(ch.charCodeAt(1))})`;
}

/** A JS character class of `ranges` plus `raw` items (property escapes) already in JS form. */
export function classText(
  ranges: readonly Range[],
  negated: boolean,
  raw: readonly string[],
  unicode: boolean,
): string {
  let out = negated ? '[^' : '[';
  for (const [lo, hi] of normalize(ranges)) {
    out += classCharText(lo, unicode);
    if (hi > lo) out += (hi > lo + 1 ? '-' : '') + classCharText(hi, unicode);
  }
  return `${out + raw.join('')}]`;
}

function classCharText(cp: number, unicode: boolean): string {
  const ch = String.fromCodePoint(cp);
  if ('\\]^-['.includes(ch)) return `\\${ch}`;
  if (cp > 0x20 && cp < 0x7f) return ch;
  if (cp <= 0xffff) return hexEscape(cp);
  if (!unicode) throw NEEDS_UNICODE;
  return `\\u{${cp.toString(16)}}`;
}

function hexEscape(cp: number): string {
  const control = CONTROL[cp];
  if (control) return control;
  return cp < 0x100 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
}
