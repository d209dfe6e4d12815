//! The `output` stage (Promtail's output.go): replaces the line with an extracted value. A missing
//! value, or one that is not a string, number or boolean, leaves the line as it is.

import type { PipelineEntry, Stage, StageFactory, StageIssue, StageResult } from '../stage.js';
import { extractedValueString, strictString, structConfig } from './config-values.js';

/** `output:` as written in the config. */
export interface OutputStageConfig {
  /** Extracted name whose value becomes the line. Required. */
  source: string;
}

class OutputStage implements Stage {
  readonly name = 'output';
  readonly #source: string;

  constructor(source: string) {
    this.#source = source;
  }

  process(entry: PipelineEntry): StageResult {
    const value = extractedValueString(entry.extracted[this.#source]);
    if (value !== undefined) entry.line = value;
    return 'keep';
  }
}

/** Compiles an `output` stage. */
export const createOutputStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  const m = structConfig(config ?? {}, ['source'], issues);
  if (m === undefined) return { issues };
  const source = strictString(m, 'source', issues);
  if (source === undefined || source === '') {
    issues.push({ path: ['source'], message: 'output source value is required if output is specified' });
    return { issues };
  }
  if (issues.length > 0) return { issues };
  return { stage: new OutputStage(source), issues };
};
