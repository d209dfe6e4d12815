//! Reads chosen top-level fields of a JSON text without building the parsed value: the `json` stage's
//! way for plain field paths, where JSON.parse would build an object and a string for every field of
//! the line only for one or two of them to be read. The whole text is still checked, with the grammar
//! JSON.parse accepts (RFC 8259: whitespace is space, tab, CR and LF; strings have no raw control
//! characters and only the eight escapes and `\uXXXX`; numbers as `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`),
//! so a text is malformed here exactly when JSON.parse throws on it. A field's value is handed out as
//! JSON.parse would give it (duplicate keys: the last wins); objects and arrays are parsed on demand
//! from their span. test/unit/json-scan.test.ts compares it with JSON.parse on random and broken texts.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * What the whole text is: not JSON (JSON.parse would throw), an object (the wanted fields' spans are
 * set), the literal `null`, or any other JSON value.
 */
export type TextKind = 'malformed' | 'object' | 'null' | 'other';

// How a field's value starts, so it is read without looking again.
const ABSENT = 0;
/** A string without escapes: its characters are the value. */
const PLAIN_STRING = 1;
/** A string with escapes, an object or an array: JSON.parse reads its span. */
const PARSED = 2;
const NUMBER = 3;
const TRUE = 4;
const FALSE = 5;
const NULL = 6;

/** Set by skipString: whether the string just skipped held a backslash. */
let escaped = false;

/** The kind of a valid value that starts with `c` (after skipString, for a string). */
function valueKind(c: number): number {
  if (c === QUOTE) return escaped ? PARSED : PLAIN_STRING;
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) return PARSED;
  if (c === 0x74) return TRUE;
  if (c === 0x66) return FALSE;
  if (c === 0x6e) return NULL;
  return NUMBER;
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipSpace(s: string, i: number): number {
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Whether JSON.parse of `s` could give an object or null: false when its first character after JSON
 * whitespace is neither `{` nor `n`. A caller that only reads objects can then skip JSON.parse of a
 * plain-text line, and the exception it throws (~8 µs a line here).
 */
export function mayBeObject(s: string): boolean {
  const c = s.charCodeAt(skipSpace(s, 0));
  return c === OPEN_OBJECT || c === 0x6e;
}

/** `i` at the opening quote; the index after the closing quote, or -1. Sets `escaped`. */
function skipString(s: string, i: number): number {
  const n = s.length;
  let esc = false;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c === QUOTE) {
      escaped = esc;
      return j + 1;
    }
    if (c < 0x20) return -1;
    if (c !== BACKSLASH) continue;
    esc = true;
    const e = s.charCodeAt(++j);
    if (e === 0x75 /* u */) {
      for (let k = 0; k < 4; k++) if (!isHex(s.charCodeAt(++j))) return -1;
    } else if (
      e !== QUOTE &&
      e !== BACKSLASH &&
      e !== 0x2f /* / */ &&
      e !== 0x62 /* b */ &&
      e !== 0x66 /* f */ &&
      e !== 0x6e /* n */ &&
      e !== 0x72 /* r */ &&
      e !== 0x74 /* t */
    ) {
      return -1;
    }
  }
  return -1;
}

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function skipDigits(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < ZERO || c > NINE) break;
    i++;
  }
  return i;
}

/** `i` at a `-` or a digit; the index after the number, or -1. */
function skipNumber(s: string, i: number): number {
  if (s.charCodeAt(i) === MINUS) i++;
  const first = s.charCodeAt(i);
  if (first === ZERO) i++;
  else if (first > ZERO && first <= NINE) i = skipDigits(s, i + 1);
  else return -1;
  if (s.charCodeAt(i) === DOT) {
    const j = skipDigits(s, i + 1);
    if (j === i + 1) return -1;
    i = j;
  }
  const e = s.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    i++;
    const sign = s.charCodeAt(i);
    if (sign === PLUS || sign === MINUS) i++;
    const j = skipDigits(s, i);
    if (j === i) return -1;
    i = j;
  }
  return i;
}

/** The index after `word` at `i`, or -1. */
function skipWord(s: string, i: number, word: string): number {
  return s.startsWith(word, i) ? i + word.length : -1;
}

/** A scalar at `i` (not an object or array); the index after it, or -1. Sets `escaped` for strings. */
function skipScalar(s: string, i: number, c: number): number {
  if (c === QUOTE) return skipString(s, i);
  if (c === MINUS || (c >= ZERO && c <= NINE)) return skipNumber(s, i);
  if (c === 0x74) return skipWord(s, i, 'true');
  if (c === 0x66) return skipWord(s, i, 'false');
  if (c === 0x6e) return skipWord(s, i, 'null');
  return -1;
}

/**
 * After an object's key string: the colon and the space around it; the index of the value, or -1.
 */
function skipColon(s: string, i: number): number {
  i = skipSpace(s, i);
  if (s.charCodeAt(i) !== COLON) return -1;
  return skipSpace(s, i + 1);
}

/** A member's key string at `i` (space already skipped) and its colon; the index of the value, or -1. */
function skipKey(s: string, i: number): number {
  if (s.charCodeAt(i) !== QUOTE) return -1;
  i = skipString(s, i);
  return i < 0 ? -1 : skipColon(s, i);
}

/**
 * Any value at `i` (space already skipped), nested to any depth without recursion; the index after
 * it, or -1. `open` tracks the open containers (true: an object), reused between calls.
 */
function skipValue(s: string, i: number, open: boolean[]): number {
  open.length = 0;
  for (;;) {
    // A value starts at i.
    const c = s.charCodeAt(i);
    if (c === OPEN_OBJECT) {
      i = skipSpace(s, i + 1);
      if (s.charCodeAt(i) === CLOSE_OBJECT) i++;
      else {
        i = skipKey(s, i);
        if (i < 0) return -1;
        open.push(true);
        continue;
      }
    } else if (c === OPEN_ARRAY) {
      i = skipSpace(s, i + 1);
      if (s.charCodeAt(i) === CLOSE_ARRAY) i++;
      else {
        open.push(false);
        continue;
      }
    } else {
      i = skipScalar(s, i, c);
      if (i < 0) return -1;
    }
    // A value ended at i: close what it ends, or go on to the next element.
    for (;;) {
      if (open.length === 0) return i;
      i = skipSpace(s, i);
      const d = s.charCodeAt(i);
      const inObject = open[open.length - 1]!;
      if (d === COMMA) {
        i = skipSpace(s, i + 1);
        if (inObject) {
          i = skipKey(s, i);
          if (i < 0) return -1;
        }
        break;
      }
      if (d !== (inObject ? CLOSE_OBJECT : CLOSE_ARRAY)) return -1;
      open.pop();
      i++;
    }
  }
}

/**
 * Finds the values of the top-level fields `names` in JSON texts; one instance per stage, reused (it
 * is not reentrant). After `scan` returns 'object', `value(k)` is the value of `names[k]` as
 * JSON.parse would give it, or undefined when the object has no such field.
 */
export class TopLevelFields {
  readonly #names: readonly string[];
  readonly #starts: Int32Array;
  readonly #ends: Int32Array;
  readonly #kinds: Uint8Array;
  readonly #open: boolean[] = [];
  #text = '';

  constructor(names: readonly string[]) {
    this.#names = names;
    this.#starts = new Int32Array(names.length);
    this.#ends = new Int32Array(names.length);
    this.#kinds = new Uint8Array(names.length);
  }

  scan(s: string): TextKind {
    this.#text = s;
    this.#kinds.fill(ABSENT);
    let i = skipSpace(s, 0);
    if (s.charCodeAt(i) !== OPEN_OBJECT) {
      const end = i < s.length ? skipValue(s, i, this.#open) : -1;
      if (end < 0 || skipSpace(s, end) !== s.length) return 'malformed';
      return s.startsWith('null', i) ? 'null' : 'other';
    }
    i = skipSpace(s, i + 1);
    if (s.charCodeAt(i) === CLOSE_OBJECT) i++;
    else {
      for (;;) {
        if (s.charCodeAt(i) !== QUOTE) return 'malformed';
        const keyStart = i;
        i = skipString(s, i);
        if (i < 0) return 'malformed';
        const field = this.#field(s, keyStart, i, escaped);
        i = skipColon(s, i);
        if (i < 0) return 'malformed';
        const valueStart = i;
        const c = s.charCodeAt(i);
        i = c === OPEN_OBJECT || c === OPEN_ARRAY ? skipValue(s, i, this.#open) : skipScalar(s, i, c);
        if (i < 0) return 'malformed';
        if (field >= 0) this.#found(field, c, valueStart, i);
        i = skipSpace(s, i);
        const d = s.charCodeAt(i);
        if (d === CLOSE_OBJECT) {
          i++;
          break;
        }
        if (d !== COMMA) return 'malformed';
        i = skipSpace(s, i + 1);
      }
    }
    return skipSpace(s, i) === s.length ? 'object' : 'malformed';
  }

  /** The index in `names` of the key string at [start, end) (quotes included), or -1. */
  #field(s: string, start: number, end: number, keyEscaped: boolean): number {
    const names = this.#names;
    if (keyEscaped) return names.indexOf(JSON.parse(s.slice(start, end)) as string);
    const length = end - start - 2;
    for (let k = 0; k < names.length; k++) {
      const name = names[k]!;
      if (name.length === length && s.startsWith(name, start + 1)) return k;
    }
    return -1;
  }

  #found(field: number, c: number, start: number, end: number): void {
    // A later duplicate key overwrites an earlier one, as in JSON.parse.
    this.#starts[field] = start;
    this.#ends[field] = end;
    this.#kinds[field] = valueKind(c);
  }

  /** The value of `names[k]` in the text last scanned (an 'object'), as JSON.parse gives it. */
  value(k: number): unknown {
    const s = this.#text;
    const start = this.#starts[k]!;
    const end = this.#ends[k]!;
    switch (this.#kinds[k]) {
      case ABSENT:
        return undefined;
      case PLAIN_STRING:
        return s.slice(start + 1, end - 1);
      case NUMBER:
        return Number(s.slice(start, end));
      case TRUE:
        return true;
      case FALSE:
        return false;
      case NULL:
        return null;
      default:
        return JSON.parse(s.slice(start, end));
    }
  }
}
