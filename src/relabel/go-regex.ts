//! Go RE2 regular expressions (as written in a Promtail config) translated to JavaScript RegExps.
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
//!
//! go-atoms.ts reads single escapes and writes JS literals and classes; go-classes.ts holds the class
//! tables and case folding; template.ts expands `$1` / `${name}` replacements.

import {
  classText,
  countedRepeat,
  Fault,
  literalText,
  NEEDS_UNICODE,
  parseEscape,
  unicodeClass,
} from './go-atoms.js';
import { complement, foldRanges, foldSet, PERL, POSIX, type Range } from './go-classes.js';

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
          const end = countedRepeat(this.#src, this.#pos);
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
        classText(
          variants.map(v => [v, v]),
          false,
          [],
          this.#unicode,
        ),
        w,
      );
    else this.#item(literalText(cp, this.#unicode), w);
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
      const [text, end] = unicodeClass(src, this.#pos, this.#unicode);
      this.#item(text, end - this.#pos);
    } else if (c !== undefined && 'dDwWsS'.includes(c)) {
      const lower = c.toLowerCase();
      if (!this.#flags.i && lower !== 's') this.#item(`\\${c}`, 2);
      else {
        const ranges = this.#flags.i ? foldRanges(PERL[lower]!) : PERL[lower]!;
        this.#item(classText(ranges, c !== lower, [], this.#unicode), 2);
      }
    } else {
      this.#escapedLiteral();
    }
  }

  #escapedLiteral(): void {
    const [cp, end] = parseEscape(this.#src, this.#pos);
    this.#literal(cp, end - this.#pos);
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
        const [text, end] = unicodeClass(src, pos, this.#unicode);
        raw.push(text);
        pos = end;
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
    this.#item(classText([...folded, ...negatedGroups], negated, raw, this.#unicode), pos + 1 - start);
  }

  #classChar(): number {
    if (this.#src[this.#pos] === '\\') {
      const [cp, end] = parseEscape(this.#src, this.#pos);
      this.#pos = end;
      return cp;
    }
    const cp = this.#codePoint(this.#pos);
    this.#pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  get #maxCodePoint(): number {
    return this.#unicode ? 0x10ffff : 0xffff;
  }
}
