//! `-config.expand-env`: substitutes environment variables in the raw config text before YAML parsing,
//! as Promtail does with drone/envsubst. Pure: never throws, never reads process.env.
//!
//! Supported: `${VAR}`; `${VAR:-default}` and `${VAR:=default}` (default when unset or empty);
//! `${VAR-default}` and `${VAR=default}` (when unset); `${VAR:?message}`/`${VAR?message}` (an issue when
//! unset or empty / unset); `${VAR:+alt}`/`${VAR+alt}`; defaults may hold further `${…}`. Bare `$VAR`
//! (a name starting with a letter or `_`, so `$1` stays as written for relabel replacements).
//! Escapes, as drone/envsubst: `$$` → `$`, `\\` → `\`, `\/` → `/` (why Promtail's docs say to double
//! every backslash when expand-env is on). An unset variable without a default is an issue naming it and
//! its line, except on a full-line `#` comment, where it quietly becomes empty as in Promtail (and a
//! malformed reference there is left alone).

import type { ConfigIssue } from '../core/errors.js';

export interface ExpandOptions {
  /** Also expand bare `$VAR` (Promtail's envsubst leaves it as written, so this is off). @default false */
  bareVariables?: boolean;
}

export interface ExpandResult {
  text: string;
  /** Unset variables and malformed references, each with its 1-based line in the input. */
  issues: ConfigIssue[];
  /**
   * Present only when an inserted value held newlines, so output lines no longer match input lines:
   * `lineMap[outputLine - 1]` is the input line it came from.
   */
  lineMap?: number[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** Nested defaults deeper than this are refused (keeps recursion bounded on any input). */
const MAX_DEPTH = 16;
const NAME = /[\p{L}\p{N}_]+/uy;
const BARE_NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const SPECIAL = /[$\\\n]/g;

export function expandEnv(text: string, env: Env, options: ExpandOptions = {}): ExpandResult {
  return new Expander(text, env, options.bareVariables ?? false).run();
}

class Expander {
  readonly #src: string;
  readonly #env: Env;
  readonly #bare: boolean;
  readonly #issues: ConfigIssue[] = [];
  /** Extra output lines inserted on a source line, by source line. */
  readonly #extraLines = new Map<number, number>();
  #line = 1;
  #lineStart = 0;

  constructor(src: string, env: Env, bare: boolean) {
    this.#src = src;
    this.#env = env;
    this.#bare = bare;
  }

  run(): ExpandResult {
    const text = this.#expand(this.#src, 0, true);
    const result: ExpandResult = { text, issues: this.#issues };
    if (this.#extraLines.size > 0) {
      const lineMap: number[] = [];
      for (let line = 1; line <= this.#line; line++) {
        const count = 1 + (this.#extraLines.get(line) ?? 0);
        for (let k = 0; k < count; k++) lineMap.push(line);
      }
      result.lineMap = lineMap;
    }
    return result;
  }

  /** Expands `seg`; `top` is the whole file (tracks lines), otherwise an operand within one line. */
  #expand(seg: string, depth: number, top: boolean): string {
    let out = '';
    let i = 0;
    const special = new RegExp(SPECIAL);
    while (i < seg.length) {
      special.lastIndex = i;
      const m = special.exec(seg);
      const at = m ? m.index : seg.length;
      out += seg.slice(i, at);
      if (!m) break;
      i = at;
      const c = seg[i];
      const next = seg[i + 1];
      if (c === '\n') {
        out += c;
        i += 1;
        if (top) {
          this.#line += 1;
          this.#lineStart = i;
        }
      } else if (c === '\\') {
        if (next === '\\' || next === '/') {
          out += next;
          i += 2;
        } else {
          out += c;
          i += 1;
        }
      } else if (next === '$') {
        out += '$';
        i += 2;
      } else if (next === '{') {
        const r = this.#braced(seg, i, depth);
        this.#insert(r.value, top);
        out += r.value;
        i = r.end;
      } else if (this.#bare && next !== undefined) {
        BARE_NAME.lastIndex = i + 1;
        const name = BARE_NAME.exec(seg)?.[0];
        if (name === undefined) {
          out += c;
          i += 1;
        } else {
          const value = this.#lookup(name) ?? this.#unset(name, `$${name}`, `$$${name}`);
          this.#insert(value, top);
          out += value;
          i += 1 + name.length;
        }
      } else {
        out += c;
        i += 1;
      }
    }
    return out;
  }

  /** `${…}` starting at `seg[start]`; returns the replacement and where the reference ends. */
  #braced(seg: string, start: number, depth: number): { value: string; end: number } {
    const close = matchingBrace(seg, start + 2);
    if (close === -1) {
      this.#issue(`Missing \`}\` after \`${clip(seg.slice(start))}\``);
      return { value: seg.slice(start, start + 2), end: start + 2 };
    }
    const raw = seg.slice(start, close + 1);
    NAME.lastIndex = start + 2;
    const name = NAME.exec(seg)?.[0];
    if (name === undefined) {
      this.#issue(`Invalid variable reference \`${clip(raw)}\`: expected a variable name after \`\${\``);
      return { value: raw, end: close + 1 };
    }
    const afterName = start + 2 + name.length;
    const opMatch = /^(?::[-=?+]|[-=?+])?/.exec(seg.slice(afterName, afterName + 2));
    const op = opMatch?.[0] ?? '';
    const operandStart = afterName + op.length;
    if (op === '' && operandStart !== close) {
      this.#issue(
        `Unsupported substitution \`${clip(raw)}\`: only \${VAR}, \${VAR:-default}, \${VAR-default}, ` +
          `\${VAR:?message} and \${VAR:+alternative} are expanded`,
      );
      return { value: raw, end: close + 1 };
    }
    const value = this.#lookup(name);
    const empty = value === undefined || (op.startsWith(':') && value === '');
    const operand = () => {
      if (depth + 1 > MAX_DEPTH) {
        this.#issue(`Variable references nested too deeply in \`${clip(raw)}\``);
        return '';
      }
      return this.#expand(seg.slice(operandStart, close), depth + 1, false);
    };
    let result: string;
    switch (op) {
      case '':
        result = value ?? this.#unset(name, `\${${name}}`, `\${${name}:-default}`);
        break;
      case ':-':
      case ':=':
      case '-':
      case '=':
        result = empty ? operand() : (value ?? '');
        break;
      case ':?':
      case '?':
        if (empty) {
          const message = operand();
          this.#issue(
            message === ''
              ? `Environment variable \`${name}\` is ${value === undefined ? 'not set' : 'empty'}`
              : `Environment variable \`${name}\`: ${message}`,
          );
          result = '';
        } else {
          result = value ?? '';
        }
        break;
      default: // ':+' and '+'
        result = empty ? '' : operand();
    }
    return { value: result, end: close + 1 };
  }

  #lookup(name: string): string | undefined {
    // Own keys only: a name like `constructor` must not find Object.prototype's.
    return Object.hasOwn(this.#env, name) ? this.#env[name] : undefined;
  }

  /** Reports an unset variable (unless on a comment line) and yields its replacement, the empty string. */
  #unset(name: string, written: string, hint: string): string {
    this.#issue(
      `Environment variable \`${name}\` (written \`${written}\`) is not set: set it in the environment ` +
        `or the .env file, or write \`${hint}\``,
    );
    return '';
  }

  #onCommentLine(): boolean {
    const src = this.#src;
    let i = this.#lineStart;
    while (i < src.length && (src[i] === ' ' || src[i] === '\t')) i++;
    return src[i] === '#';
  }

  #insert(value: string, top: boolean): void {
    if (!top) return;
    let count = 0;
    for (let i = value.indexOf('\n'); i !== -1; i = value.indexOf('\n', i + 1)) count++;
    if (count > 0) this.#extraLines.set(this.#line, (this.#extraLines.get(this.#line) ?? 0) + count);
  }

  /** Records an issue on the current line, unless that line is a comment (where nothing matters). */
  #issue(message: string): void {
    if (!this.#onCommentLine()) this.#issues.push({ path: [], message, line: this.#line });
  }
}

/** Index of the `}` closing a reference whose body starts at `from`, on the same line; -1 if none. */
function matchingBrace(seg: string, from: number): number {
  let depth = 0;
  for (let k = from; k < seg.length; k++) {
    const c = seg[k];
    if (c === '\n') return -1;
    if (c === '$' && seg[k + 1] === '{') {
      depth++;
      k++;
    } else if (c === '}') {
      if (depth === 0) return k;
      depth--;
    }
  }
  return -1;
}

/** The first characters of a reference, for messages. */
function clip(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}
