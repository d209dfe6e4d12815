//! The `labeldrop` stage: removes the listed labels (Promtail's labeldrop.go).
//!
//! ```yaml
//! - labeldrop: [filename, pod_template_hash]
//! ```
//! The list must not be empty; names are not checked (an absent label is simply not there). Dropping
//! `__tenant_id__`, Promtail's tenant label, clears `entry.tenant` (back to the client's tenant_id).

import type { PipelineEntry, Stage, StageFactory, StageIssue } from '../stage.js';
import { expected, TENANT_LABEL } from './config-values.js';

/**
 * Reads the list of label names of `labeldrop` / `labelallow`: a non-empty list of strings.
 * `stageName` only words the message.
 */
export function compileLabelList(
  config: unknown,
  stageName: string,
  issues: StageIssue[],
): string[] | undefined {
  if (config === null || config === undefined || (Array.isArray(config) && config.length === 0)) {
    issues.push({
      path: [],
      message: `${stageName} stage config cannot be empty: list at least one label name`,
    });
    return undefined;
  }
  if (!Array.isArray(config)) {
    expected(issues, [], 'a list of label names', config);
    return undefined;
  }
  const before = issues.length;
  config.forEach((name, i) => {
    if (typeof name !== 'string') expected(issues, [i], 'a label name (a string)', name);
  });
  return issues.length > before ? undefined : (config as string[]);
}

class LabelDropStage implements Stage {
  readonly name = 'labeldrop';
  readonly #names: readonly string[];
  readonly #tenant: boolean;

  constructor(names: readonly string[]) {
    this.#names = names.filter(n => n !== TENANT_LABEL);
    this.#tenant = names.includes(TENANT_LABEL);
  }

  process(entry: PipelineEntry): 'keep' {
    const labels = entry.labels;
    for (let i = 0; i < this.#names.length; i++) delete labels[this.#names[i]!];
    if (this.#tenant) entry.tenant = undefined;
    return 'keep';
  }
}

/** `labeldrop`: a list of label names to remove. */
export const createLabelDropStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  const names = compileLabelList(config, 'labeldrop', issues);
  if (names === undefined) return { issues };
  return { stage: new LabelDropStage(names), issues };
};
