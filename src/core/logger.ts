//! docktail's own log: one line per event, logfmt (default) or JSON, `level` and `msg` first.
//! Secrets never reach it: callers log names and counts, not credentials or URLs with userinfo.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'logfmt' | 'json';
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(RANK, value);
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
}

/** Logger settings shared by a logger and its children, so a later level change reaches them all. */
interface LoggerState {
  level: number;
  format: LogFormat;
  write: (line: string) => void;
}

function renderValue(value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function logfmtValue(value: unknown): string {
  const v = renderValue(value);
  const text =
    typeof v === 'string' ? v : v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /^[^\s"=\\]+$/.test(text) ? text : JSON.stringify(text);
}

class StructuredLogger implements Logger {
  readonly #state: LoggerState;
  readonly #fields: LogFields;

  constructor(state: LoggerState, fields: LogFields) {
    this.#state = state;
    this.#fields = fields;
  }

  #emit(level: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[level] < this.#state.level) return;
    const all: LogFields = { ...this.#fields, ...fields };
    const ts = new Date().toISOString();
    let line: string;
    if (this.#state.format === 'json') {
      const obj: LogFields = { ts, level, msg };
      for (const [k, v] of Object.entries(all)) obj[k] = renderValue(v);
      line = JSON.stringify(obj);
    } else {
      line = `ts=${ts} level=${level} msg=${logfmtValue(msg)}`;
      for (const [k, v] of Object.entries(all)) if (v !== undefined) line += ` ${k}=${logfmtValue(v)}`;
    }
    this.#state.write(`${line}\n`);
  }

  debug(msg: string, fields?: LogFields): void {
    this.#emit('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#emit('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#emit('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#emit('error', msg, fields);
  }
  child(fields: LogFields): Logger {
    return new StructuredLogger(this.#state, { ...this.#fields, ...fields });
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const state: LoggerState = {
    level: RANK[options.level ?? 'info'],
    format: options.format ?? 'logfmt',
    write: options.write ?? (line => process.stderr.write(line)),
  };
  return new StructuredLogger(state, {});
}

/** A logger that discards everything (tests, benchmarks). */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} });
