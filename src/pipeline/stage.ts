//! The contract of a pipeline stage (Promtail's `pipeline_stages`). A stage is compiled once from its
//! config (every mistake reported with its path, so `-check-syntax` finds it) and then runs on each
//! entry, synchronously, in order. Stages that hold entries back or nest other stages (multiline, match)
//! are run by the pipeline itself, which owns acknowledgements; a plain stage only changes the entry.

import type { Logger } from '../core/logger.js';
import type { Metrics } from '../metrics/metrics.js';

/** The mutable view of one entry while it goes through the stages. */
export interface PipelineEntry {
  /** Labels of the entry: a copy the stages may change freely (set, delete). */
  labels: Record<string, string>;
  /** Data extracted by parsing stages (json, logfmt, regex…), read by later stages. */
  extracted: Record<string, unknown>;
  /** The log line. */
  line: string;
  /** Timestamp: seconds since the epoch and nanoseconds within the second. */
  sec: number;
  nsec: number;
  /** Loki structured metadata to send with the entry. */
  metadata: Record<string, string> | undefined;
  /** Tenant for this entry (the `tenant` stage); the client's tenant_id when undefined. */
  tenant: string | undefined;
}

export type StageResult = 'keep' | 'drop';

export interface Stage {
  /** The stage's name as written in the config (`json`, `labels`…). */
  readonly name: string;
  /**
   * Runs on one entry. 'drop' removes it: the pipeline counts it in
   * docktail_dropped_entries_total{reason=<dropReason ?? stage name>} and settles it.
   */
  process(entry: PipelineEntry): StageResult;
  /** The reason drops are counted under (`drop_counter_reason`); the stage name when unset. */
  readonly dropReason?: string;
  /**
   * Pacing (the `limit` stage without `drop`): milliseconds the entry the last process() kept must wait
   * before it goes on; 0 to go at once. The pipeline calls it once after each process() that returned
   * 'keep', holds the entry (and every entry behind it, in order) that long, and reports backpressure
   * meanwhile. Optional: stages without it never delay.
   */
  takeDelay?(): number;
}

/** A problem in a stage's config; `path` is relative to the stage's own config map. */
export interface StageIssue {
  path: ReadonlyArray<string | number>;
  message: string;
}

/** What a stage factory gets besides its config. */
export interface StageContext {
  jobName: string;
  metrics: Metrics;
  logger: Logger;
}

/** Compiles a stage from its YAML value; returns the stage, or the issues that prevent it. */
export type StageFactory = (config: unknown, ctx: StageContext) => { stage?: Stage; issues: StageIssue[] };

/** Reads `source` from extracted data (Promtail: a missing source leaves the entry as it is). */
export function extractedString(entry: PipelineEntry, source: string | undefined): string | undefined {
  if (source === undefined) return entry.line;
  const value = entry.extracted[source];
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string'
    ? value
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);
}
