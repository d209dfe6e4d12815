//! The `static_labels` stage: sets fixed labels (Promtail's static_labels.go).
//!
//! ```yaml
//! - static_labels:
//!     env: production
//!     team: "42"        # values are strings: an unquoted number is an error, as in Promtail
//! ```
//! - Names must be valid Loki label names. Promtail accepts any UTF-8 name here, but Loki refuses
//!   the push of a stream with such a name, so docktail reports it at load.
//! - A null or empty value sets nothing (Promtail skips it). `- static_labels:` with no mapping is an
//!   error; `{}` does nothing.
//! - `__tenant_id__` is Promtail's tenant label: it sets `entry.tenant` instead of a label.

import type { PipelineEntry, Stage, StageFactory, StageIssue } from '../stage.js';
import { expected, isLabelName, isMapping, TENANT_LABEL } from './config-values.js';

class StaticLabelsStage implements Stage {
  readonly name = 'static_labels';
  readonly #names: string[] = [];
  readonly #values: string[] = [];
  readonly #tenant: string | undefined;

  constructor(labels: ReadonlyMap<string, string>) {
    for (const [name, value] of labels) {
      if (name === TENANT_LABEL) continue;
      this.#names.push(name);
      this.#values.push(value);
    }
    this.#tenant = labels.get(TENANT_LABEL);
  }

  process(entry: PipelineEntry): 'keep' {
    const labels = entry.labels;
    for (let i = 0; i < this.#names.length; i++) labels[this.#names[i]!] = this.#values[i]!;
    if (this.#tenant !== undefined) entry.tenant = this.#tenant;
    return 'keep';
  }
}

/** `static_labels`: label name → fixed value. */
export const createStaticLabelsStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  if (config === null || config === undefined) {
    issues.push({
      path: [],
      message: 'static_labels stage config cannot be empty: give label names and values',
    });
    return { issues };
  }
  if (!isMapping(config)) {
    expected(issues, [], 'a mapping of label names to values', config);
    return { issues };
  }
  const labels = new Map<string, string>();
  for (const [name, value] of Object.entries(config)) {
    if (!isLabelName(name)) {
      issues.push({
        path: [name],
        message: `invalid label name: ${name} (letters, digits and _, not starting with a digit)`,
      });
    }
    if (value === null || value === undefined || value === '') continue;
    if (typeof value !== 'string') {
      expected(issues, [name], 'a string (quote it)', value);
      continue;
    }
    if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) {
      issues.push({ path: [name], message: `invalid label value for ${name}: not valid UTF-8` });
      continue;
    }
    labels.set(name, value);
  }
  if (issues.length > 0) return { issues };
  return { stage: new StaticLabelsStage(labels), issues };
};
