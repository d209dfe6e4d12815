//! The `pack` stage (Promtail's pack.go): wraps the line in a JSON object with the chosen extracted
//! values (`{"container":"app","_entry":"<line>"}`, keys sorted, `_entry` last, written as
//! json-iterator writes them) and removes those names from the labels. By default the entry also
//! takes the time it was packed (`ingest_timestamp`).

import { goJsonString } from '../go-json.js';
import type { PipelineEntry, Stage, StageFactory, StageIssue, StageResult } from '../stage.js';
import { expected, extractedValueString, structConfig, weakBool, weakString } from './config-values.js';

/** `pack:` as written in the config. */
export interface PackStageConfig {
  /** Names (from the extracted data, which includes the labels) to embed and remove from the labels. @default [] */
  labels?: string[];
  /** Set the entry's timestamp to the time it is packed. @default true */
  ingest_timestamp?: boolean;
}

/** Loki's `unpack` reads the line from this key (logqlmodel.PackedEntryKey). */
const ENTRY_KEY = '"_entry":';

/** The current time with sub-millisecond precision (performance.now on the epoch origin). */
function now(entry: PipelineEntry): void {
  const ms = performance.timeOrigin + performance.now();
  const sec = Math.floor(ms / 1000);
  entry.sec = sec;
  entry.nsec = Math.min(999_999_999, Math.floor((ms - sec * 1000) * 1e6));
}

class PackStage implements Stage {
  readonly name = 'pack';
  /** Sorted and without duplicates: the output's key order. */
  readonly #labels: readonly string[];
  readonly #keys: readonly string[];
  readonly #ingestTimestamp: boolean;

  constructor(labels: readonly string[], ingestTimestamp: boolean) {
    this.#labels = labels;
    this.#keys = labels.map(goJsonString);
    this.#ingestTimestamp = ingestTimestamp;
  }

  process(entry: PipelineEntry): StageResult {
    let out = '{';
    for (let i = 0; i < this.#labels.length; i++) {
      const name = this.#labels[i]!;
      // Values that are not strings, numbers or booleans are left out (and stay labels), as in Promtail.
      const value = extractedValueString(entry.extracted[name]);
      if (value === undefined) continue;
      out += `${this.#keys[i]}:${goJsonString(value)},`;
      delete entry.labels[name];
    }
    entry.line = `${out}${ENTRY_KEY}${goJsonString(entry.line)}}`;
    if (this.#ingestTimestamp) now(entry);
    return 'keep';
  }
}

function readLabels(value: unknown, issues: StageIssue[]): string[] {
  if (value === undefined || value === null) return [];
  // mapstructure's WeakDecode turns a single value into a one-element list.
  const list = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  list.forEach((item, i) => {
    const path = Array.isArray(value) ? ['labels', i] : ['labels'];
    const s = weakString({ item }, 'item', []);
    if (s === undefined) expected(issues, path, 'a label name', item);
    else out.push(s);
  });
  return out;
}

/** Compiles a `pack` stage. */
export const createPackStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  const m = structConfig(config ?? {}, ['labels', 'ingest_timestamp'], issues);
  if (m === undefined) return { issues };
  const labels = readLabels(m.labels, issues);
  const ingestTimestamp = weakBool(m, 'ingest_timestamp', issues) ?? true;
  if (issues.length > 0) return { issues };
  // Go sorts the keys by bytes, which is code point order.
  const sorted = [...new Set(labels)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { stage: new PackStage(sorted, ingestTimestamp), issues };
};
