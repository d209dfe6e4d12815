//! The `labels` stage: sets labels from extracted data (Promtail's labels.go).
//!
//! ```yaml
//! - labels:
//!     level:            # label `level` ← extracted `level` (empty or null: the same name)
//!     app: app_name     # label `app` ← extracted `app_name`
//! ```
//! - Label names must be valid Loki label names (a load error otherwise); `- labels:` with no mapping
//!   at all is an error, `{}` is a stage that does nothing (as in Promtail).
//! - A value is converted as Promtail's `getString` does: strings as they are, numbers without an
//!   exponent (`1e21` → `1000000000000000000000`), booleans as `true`/`false`. A missing key, null, a
//!   list or a map sets nothing.
//! - An empty value removes the label: Promtail writes `""`, which Loki trims as an absent label
//!   (logql/syntax ParseLabels), so the label's previous value is gone there too.
//! - `__tenant_id__` is Promtail's tenant label: it sets `entry.tenant` instead of a label.

import type { PipelineEntry, Stage, StageFactory, StageIssue } from '../stage.js';
import {
  expected,
  extractedValueString,
  isLabelName,
  isMapping,
  TENANT_LABEL,
  wellFormed,
} from './config-values.js';

/** One `name: source` pair of a labels-like map. */
export interface LabelMapping {
  /** The label (or structured metadata) name to set. */
  readonly name: string;
  /** The extracted key its value comes from. */
  readonly source: string;
}

/**
 * Reads a `name: source` map (the `labels` and `structured_metadata` stages): names must be label
 * names, a null or empty source means the name itself. `stageName` only words the messages.
 */
export function compileLabelMap(
  config: unknown,
  stageName: string,
  issues: StageIssue[],
): LabelMapping[] | undefined {
  if (config === null || config === undefined) {
    issues.push({
      path: [],
      message: `The ${stageName} stage needs a mapping of names to extracted keys (like \`level:\` or \`app: app_name\`)`,
    });
    return undefined;
  }
  if (!isMapping(config)) {
    expected(issues, [], 'a mapping of names to extracted keys', config);
    return undefined;
  }
  const out: LabelMapping[] = [];
  const before = issues.length;
  for (const [name, source] of Object.entries(config)) {
    if (!isLabelName(name)) {
      issues.push({
        path: [name],
        message: `invalid label name: ${name} (letters, digits and _, not starting with a digit)`,
      });
    }
    if (source === null || source === undefined || source === '') out.push({ name, source: name });
    else if (typeof source === 'string') out.push({ name, source });
    else expected(issues, [name], 'an extracted key (a string) or empty', source);
  }
  return issues.length > before ? undefined : out;
}

class LabelsStage implements Stage {
  readonly name = 'labels';
  readonly #names: string[];
  readonly #sources: string[];

  constructor(mappings: readonly LabelMapping[]) {
    this.#names = mappings.map(m => m.name);
    this.#sources = mappings.map(m => m.source);
  }

  process(entry: PipelineEntry): 'keep' {
    const extracted = entry.extracted;
    for (let i = 0; i < this.#names.length; i++) {
      const raw = extracted[this.#sources[i]!];
      if (raw === undefined) continue;
      const value = extractedValueString(raw);
      if (value === undefined) continue;
      const name = this.#names[i]!;
      if (name === TENANT_LABEL) entry.tenant = value === '' ? undefined : value;
      else if (value === '') delete entry.labels[name];
      else entry.labels[name] = wellFormed(value);
    }
    return 'keep';
  }
}

/** `labels`: label name → extracted key. */
export const createLabelsStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  const mappings = compileLabelMap(config, 'labels', issues);
  if (mappings === undefined) return { issues };
  return { stage: new LabelsStage(mappings), issues };
};
