//! A logfmt decoder with go-logfmt's rules, as Promtail's logfmt stage runs it: records are lines
//! (bufio.Scanner: `\n`, a trailing `\r` dropped, at most 64 KiB each), bytes ≤ space separate pairs,
//! a key without `=` has an empty value, values may be quoted with JSON-like escapes. Decoding stops at
//! the first syntax error; pairs before it have been delivered, as the Go decoder delivers them.

/** bufio.MaxScanTokenSize: a longer line stops the Go scanner with "token too long". */
const MAX_LINE_BYTES = 64 * 1024;

/** Receives each key and value; `wanted` lets the caller skip building values it does not need. */
export interface LogfmtSink {
  wanted(key: string): boolean;
  pair(key: string, value: string): void;
}

function hex4(s: string, i: number): number {
  if (s[i] !== '\\' || s[i + 1] !== 'u') return -1;
  const text = s.slice(i + 2, i + 6);
  return /^[0-9a-fA-F]{4}$/.test(text) ? Number.parseInt(text, 16) : -1;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  "'": "'",
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** go-logfmt's unquoteBytes on the text between the quotes; undefined when it is invalid. */
function unquote(s: string): string | undefined {
  let out = '';
  let run = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) {
      out += s.slice(run, i);
      const e = s[i + 1];
      if (e === undefined) return undefined;
      const simple = SIMPLE_ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        i += 2;
      } else if (e === 'u') {
        let r = hex4(s, i);
        if (r < 0) return undefined;
        i += 6;
        if (r >= 0xd800 && r < 0xe000) {
          const r2 = hex4(s, i);
          if (r < 0xdc00 && r2 >= 0xdc00 && r2 < 0xe000) {
            out += String.fromCharCode(r, r2);
            i += 6;
            run = i;
            continue;
          }
          r = 0xfffd; // an unpaired surrogate
        }
        out += String.fromCharCode(r);
      } else return undefined;
      run = i;
    } else if (c === 0x22 || c < 0x20) return undefined;
    else i++;
  }
  return out + s.slice(run);
}

/**
 * Decodes `input`, handing pairs to `sink` in order. Returns Go's error text when decoding stopped
 * early (`logfmt syntax error at pos 37 on line 1: unexpected '"'`), undefined when it reached the end.
 */
export function decodeLogfmt(input: string, sink: LogfmtSink): string | undefined {
  let lineNum = 0;
  let start = 0;
  while (start < input.length) {
    let end = input.indexOf('\n', start);
    const next = end < 0 ? input.length : end + 1;
    if (end < 0) end = input.length;
    if (end > start && input.charCodeAt(end - 1) === 0x0d) end--;
    lineNum++;
    if (end - start >= MAX_LINE_BYTES / 3 && Buffer.byteLength(input.slice(start, end)) >= MAX_LINE_BYTES)
      return 'bufio.Scanner: token too long';
    const err = decodeLine(input.slice(start, end), lineNum, sink);
    if (err !== undefined) return err;
    start = next;
  }
  return undefined;
}

function syntaxError(msg: string, line: number, pos: number): string {
  return `logfmt syntax error at pos ${pos + 1} on line ${line}: ${msg}`;
}

function decodeLine(line: string, lineNum: number, sink: LogfmtSink): string | undefined {
  const len = line.length;
  let pos = 0;
  while (pos < len) {
    // Skip garbage: every byte up to and including space.
    while (pos < len && line.charCodeAt(pos) <= 0x20) pos++;
    if (pos >= len) return undefined;
    const keyStart = pos;
    let multibyte = false;
    let c = 0;
    while (pos < len) {
      c = line.charCodeAt(pos);
      if (c === 0x3d || c === 0x22 || c <= 0x20) break;
      if (c >= 0x80) multibyte = true;
      pos++;
    }
    if (pos < len && c === 0x22) return syntaxError(`unexpected '"'`, lineNum, pos);
    if (pos === keyStart) return syntaxError(`unexpected '='`, lineNum, pos);
    const key = line.slice(keyStart, pos);
    // go-logfmt refuses keys holding U+FFFD (its marker for invalid UTF-8).
    if (multibyte && key.includes('\ufffd')) return syntaxError('invalid key', lineNum, pos);
    if (pos >= len || c !== 0x3d) {
      if (sink.wanted(key)) sink.pair(key, '');
      continue;
    }
    pos++; // '='
    if (pos >= len || line.charCodeAt(pos) <= 0x20) {
      if (sink.wanted(key)) sink.pair(key, '');
      continue;
    }
    if (line.charCodeAt(pos) === 0x22) {
      const quote = pos;
      let hasEscape = false;
      let escaped = false;
      let close = -1;
      for (let p = pos + 1; p < len; p++) {
        const q = line.charCodeAt(p);
        if (escaped) escaped = false;
        else if (q === 0x5c) hasEscape = escaped = true;
        else if (q === 0x22) {
          close = p;
          break;
        }
      }
      if (close < 0) return syntaxError('unterminated quoted value', lineNum, len);
      pos = close + 1;
      const inner = line.slice(quote + 1, close);
      const value = hasEscape ? unquote(inner) : inner;
      if (value === undefined) return syntaxError('invalid quoted value', lineNum, pos);
      if (sink.wanted(key)) sink.pair(key, value);
      continue;
    }
    const valueStart = pos;
    while (pos < len) {
      c = line.charCodeAt(pos);
      if (c === 0x3d || c === 0x22)
        return syntaxError(`unexpected '${String.fromCharCode(c)}'`, lineNum, pos);
      if (c <= 0x20) break;
      pos++;
    }
    if (sink.wanted(key)) sink.pair(key, line.slice(valueStart, pos));
  }
  return undefined;
}
