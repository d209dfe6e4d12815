//! The `labelallow` stage: keeps only the listed labels (Promtail's labelallow.go).
//!
//! ```yaml
//! - labelallow: [namespace, app]
//! ```
//! The list must not be empty. As in Promtail, where the tenant is the label `__tenant_id__`, a tenant
//! set earlier (by a `tenant` stage) is cleared unless `__tenant_id__` is in the list.

import type { PipelineEntry, Stage, StageFactory, StageIssue } from '../stage.js';
import { TENANT_LABEL } from './config-values.js';
import { compileLabelList } from './labeldrop.js';

class LabelAllowStage implements Stage {
  readonly name = 'labelallow';
  readonly #allowed: ReadonlySet<string>;
  readonly #keepTenant: boolean;

  constructor(names: readonly string[]) {
    this.#allowed = new Set(names);
    this.#keepTenant = this.#allowed.has(TENANT_LABEL);
  }

  process(entry: PipelineEntry): 'keep' {
    const labels = entry.labels;
    for (const name in labels) if (!this.#allowed.has(name)) delete labels[name];
    if (!this.#keepTenant) entry.tenant = undefined;
    return 'keep';
  }
}

/** `labelallow`: a list of the only label names to keep. */
export const createLabelAllowStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  const names = compileLabelList(config, 'labelallow', issues);
  if (names === undefined) return { issues };
  return { stage: new LabelAllowStage(names), issues };
};
