//! `-inspect`: after each stage, prints what it changed in the entry (extracted data, labels, structured
//! metadata, tenant, timestamp, line) to stderr, in the form of Promtail's inspector:
//! `[inspect: regex stage]:` followed by one `path:` line and `-: old` / `+: new` lines per change, or
//! `none`. Colours (red removed, yellow changed, green added) only when the output is a terminal.

import type { PipelineEntry, StageResult } from './stage.js';

/** The entry as it was before a stage. */
export interface Snapshot {
  labels: Record<string, string>;
  extracted: Record<string, string>;
  metadata: Record<string, string>;
  tenant: string | undefined;
  line: string;
  sec: number;
  nsec: number;
}

export interface InspectorOptions {
  /** Where the report goes. @default process.stderr */
  write?: (text: string) => void;
  /** ANSI colours. @default whether stderr is a terminal */
  color?: boolean;
}

const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const GREEN = '\x1b[32m';
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

/** A value as Go's `%v` prints it: maps as `map[k:v]` with sorted keys, lists as `[a b]`. */
export function goValue(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(goValue).join(' ')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `map[${Object.keys(obj)
      .sort()
      .map(k => `${k}:${goValue(obj[k])}`)
      .join(' ')}]`;
  }
  return String(value);
}

/** A timestamp as Go's `time.Time` prints it in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
export function goTime(sec: number, nsec: number): string {
  const base = new Date(sec * 1000).toISOString().slice(0, 19).replace('T', ' ');
  const frac = nsec === 0 ? '' : `.${String(nsec).padStart(9, '0').replace(/0+$/, '')}`;
  return `${base}${frac} +0000 UTC`;
}

function mapOfStrings(values: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (values !== undefined) for (const k of Object.keys(values)) out[k] = goValue(values[k]);
  return out;
}

export class Inspector {
  readonly #write: (text: string) => void;
  readonly #color: boolean;

  constructor(options: InspectorOptions = {}) {
    this.#write = options.write ?? (text => process.stderr.write(text));
    this.#color = options.color ?? process.stderr.isTTY === true;
  }

  snapshot(e: PipelineEntry): Snapshot {
    return {
      labels: { ...e.labels },
      extracted: mapOfStrings(e.extracted),
      metadata: mapOfStrings(e.metadata),
      tenant: e.tenant,
      line: e.line,
      sec: e.sec,
      nsec: e.nsec,
    };
  }

  /** Prints the changes `stage` made since `before`. */
  report(stage: string, before: Snapshot, after: PipelineEntry, result: StageResult = 'keep'): void {
    const diffs: string[] = [];
    this.#maps(diffs, '{stages.Entry}.Extracted', before.extracted, mapOfStrings(after.extracted));
    this.#maps(diffs, '{stages.Entry}.Entry.Labels', before.labels, after.labels);
    this.#maps(
      diffs,
      '{stages.Entry}.Entry.Entry.StructuredMetadata',
      before.metadata,
      mapOfStrings(after.metadata),
    );
    this.#value(diffs, '{stages.Entry}.Tenant', before.tenant, after.tenant);
    this.#value(
      diffs,
      '{stages.Entry}.Entry.Entry.Timestamp',
      goTime(before.sec, before.nsec),
      goTime(after.sec, after.nsec),
    );
    this.#value(diffs, '{stages.Entry}.Entry.Entry.Line', before.line, after.line);
    if (result === 'drop') diffs.push(this.#paint(RED, 'dropped'));
    const body = diffs.length === 0 ? this.#paint(RED, 'none') : `\n${diffs.join('\n')}`;
    this.#write(`[inspect: ${this.#paint(BOLD, stage)} stage]: ${body}\n`);
  }

  #paint(code: string, text: string): string {
    return this.#color ? `${code}${text}${RESET}` : text;
  }

  #maps(
    diffs: string[],
    path: string,
    before: Readonly<Record<string, string>>,
    after: Readonly<Record<string, string>>,
  ): void {
    const names = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const name of [...names].sort()) {
      this.#value(diffs, `${path}[${JSON.stringify(name)}]`, before[name], after[name]);
    }
  }

  #value(diffs: string[], path: string, before: string | undefined, after: string | undefined): void {
    if (before === after) return;
    if (before !== undefined && after !== undefined) {
      diffs.push(this.#paint(YELLOW, `${path}:`));
      diffs.push(this.#paint(YELLOW, `\t-: ${before}`));
      diffs.push(this.#paint(GREEN, `\t+: ${after}`));
    } else if (before !== undefined) {
      diffs.push(this.#paint(RED, `${path}:`));
      diffs.push(this.#paint(RED, `\t-: ${before}`));
    } else {
      diffs.push(this.#paint(GREEN, `${path}:`));
      diffs.push(this.#paint(GREEN, `\t+: ${after}`));
    }
  }
}
