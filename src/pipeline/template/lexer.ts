//! Splits a Go text/template source into text and action tokens, as Go's text/template/parse lexer
//! does for the subset docktail runs: `{{`/`}}` with `{{- `/` -}}` trim markers, comments, fields
//! (`.a.b`), `.`, identifiers, strings (quoted and raw), char constants, numbers, `|` and parentheses.
//! Variables (`$x`, `:=`) and range's `,` are lexed so the parser can name them as unsupported.

export type TokenKind =
  | 'text'
  | 'open' // `{{`
  | 'close' // `}}`
  | 'field' // `.name` (value: name)
  | 'dot'
  | 'ident'
  | 'string' // value: the unquoted string
  | 'char' // value: the code point as a decimal string; text: as written
  | 'number' // value: as written
  | 'bool' // value: 'true' | 'false'
  | 'nil'
  | 'pipe'
  | 'lparen'
  | 'rparen'
  | 'variable' // `$x` (unsupported)
  | 'declare' // `:=` or `=` (unsupported)
  | 'comma'; // (unsupported)

export interface Token {
  kind: TokenKind;
  value: string;
  /** Offset in the source, for messages. */
  pos: number;
}

/** A syntax error in a template; `pos` is the offset in the source. */
export class TemplateSyntaxError extends Error {
  readonly pos: number;
  constructor(message: string, pos: number) {
    super(message);
    this.pos = pos;
  }
}

const SPACE = new Set([' ', '\t', '\r', '\n']);
const ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

function isSpace(c: string | undefined): boolean {
  return c !== undefined && SPACE.has(c);
}

function isAlnum(c: string | undefined): boolean {
  return c !== undefined && (c === '_' || /[\p{L}\p{Nd}]/u.test(c));
}

/** Reads one Go escape sequence at `i` (just after the backslash); returns the text and the next offset. */
function readEscape(src: string, i: number, quote: string): [string, number] {
  const c = src[i];
  if (c === undefined) throw new TemplateSyntaxError('unterminated quoted string', i);
  const simple = ESCAPES[c];
  if (simple !== undefined) {
    if ((c === "'" || c === '"') && c !== quote) throw new TemplateSyntaxError(`invalid escape \\${c}`, i);
    return [simple, i + 1];
  }
  const hexLen = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
  if (hexLen > 0) {
    const hex = src.slice(i + 1, i + 1 + hexLen);
    if (!new RegExp(`^[0-9A-Fa-f]{${hexLen}}$`).test(hex)) throw new TemplateSyntaxError('invalid escape', i);
    const cp = Number.parseInt(hex, 16);
    if (cp > 0x10ffff || (c !== 'x' && cp >= 0xd800 && cp <= 0xdfff))
      throw new TemplateSyntaxError('invalid escape', i);
    // `\xHH` is a byte in Go; only ASCII bytes make a valid string on their own.
    return [c === 'x' && cp > 0x7f ? '\ufffd' : String.fromCodePoint(cp), i + 1 + hexLen];
  }
  if (c >= '0' && c <= '7') {
    const oct = src.slice(i, i + 3);
    if (!/^[0-7]{3}$/.test(oct)) throw new TemplateSyntaxError('invalid escape', i);
    const b = Number.parseInt(oct, 8);
    if (b > 255) throw new TemplateSyntaxError('invalid escape', i);
    return [b > 0x7f ? '\ufffd' : String.fromCharCode(b), i + 3];
  }
  throw new TemplateSyntaxError(`invalid escape \\${c}`, i);
}

/** Tokenizes a template. Text tokens keep trim markers applied. */
export function lex(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    let pos = i;
    if (trimNext) {
      const trimmed = text.replace(/^[ \t\r\n]+/, '');
      pos += text.length - trimmed.length;
      text = trimmed;
      trimNext = false;
    }
    if (open < 0) {
      if (text) tokens.push({ kind: 'text', value: text, pos });
      break;
    }
    let start = open + 2;
    if (src[start] === '-' && isSpace(src[start + 1])) {
      text = text.replace(/[ \t\r\n]+$/, '');
      start += 2;
    }
    if (text) tokens.push({ kind: 'text', value: text, pos });
    i = lexAction(src, start, open, tokens);
    if (i < 0) {
      trimNext = true;
      i = -i;
    }
  }
  return tokens;
}

/**
 * Lexes one action from `i` (after `{{` and any trim marker) through `}}`. Returns the offset after
 * `}}`, negated when a right trim marker asks to trim the following text.
 */
function lexAction(src: string, i: number, openPos: number, tokens: Token[]): number {
  // A comment must follow the delimiter (and trim marker) directly: `{{/* … */}}`, `{{- /* … */ -}}`.
  if (src.startsWith('/*', i)) {
    const end = src.indexOf('*/', i + 2);
    if (end < 0) throw new TemplateSyntaxError('unclosed comment', i);
    const j = end + 2;
    if (isSpace(src[j]) && src.startsWith('-}}', j + 1)) return -(j + 4);
    if (src.startsWith('}}', j)) return j + 2;
    throw new TemplateSyntaxError('comment ends before closing delimiter', end);
  }
  tokens.push({ kind: 'open', value: '{{', pos: openPos });
  for (;;) {
    if (i >= src.length) throw new TemplateSyntaxError('unclosed action', openPos);
    const c = src[i]!;
    if (isSpace(c)) {
      let j = i;
      while (isSpace(src[j])) j++;
      if (src[j] === '-' && src.startsWith('}}', j + 1)) {
        tokens.push({ kind: 'close', value: '}}', pos: j });
        return -(j + 3);
      }
      i = j;
      continue;
    }
    if (src.startsWith('}}', i)) {
      tokens.push({ kind: 'close', value: '}}', pos: i });
      return i + 2;
    }
    i = lexItem(src, i, tokens);
  }
}

/** Lexes one item inside an action starting at `i`; returns the offset after it. */
function lexItem(src: string, i: number, tokens: Token[]): number {
  const c = src[i]!;
  const push = (kind: TokenKind, value: string, end: number) => {
    tokens.push({ kind, value, pos: i });
    return end;
  };
  switch (c) {
    case '|':
      return push('pipe', '|', i + 1);
    case '(':
      return push('lparen', '(', i + 1);
    case ')':
      return push('rparen', ')', i + 1);
    case ',':
      return push('comma', ',', i + 1);
    case '=':
      return push('declare', '=', i + 1);
    case ':':
      if (src[i + 1] === '=') return push('declare', ':=', i + 2);
      throw new TemplateSyntaxError('expected :=', i);
    case '"':
      return lexQuoted(src, i, tokens);
    case '`': {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new TemplateSyntaxError('unterminated raw quoted string', i);
      return push('string', src.slice(i + 1, end), end + 1);
    }
    case "'":
      return lexChar(src, i, tokens);
    case '$': {
      let j = i + 1;
      while (isAlnum(src[j])) j++;
      return push('variable', src.slice(i, j), j);
    }
  }
  if (c === '.') {
    const next = src[i + 1];
    if (next === undefined || next < '0' || next > '9') {
      let j = i + 1;
      while (isAlnum(src[j])) j++;
      if (j === i + 1) return push('dot', '.', j);
      // `.a.b` is one chained field.
      while (src[j] === '.' && isAlnum(src[j + 1])) {
        j++;
        while (isAlnum(src[j])) j++;
      }
      return push('field', src.slice(i + 1, j), j);
    }
  }
  if (c === '.' || c === '+' || c === '-' || (c >= '0' && c <= '9')) return lexNumber(src, i, tokens);
  if (isAlnum(c)) {
    let j = i;
    while (isAlnum(src[j])) j++;
    const word = src.slice(i, j);
    if (word === 'true' || word === 'false') return push('bool', word, j);
    if (word === 'nil') return push('nil', word, j);
    return push('ident', word, j);
  }
  throw new TemplateSyntaxError(`unrecognized character in action: ${JSON.stringify(c)}`, i);
}

function lexQuoted(src: string, i: number, tokens: Token[]): number {
  let out = '';
  let j = i + 1;
  for (;;) {
    const c = src[j];
    if (c === undefined || c === '\n') throw new TemplateSyntaxError('unterminated quoted string', i);
    if (c === '"') break;
    if (c === '\\') {
      const [text, next] = readEscape(src, j + 1, '"');
      out += text;
      j = next;
    } else {
      out += c;
      j++;
    }
  }
  tokens.push({ kind: 'string', value: out, pos: i });
  return j + 1;
}

function lexChar(src: string, i: number, tokens: Token[]): number {
  let j = i + 1;
  let text: string;
  if (src[j] === '\\') [text, j] = readEscape(src, j + 1, "'");
  else {
    const cp = src.codePointAt(j);
    if (cp === undefined || src[j] === '\n')
      throw new TemplateSyntaxError('unterminated character constant', i);
    text = String.fromCodePoint(cp);
    j += text.length;
  }
  if (src[j] !== "'") throw new TemplateSyntaxError('unterminated character constant', i);
  tokens.push({ kind: 'char', value: String(text.codePointAt(0)), pos: i });
  return j + 1;
}

function lexNumber(src: string, i: number, tokens: Token[]): number {
  // Go's scanNumber: sign, base prefix, digits with `_`, fraction, exponent, imaginary `i`.
  let j = i;
  if (src[j] === '+' || src[j] === '-') j++;
  let digits = '0123456789_';
  let exponent = 'eE';
  if (src[j] === '0' && /[xXoObB]/.test(src[j + 1] ?? '')) {
    const base = src[j + 1]!.toLowerCase();
    digits = base === 'x' ? '0123456789abcdefABCDEF_' : base === 'o' ? '01234567_' : '01_';
    exponent = base === 'x' ? 'pP' : '';
    j += 2;
  }
  const run = (set: string) => {
    while (j < src.length && set.includes(src[j]!)) j++;
  };
  run(digits);
  if (src[j] === '.') {
    j++;
    run(digits);
  }
  if (exponent && j < src.length && exponent.includes(src[j]!)) {
    j++;
    if (src[j] === '+' || src[j] === '-') j++;
    run('0123456789_');
  }
  if (src[j] === 'i') j++;
  if (isAlnum(src[j])) {
    let k = j;
    while (isAlnum(src[k])) k++;
    throw new TemplateSyntaxError(`bad number syntax: ${JSON.stringify(src.slice(i, k))}`, i);
  }
  tokens.push({ kind: 'number', value: src.slice(i, j), pos: i });
  return j;
}
