//! The LogQL subset a `match` stage's `selector` may use, as Promtail's own parser reads it
//! (clients/pkg/logentry/logql): a stream selector `{a="b", c!="d", e=~"re", f!~"re"}` followed by any
//! number of line filters `|= "x"`, `!= "x"`, `|~ "re"`, `!~ "re"`. Strings are Go strings (`"…"` with
//! Go escapes, or `` `…` `` raw). Regexes are Go RE2, translated once here; label regexes match the
//! whole value (Prometheus' `^(?s:re)$`), line regexes match anywhere in the line.

import { translateGoRegex } from '../relabel/go-regex.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One label matcher; a missing label matches as the empty string (Prometheus' rule). */
export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  /** For `=~` and `!~`. */
  readonly regex?: RegExp;
}

/** One line filter: `contains` for `|=`/`!=`, `regex` for `|~`/`!~`; `negate` for `!=`/`!~`. */
export interface LineFilter {
  readonly op: '|=' | '!=' | '|~' | '!~';
  readonly text: string;
  readonly regex?: RegExp;
  readonly negate: boolean;
}

export interface Selector {
  readonly matchers: readonly LabelMatcher[];
  readonly filters: readonly LineFilter[];
}

export type SelectorResult = { ok: true; selector: Selector } | { ok: false; message: string };

/** Whether an entry with these labels and this line is selected. */
export function selects(selector: Selector, labels: Readonly<Record<string, string>>, line: string): boolean {
  const matchers = selector.matchers;
  for (let i = 0; i < matchers.length; i++) {
    const m = matchers[i]!;
    const value = labels[m.name] ?? '';
    let ok: boolean;
    switch (m.op) {
      case '=':
        ok = value === m.value;
        break;
      case '!=':
        ok = value !== m.value;
        break;
      case '=~':
        ok = m.regex!.test(value);
        break;
      default:
        ok = !m.regex!.test(value);
    }
    if (!ok) return false;
  }
  const filters = selector.filters;
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i]!;
    const found = f.regex === undefined ? line.includes(f.text) : f.regex.test(line);
    if (found === f.negate) return false;
  }
  return true;
}

class ParseError extends Error {}

const GO_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
};

/** Go's strconv.Unquote of a double-quoted string body (without the quotes). */
function unquoteGo(body: string, at: number): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[i + 1];
    if (e === undefined) throw new ParseError(`unterminated escape at column ${at + i + 1}`);
    const simple = GO_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      i += 1;
      continue;
    }
    const hexLength = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLength > 0) {
      const hex = body.slice(i + 2, i + 2 + hexLength);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLength)
        throw new ParseError(`invalid escape \\${e}${hex} at column ${at + i + 1}`);
      const code = Number.parseInt(hex, 16);
      if (e === 'x') out += String.fromCharCode(code);
      else if (code > 0x10ffff || (code >= 0xd800 && code < 0xe000))
        throw new ParseError(`invalid code point \\${e}${hex} at column ${at + i + 1}`);
      else out += String.fromCodePoint(code);
      i += 1 + hexLength;
      continue;
    }
    const octal = body.slice(i + 1, i + 4);
    if (/^[0-7]{3}$/.test(octal) && Number.parseInt(octal, 8) <= 255) {
      out += String.fromCharCode(Number.parseInt(octal, 8));
      i += 3;
      continue;
    }
    throw new ParseError(`invalid escape \\${e} at column ${at + i + 1}`);
  }
  return out;
}

const OPS = ['=~', '!~', '!=', '|=', '|~', '='] as const;
type Op = (typeof OPS)[number];

class Parser {
  readonly #src: string;
  #pos = 0;

  constructor(src: string) {
    this.#src = src;
  }

  #skipSpace(): void {
    while (this.#pos < this.#src.length && /\s/.test(this.#src[this.#pos]!)) this.#pos++;
  }

  #fail(what: string): never {
    const found =
      this.#pos >= this.#src.length ? 'the end' : `\`${this.#src.slice(this.#pos, this.#pos + 10)}\``;
    throw new ParseError(`expected ${what} at column ${this.#pos + 1}, found ${found}`);
  }

  #eat(token: string): boolean {
    this.#skipSpace();
    if (this.#src.startsWith(token, this.#pos)) {
      this.#pos += token.length;
      return true;
    }
    return false;
  }

  #op(allowed: readonly Op[], what: string): Op {
    this.#skipSpace();
    for (const op of OPS) {
      if (this.#src.startsWith(op, this.#pos)) {
        if (!allowed.includes(op)) break;
        this.#pos += op.length;
        return op;
      }
    }
    return this.#fail(what);
  }

  #ident(): string {
    this.#skipSpace();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.#src.slice(this.#pos));
    if (!m) this.#fail('a label name');
    this.#pos += m[0].length;
    return m[0];
  }

  #string(): string {
    this.#skipSpace();
    const start = this.#pos;
    const q = this.#src[start];
    if (q === '`') {
      const end = this.#src.indexOf('`', start + 1);
      if (end === -1) throw new ParseError(`unterminated raw string starting at column ${start + 1}`);
      this.#pos = end + 1;
      return this.#src.slice(start + 1, end);
    }
    if (q !== '"') this.#fail('a quoted string');
    let i = start + 1;
    while (i < this.#src.length) {
      const c = this.#src[i]!;
      if (c === '\\') i += 2;
      else if (c === '"') break;
      else if (c === '\n') break;
      else i++;
    }
    if (this.#src[i] !== '"') throw new ParseError(`unterminated string starting at column ${start + 1}`);
    this.#pos = i + 1;
    return unquoteGo(this.#src.slice(start + 1, i), start + 1);
  }

  parse(): Selector {
    if (!this.#eat('{')) this.#fail('`{`');
    const matchers: LabelMatcher[] = [];
    do {
      const name = this.#ident();
      const op = this.#op(['=', '!=', '=~', '!~'], '=, !=, =~ or !~');
      const value = this.#string();
      if (op === '=~' || op === '!~') {
        const t = translateGoRegex(value, { anchor: true });
        if (!t.ok) throw new ParseError(`label ${name}: ${t.message}`);
        matchers.push({ name, op, value, regex: t.regex });
      } else matchers.push({ name, op: op as MatchOp, value });
    } while (this.#eat(','));
    if (!this.#eat('}')) this.#fail('`,` or `}`');
    const filters: LineFilter[] = [];
    for (;;) {
      this.#skipSpace();
      if (this.#pos >= this.#src.length) break;
      const op = this.#op(
        ['|=', '!=', '|~', '!~'],
        'a line filter (|= "text", != "text", |~ "re" or !~ "re")',
      );
      const text = this.#string();
      const negate = op === '!=' || op === '!~';
      if (op === '|~' || op === '!~') {
        const t = translateGoRegex(text);
        if (!t.ok) throw new ParseError(`line filter ${op}: ${t.message}`);
        filters.push({ op, text, regex: t.regex, negate });
      } else filters.push({ op: op as LineFilter['op'], text, negate });
    }
    return { matchers, filters };
  }
}

/**
 * Parses a match stage's selector. Anything beyond the subset Promtail's match stage accepts (an empty
 * `{}`, parsers like `| json`, pattern filters `|>`, `or`) is an error naming the column.
 */
export function parseSelector(text: string): SelectorResult {
  try {
    return { ok: true, selector: new Parser(text).parse() };
  } catch (err) {
    if (err instanceof ParseError) {
      return {
        ok: false,
        message: `Invalid selector \`${text}\`: ${err.message}; a match selector is a stream selector like {app="web", level=~"warn|error"} optionally followed by line filters |= "text", != "text", |~ "regex", !~ "regex"`,
      };
    }
    throw err;
  }
}
