//! Go RE2 regular expressions (as written in a Promtail config) translated to JavaScript RegExps,
//! and Go's `Regexp.Expand` for `$1` / `${name}` templates.
//!
//! The translator reads the Go syntax itself (Go's regexp/syntax rules) and writes a JS pattern
//! that means the same thing. It keeps the output free of the `u` and `i` flags and of lookarounds
//! whenever it can, because on Node 20 each of them stops V8 from falling back to its linear engine
//! under `--enable-experimental-regexp-engine-on-excessive-backtracks` (measured: `^(a+)+$` on
//! 'a'×28+'b' takes 1.7 ms plain, >15 s with `u` or `i`), and `u` costs up to 40% on non-ASCII text.
//! (The CLI must call `v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks')`
//! before any config regex is compiled; Node refuses that flag in NODE_OPTIONS.)
//! So `(?i)` becomes case-folded classes (`[eE]`), Go's `.` becomes `[^\n]`, `\s` becomes
//! `[\t\n\f\r ]`, and `u` is added only for `\p{…}` or astral code points inside classes.
//!
//! Remaining differences from Go:
//! - Without `u`, `.` and negated classes match one UTF-16 unit where Go matches one code point; a
//!   pattern counting characters (`^.{3}$`) counts an emoji as two.
//! - `\p{…}` inside a case-insensitive scope is not case-folded (Go folds `(?i)\p{Lu}` to letters
//!   of both cases). Literals, classes, `\w` and POSIX classes are folded as Go folds them.
//! - `(?m)` `^`/`$` become lookarounds (exact, but outside V8's linear fallback).
//! - Go's limit on the product of nested counted repetitions (1000) and its program-size limit
//!   are not checked; `\p{…}` names follow JS's Unicode tables.

/** @see translateGoRegex */
export interface GoRegexOptions {
  /**
   * Anchor the regex as Prometheus relabelling does: `^(?s:<source>)$`, so it must match the whole
   * input and `.` also matches `\n`.
   * @default false
   */
  anchor?: boolean;
}

export type GoRegexResult =
  | {
      ok: true;
      regex: RegExp;
      /** The Go source as written (the JS one is `regex.source`). */
      source: string;
      /** Go's `SubexpNames()`: the name of each capture group by number, '' for unnamed ones and 0. */
      groupNames: readonly string[];
    }
  | { ok: false; message: string };

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}
type Range = readonly [number, number];

/** A reason the pattern is rejected (internal; becomes `{ ok: false, message }`). */
class Fault {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}
/** Thrown when the pattern needs the `u` flag; the translation restarts with it. */
const NEEDS_UNICODE = Symbol('needs unicode');

const R = (lo: string, hi = lo): Range => [lo.codePointAt(0)!, hi.codePointAt(0)!];
const PERL: Record<string, Range[]> = {
  d: [R('0', '9')],
  s: [R('\t', '\n'), R('\f', '\r'), R(' ')],
  w: [R('0', '9'), R('A', 'Z'), R('_'), R('a', 'z')],
};
const POSIX: Record<string, Range[]> = {
  alnum: [R('0', '9'), R('A', 'Z'), R('a', 'z')],
  alpha: [R('A', 'Z'), R('a', 'z')],
  ascii: [[0, 0x7f]],
  blank: [R('\t'), R(' ')],
  cntrl: [
    [0, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [R('0', '9')],
  graph: [R('!', '~')],
  lower: [R('a', 'z')],
  print: [R(' ', '~')],
  punct: [R('!', '/'), R(':', '@'), R('[', '`'), R('{', '~')],
  space: [R('\t', '\r'), R(' ')],
  upper: [R('A', 'Z')],
  word: [R('0', '9'), R('A', 'Z'), R('_'), R('a', 'z')],
  xdigit: [R('0', '9'), R('A', 'F'), R('a', 'f')],
};
/** Go's `{n}`, `{n,}`, `{n,m}`: decimal without leading zeros, else `{` is a literal. */
const COUNTED = /\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}/y;
const SYNTAX = new Set('\\^$.|?*+()[]{}/');
const isAlnum = (c: string): boolean => /^[0-9A-Za-z]$/.test(c);
const isOctal = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';

/**
 * Translates a Go RE2 regex to a JS RegExp, or explains why it cannot be used: Go syntax errors,
 * and what RE2 rejects but JS would accept (backreferences, lookarounds, atomic groups, possessive
 * quantifiers, `\u`, `\k`, `[\b]`…). Messages read `invalid regular expression \`<source>\`: <reason>`.
 * Compile config regexes once, at load time, never per line.
 */
export function translateGoRegex(source: string, options: GoRegexOptions = {}): GoRegexResult {
  const wrapped = options.anchor ? `^(?s:${source})$` : source;
  for (const unicode of [false, true]) {
    let t: Translator;
    let body: string;
    try {
      t = new Translator(wrapped, unicode);
      body = t.run();
    } catch (err) {
      if (err === NEEDS_UNICODE) continue;
      if (err instanceof Fault)
        return { ok: false, message: `invalid regular expression \`${source}\`: ${err.message}` };
      throw err;
    }
    const flags = (t.usedDotAll ? 's' : '') + (unicode ? 'u' : '');
    try {
      return { ok: true, regex: new RegExp(body, flags), source, groupNames: t.names };
    } catch (err) {
      const reason = (err as Error).message;
      return {
        ok: false,
        message: `invalid regular expression \`${source}\`: not usable in JavaScript (${reason})`,
      };
    }
  }
  /* c8 ignore next */
  throw new Error('unreachable');
}

class Translator {
  readonly #src: string;
  readonly #unicode: boolean;
  #pos = 0;
  #out = '';
  #flags: Flags = { i: false, m: false, s: false, U: false };
  readonly #groups: { flags: Flags; outStart: number }[] = [];
  /** Where the last quantifiable item starts in #out; -1 when a quantifier would have nothing to repeat. */
  #atom = -1;
  /** The item must be wrapped in (?:…) before a quantifier: an assertion, or already quantified. */
  #atomNeedsGroup = false;
  /** Where the repetition operator read just before starts, -1 if the last token was not one. */
  #lastRepeat = -1;
  readonly #jsNames = new Set<string>();
  readonly names: string[] = [''];
  usedDotAll = false;

  constructor(src: string, unicode: boolean) {
    this.#src = src;
    this.#unicode = unicode;
  }

  run(): string {
    const src = this.#src;
    while (this.#pos < src.length) {
      const c = src[this.#pos]!;
      const start = this.#pos;
      let repeated = false;
      switch (c) {
        case '(':
          this.#open();
          break;
        case ')':
          this.#close();
          break;
        case '|':
          this.#out += '|';
          this.#atom = -1;
          this.#pos++;
          break;
        case '^':
          this.#assertion(this.#flags.m ? '(?<![^\\n])' : '^', 1);
          break;
        case '$':
          this.#assertion(this.#flags.m ? '(?![^\\n])' : '$', 1);
          break;
        case '.':
          if (this.#flags.s) this.usedDotAll = true;
          this.#item(this.#flags.s ? '.' : '[^\\n]', 1);
          break;
        case '[':
          this.#class();
          break;
        case '*':
        case '+':
        case '?':
          this.#quantify(start, start + 1);
          repeated = true;
          break;
        case '{': {
          const end = this.#countedRepeat();
          if (end < 0) this.#literal(0x7b, 1);
          else {
            this.#quantify(start, end);
            repeated = true;
          }
          break;
        }
        case '\\':
          this.#escape();
          break;
        default:
          this.#literal(this.#codePoint(this.#pos), 0);
      }
      this.#lastRepeat = repeated ? start : -1;
    }
    if (this.#groups.length > 0) throw new Fault('missing closing )');
    return this.#out;
  }

  #codePoint(at: number): number {
    const cp = this.#src.codePointAt(at)!;
    if (cp >= 0xd800 && cp <= 0xdfff) throw new Fault('invalid UTF-8: lone surrogate');
    return cp;
  }

  /** Appends a quantifiable item that consumed `width` source characters. */
  #item(text: string, width: number): void {
    this.#atom = this.#out.length;
    this.#atomNeedsGroup = false;
    this.#out += text;
    this.#pos += width;
  }

  #assertion(text: string, width: number): void {
    this.#item(text, width);
    this.#atomNeedsGroup = true; // JS cannot quantify `^`, `$` or `\b` directly; Go can.
  }

  /** A literal code point; width 0 means "as many UTF-16 units as the code point takes". */
  #literal(cp: number, width: number): void {
    const w = width || (cp > 0xffff ? 2 : 1);
    const variants = this.#flags.i ? foldSet(cp) : [cp];
    if (variants.length > 1)
      this.#item(
        this.#classText(
          variants.map(v => [v, v]),
          false,
          [],
        ),
        w,
      );
    else this.#item(this.#literalText(cp), w);
  }

  #literalText(cp: number): string {
    const ch = String.fromCodePoint(cp);
    if (SYNTAX.has(ch)) return `\\${ch}`;
    if (cp >= 0x20 && cp < 0x7f) return ch;
    if (cp <= 0xffff) return hexEscape(cp);
    if (this.#unicode) return `\\u{${cp.toString(16)}}`;
    // Without `u`, keep the surrogate pair together so a quantifier repeats both halves.
    return `(?:${hexEscape(ch.charCodeAt(0))}${hexEscape(ch.charCodeAt(1))})`;
  }

  #quantify(start: number, end: number): void {
    const src = this.#src;
    let lazy = false;
    if (src[end] === '?') {
      lazy = true;
      end++;
    }
    if (this.#lastRepeat >= 0) {
      const text = src.slice(this.#lastRepeat, end);
      if (src[start] === '+') {
        throw new Fault(`possessive quantifier \`${text}\` is not supported (Go RE2 syntax)`);
      }
      throw new Fault(`invalid nested repetition operator: \`${text}\``);
    }
    if (this.#atom < 0)
      throw new Fault(`missing argument to repetition operator: \`${src.slice(start, end)}\``);
    if (this.#atomNeedsGroup) {
      this.#out = `${this.#out.slice(0, this.#atom)}(?:${this.#out.slice(this.#atom)})`;
    }
    const op = src.slice(start, lazy ? end - 1 : end);
    // Go's (?U) swaps greedy and lazy.
    this.#out += op + (lazy !== this.#flags.U ? '?' : '');
    this.#atomNeedsGroup = true;
    this.#pos = end;
  }

  /** Parses `{n}`, `{n,}` or `{n,m}` at #pos; returns the end, or -1 when `{` is a literal. */
  #countedRepeat(): number {
    COUNTED.lastIndex = this.#pos;
    const m = COUNTED.exec(this.#src);
    if (!m) return -1;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === undefined ? -1 : Number(m[3]);
    if (min > 1000 || max > 1000 || (max >= 0 && min > max)) {
      throw new Fault(`invalid repeat count: \`${m[0]}\``);
    }
    return this.#pos + m[0].length;
  }

  #open(): void {
    const src = this.#src;
    const at = this.#pos;
    const rest = src.slice(at, at + 4);
    if (src[at + 1] !== '?') {
      this.#pushGroup('(', 1);
      this.names.push('');
      return;
    }
    if (rest.startsWith('(?=') || rest.startsWith('(?!')) {
      throw new Fault(`lookahead \`${rest.slice(0, 3)}\` is not supported (Go RE2 syntax)`);
    }
    if (rest === '(?<=' || rest === '(?<!')
      throw new Fault(`lookbehind \`${rest}\` is not supported (Go RE2 syntax)`);
    if (rest.startsWith('(?>')) throw new Fault('atomic group `(?>` is not supported (Go RE2 syntax)');
    if (rest === '(?P=') throw new Fault('backreference `(?P=` is not supported (Go RE2 syntax)');
    if (rest === '(?P<' || rest.startsWith('(?<')) {
      const nameStart = at + (rest === '(?P<' ? 4 : 3);
      const end = src.indexOf('>', nameStart);
      if (end < 0) throw new Fault(`invalid named capture: \`${src.slice(at)}\``);
      const name = src.slice(nameStart, end);
      if (!/^[A-Za-z0-9_]+$/.test(name))
        throw new Fault(`invalid named capture: \`${src.slice(at, end + 1)}\``);
      // Go allows names starting with a digit and repeated names; JS allows neither, so such
      // groups stay unnamed in JS and are found by number through `names`.
      const jsName = /^[A-Za-z_]/.test(name) && !this.#jsNames.has(name);
      if (jsName) this.#jsNames.add(name);
      this.#pushGroup(jsName ? `(?<${name}>` : '(', end + 1 - at);
      this.names.push(name);
      return;
    }
    const flags = { ...this.#flags };
    let on = true;
    let sawFlag = false;
    for (let i = at + 2; i < src.length; i++) {
      const c = src[i]!;
      if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
        flags[c] = on;
        sawFlag = true;
      } else if (c === '-' && on) {
        on = false;
        sawFlag = false;
      } else if ((c === ':' || c === ')') && (on || sawFlag)) {
        if (c === ':') this.#pushGroup('(?:', i + 1 - at);
        else this.#pos = i + 1; // `(?i)` alone: Go leaves the last item quantifiable.
        this.#flags = flags;
        return;
      } else {
        throw new Fault(`invalid or unsupported Perl syntax: \`${src.slice(at, i + 1)}\``);
      }
    }
    throw new Fault('missing closing )');
  }

  #pushGroup(text: string, width: number): void {
    this.#groups.push({ flags: this.#flags, outStart: this.#out.length });
    this.#out += text;
    this.#pos += width;
    this.#atom = -1;
  }

  #close(): void {
    const group = this.#groups.pop();
    if (!group) throw new Fault('unexpected )');
    this.#flags = group.flags;
    this.#out += ')';
    this.#pos++;
    this.#atom = group.outStart;
    this.#atomNeedsGroup = false;
  }

  #escape(): void {
    const src = this.#src;
    const c = src[this.#pos + 1];
    if (c === 'A' || c === 'z' || c === 'b' || c === 'B') {
      // JS `^`/`$` without the m flag are Go's \A and \z; \b and \B are the same ASCII boundaries.
      this.#assertion(c === 'A' ? '^' : c === 'z' ? '$' : `\\${c}`, 2);
    } else if (c === 'Q') {
      const end = src.indexOf('\\E', this.#pos + 2);
      const stop = end < 0 ? src.length : end;
      this.#pos += 2;
      while (this.#pos < stop) this.#literal(this.#codePoint(this.#pos), 0);
      if (end >= 0) this.#pos += 2;
    } else if (c === 'p' || c === 'P') {
      this.#item(this.#unicodeClass(), 0);
    } else if (c !== undefined && 'dDwWsS'.includes(c)) {
      const lower = c.toLowerCase();
      if (!this.#flags.i && lower !== 's') this.#item(`\\${c}`, 2);
      else {
        const ranges = this.#flags.i ? foldRanges(PERL[lower]!) : PERL[lower]!;
        this.#item(this.#classText(ranges, c !== lower, []), 2);
      }
    } else {
      this.#escapedLiteral();
    }
  }

  #escapedLiteral(): void {
    const start = this.#pos;
    const cp = this.#parseEscape();
    const width = this.#pos - start;
    this.#pos = start;
    this.#literal(cp, width);
  }

  /** A single-character escape at #pos (Go's parseEscape); advances past it. */
  #parseEscape(): number {
    const src = this.#src;
    const at = this.#pos;
    if (at + 1 >= src.length) throw new Fault('trailing backslash at end of expression');
    const c = src[at + 1]!;
    const code = c.charCodeAt(0);
    if (code < 0x80 && !isAlnum(c)) {
      this.#pos += 2;
      return code;
    }
    if ((c >= '1' && c <= '7' && !isOctal(src[at + 2])) || c === '8' || c === '9') {
      throw new Fault(`backreference \`\\${c}\` is not supported (Go RE2 has no backreferences)`);
    }
    if (c >= '0' && c <= '7') {
      let end = at + 2;
      while (end < at + 4 && isOctal(src[end])) end++;
      this.#pos = end;
      return Number.parseInt(src.slice(at + 1, end), 8);
    }
    if (c === 'x') {
      const m = /^\\x(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{2}))/.exec(src.slice(at, at + 16));
      const value = m ? Number.parseInt(m[1] ?? m[2]!, 16) : -1;
      if (!m || value > 0x10ffff) throw new Fault(`invalid escape sequence: \`${src.slice(at, at + 4)}\``);
      this.#pos += m[0].length;
      return value;
    }
    const simple = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 }[c];
    if (simple !== undefined) {
      this.#pos += 2;
      return simple;
    }
    if (c === 'k') throw new Fault('backreference `\\k` is not supported (Go RE2 has no backreferences)');
    throw new Fault(`invalid escape sequence: \`\\${String.fromCodePoint(src.codePointAt(at + 1)!)}\``);
  }

  /** `\pL`, `\p{Greek}`, `\P{^Lu}`… at #pos, as a JS property escape; advances past it. */
  #unicodeClass(): string {
    if (!this.#unicode) throw NEEDS_UNICODE;
    const src = this.#src;
    const at = this.#pos;
    let negated = src[at + 1] === 'P';
    let name: string;
    if (src[at + 2] === '{') {
      const end = src.indexOf('}', at);
      if (end < 0) throw new Fault(`invalid character class range: \`${src.slice(at)}\``);
      name = src.slice(at + 3, end);
      this.#pos = end + 1;
    } else {
      if (at + 2 >= src.length) throw new Fault(`invalid character class range: \`${src.slice(at)}\``);
      name = String.fromCodePoint(src.codePointAt(at + 2)!);
      this.#pos = at + 2 + name.length;
    }
    const seq = src.slice(at, this.#pos);
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const property = jsProperty(name);
    if (!property) throw new Fault(`invalid character class range: \`${seq}\``);
    return `\\${negated ? 'P' : 'p'}{${property}}`;
  }

  #class(): void {
    const src = this.#src;
    const start = this.#pos;
    let pos = start + 1;
    const negated = src[pos] === '^';
    if (negated) pos++;
    const ranges: Range[] = [];
    // Negated groups ([:^alpha:], \W…) are case-folded before they are negated, as Go does.
    const negatedGroups: Range[] = [];
    const negate = (group: readonly Range[]): Range[] =>
      complement(this.#flags.i ? foldRanges(group) : group, this.#maxCodePoint);
    const raw: string[] = [];
    // A `]` right after `[` or `[^` is a literal in Go.
    for (let first = true; first || src[pos] !== ']'; first = false) {
      if (pos >= src.length) throw new Fault(`missing closing ]: \`${src.slice(start)}\``);
      const close = src.startsWith('[:', pos) ? src.indexOf(':]', pos + 2) : -1;
      if (close >= 0) {
        const name = src.slice(pos, close + 2);
        const group = POSIX[name.slice(name[2] === '^' ? 3 : 2, -2)];
        if (!group) throw new Fault(`invalid character class range: \`${name}\``);
        if (name[2] === '^') negatedGroups.push(...negate(group));
        else ranges.push(...group);
        pos = close + 2;
        continue;
      }
      const next = src[pos + 1];
      if (src[pos] === '\\' && (next === 'p' || next === 'P')) {
        this.#pos = pos;
        raw.push(this.#unicodeClass());
        pos = this.#pos;
        continue;
      }
      const perl = src[pos] === '\\' && next ? PERL[next.toLowerCase()] : undefined;
      if (perl) {
        if (next === next!.toLowerCase()) ranges.push(...perl);
        else negatedGroups.push(...negate(perl));
        pos += 2;
        continue;
      }
      const rangeStart = pos;
      this.#pos = pos;
      const lo = this.#classChar();
      let hi = lo;
      if (src[this.#pos] === '-' && this.#pos + 1 < src.length && src[this.#pos + 1] !== ']') {
        this.#pos++;
        hi = this.#classChar();
        if (hi < lo)
          throw new Fault(`invalid character class range: \`${src.slice(rangeStart, this.#pos)}\``);
      }
      ranges.push([lo, hi]);
      pos = this.#pos;
    }
    this.#pos = start;
    const folded = this.#flags.i ? foldRanges(ranges) : ranges;
    this.#item(this.#classText([...folded, ...negatedGroups], negated, raw), pos + 1 - start);
  }

  #classChar(): number {
    if (this.#src[this.#pos] === '\\') return this.#parseEscape();
    const cp = this.#codePoint(this.#pos);
    this.#pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  get #maxCodePoint(): number {
    return this.#unicode ? 0x10ffff : 0xffff;
  }

  #classText(ranges: readonly Range[], negated: boolean, raw: readonly string[]): string {
    let out = negated ? '[^' : '[';
    for (const [lo, hi] of normalize(ranges)) {
      out += this.#classCharText(lo);
      if (hi > lo) out += (hi > lo + 1 ? '-' : '') + this.#classCharText(hi);
    }
    return `${out + raw.join('')}]`;
  }

  #classCharText(cp: number): string {
    const ch = String.fromCodePoint(cp);
    if ('\\]^-['.includes(ch)) return `\\${ch}`;
    if (cp > 0x20 && cp < 0x7f) return ch;
    if (cp <= 0xffff) return hexEscape(cp);
    if (!this.#unicode) throw NEEDS_UNICODE;
    return `\\u{${cp.toString(16)}}`;
  }
}

const CONTROL: Record<number, string> = { 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' };

function hexEscape(cp: number): string {
  const control = CONTROL[cp];
  if (control) return control;
  return cp < 0x100 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
}

/** Sorted, merged ranges. */
function normalize(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(ranges: readonly Range[], max: number): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of normalize(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= max) out.push([next, max]);
  return out;
}

// Fold pairs that JS's toLowerCase/toUpperCase do not connect (Unicode simple case folding,
// which Go's SimpleFold follows): K/Kelvin sign, s/long s, Å/Angstrom sign, Greek symbol forms.
// biome-ignore format: a table reads better in rows.
const FOLD_PAIRS = [
  [0x6b, 0x212a], [0x73, 0x17f], [0xe5, 0x212b], [0xdf, 0x1e9e], [0x3c9, 0x2126], [0x3b2, 0x3d0],
  [0x3b5, 0x3f5], [0x3b8, 0x3d1], [0x3b9, 0x345], [0x3b9, 0x1fbe], [0x3ba, 0x3f0], [0x3c0, 0x3d6],
  [0x3c1, 0x3f1], [0x3c3, 0x3c2], [0x3c6, 0x3d5],
] as const;
const FOLD_EXTRA = new Map<number, number[]>();
for (const [a, b] of FOLD_PAIRS) {
  FOLD_EXTRA.set(a, [...(FOLD_EXTRA.get(a) ?? []), b]);
  FOLD_EXTRA.set(b, [...(FOLD_EXTRA.get(b) ?? []), a]);
}
const foldCache = new Map<number, number[]>();

/** The code points Go's (?i) treats as equal to `cp` (its SimpleFold orbit), `cp` first. */
function foldSet(cp: number): number[] {
  if (cp < 0x41 || cp > 0x1e943) return [cp]; // Go's minFold/maxFold
  const cached = foldCache.get(cp);
  if (cached) return cached;
  const seen = new Set([cp]);
  const queue = [cp];
  for (let x = queue.pop(); x !== undefined; x = queue.pop()) {
    const ch = String.fromCodePoint(x);
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    const next = [...(FOLD_EXTRA.get(x) ?? [])];
    // Multi-character mappings (ß → SS) are full case mapping, not folding: skip them.
    if ([...lower].length === 1) next.push(lower.codePointAt(0)!);
    if ([...upper].length === 1) next.push(upper.codePointAt(0)!);
    for (const y of next) {
      if (!seen.has(y)) {
        seen.add(y);
        queue.push(y);
      }
    }
  }
  let result = [cp];
  if (seen.size > 1) {
    // Case mapping reaches a little further than case folding (ı → I → i); JS's `iu` matching uses
    // simple case folding, so it filters the candidates down to the true orbit.
    const same = new RegExp(`^\\u{${cp.toString(16)}}$`, 'iu');
    result = [...seen].filter(x => x === cp || same.test(String.fromCodePoint(x)));
  }
  foldCache.set(cp, result);
  return result;
}

function foldRanges(ranges: readonly Range[]): Range[] {
  const out: Range[] = [...ranges];
  for (const [lo, hi] of ranges) {
    if (lo <= 0x41 && hi >= 0x1e943) continue; // covers every folding code point already
    for (let cp = Math.max(lo, 0x41); cp <= Math.min(hi, 0x1e943); cp++) {
      for (const v of foldSet(cp)) if (v !== cp) out.push([v, v]);
    }
  }
  return out;
}

const propertyCache = new Map<string, string | undefined>();

/** The JS form of a Go Unicode class name (category, script, Any, ASCII…), if JS knows it. */
function jsProperty(name: string): string | undefined {
  if (propertyCache.has(name)) return propertyCache.get(name);
  // Go looks names up case-insensitively, ignoring `_`, `-` and spaces ("greek" is "Greek").
  const canonical = name
    .replace(/[_\- ]/g, '')
    .replace(/^(.)(.*)$/s, (_, a: string, b: string) => a.toUpperCase() + b.toLowerCase());
  const special: Record<string, string> = { Any: 'Any', Assigned: 'Assigned', Ascii: 'ASCII', Lc: 'LC' };
  const compiles = (p: string): boolean => {
    try {
      new RegExp(`\\p{${p}}`, 'u');
      return true;
    } catch {
      return false;
    }
  };
  let found = special[canonical];
  for (const candidate of [name, canonical]) {
    if (found || candidate === '') break;
    if (compiles(`General_Category=${candidate}`)) found = candidate;
    else if (compiles(`Script=${candidate}`)) found = `Script=${candidate}`;
  }
  propertyCache.set(name, found);
  return found;
}

/** A parsed template: literal text, a group number, or a group name. */
export type TemplatePart = string | number | { readonly name: string };

const NAME = /[\p{L}\p{Nd}_]+/uy;

/**
 * Parses a Go `Regexp.Expand` template: `$1`, `${1}`, `$name`, `${name}`, `$$`. As in Go, a name is
 * the longest run of letters, digits and `_` (so `$1x` names the group `1x`, which is usually
 * missing and expands to ''), and a `$` not followed by a valid reference stays literal.
 */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  for (;;) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) break;
    text += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      text += '$';
      i++;
      continue;
    }
    const brace = template[i] === '{';
    NAME.lastIndex = brace ? i + 1 : i;
    const m = NAME.exec(template);
    const end = m ? NAME.lastIndex : -1;
    if (!m || (brace && template[end] !== '}')) {
      text += '$';
      continue;
    }
    if (text) parts.push(text);
    text = '';
    parts.push(groupRef(m[0]));
    i = brace ? end + 1 : end;
  }
  text += template.slice(i);
  if (text) parts.push(text);
  return parts;
}

/** Go's rule: all ASCII digits, no leading zero, below 1e8 → a number; otherwise a name. */
function groupRef(name: string): number | { name: string } {
  let num = 0;
  for (const ch of name) {
    if (ch < '0' || ch > '9' || num >= 1e8) return { name };
    num = num * 10 + Number(ch);
  }
  return name.length > 1 && name[0] === '0' ? { name } : num;
}

/**
 * Expands parsed template parts against a match. Names resolve through `groupNames` (Go's
 * SubexpNames, from translateGoRegex) to the first group of that name that took part in the match;
 * without them, through `match.groups`. Missing or non-participating groups expand to ''.
 */
export function expandTemplate(
  parts: readonly TemplatePart[],
  match: RegExpExecArray,
  groupNames?: readonly string[],
): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') out += part;
    else if (typeof part === 'number') out += match[part] ?? '';
    else if (groupNames) {
      for (let g = 1; g < groupNames.length; g++) {
        if (groupNames[g] === part.name && match[g] !== undefined) {
          out += match[g];
          break;
        }
      }
    } else out += match.groups?.[part.name] ?? '';
  }
  return out;
}

/** `parseTemplate` + `expandTemplate` in one call (parse once instead where a template is reused). */
export function expandReplacement(
  template: string,
  match: RegExpExecArray,
  groupNames?: readonly string[],
): string {
  return expandTemplate(parseTemplate(template), match, groupNames);
}
