//! The `tenant` stage: chooses the Loki tenant of the entry (Promtail's tenant.go). The Loki client
//! batches and pushes per tenant (`X-Scope-OrgID`), and uses its own `tenant_id` while this is unset.
//!
//! ```yaml
//! - tenant:
//!     source: customer_id   # from extracted data, converted as the `labels` stage converts values
//!   # or  label: namespace  # from a label of the entry
//!   # or  value: team-a     # a fixed tenant
//! ```
//! Exactly one of the three must be set (an empty string counts as unset). A missing, unconvertible
//! or empty value leaves the tenant as it was.

import type { PipelineEntry, Stage, StageFactory, StageIssue } from '../stage.js';
import { extractedValueString, strictString, structConfig } from './config-values.js';

type TenantFrom = { kind: 'source' | 'label' | 'value'; key: string };

class TenantStage implements Stage {
  readonly name = 'tenant';
  readonly #from: TenantFrom;

  constructor(from: TenantFrom) {
    this.#from = from;
  }

  process(entry: PipelineEntry): 'keep' {
    const { kind, key } = this.#from;
    let tenant: string | undefined;
    if (kind === 'value') tenant = key;
    else if (kind === 'label') tenant = entry.labels[key];
    else {
      const raw = entry.extracted[key];
      tenant = raw === undefined ? undefined : extractedValueString(raw);
    }
    if (tenant !== undefined && tenant !== '') entry.tenant = tenant;
    return 'keep';
  }
}

/** `tenant`: one of `source`, `label`, `value`. */
export const createTenantStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  const m = structConfig(config, ['source', 'label', 'value'], issues);
  if (m === undefined) return { issues };
  const set: TenantFrom[] = [];
  for (const kind of ['source', 'label', 'value'] as const) {
    const key = strictString(m, kind, issues);
    if (key !== undefined && key !== '') set.push({ kind, key });
  }
  if (issues.length > 0) return { issues };
  if (set.length === 0) {
    issues.push({ path: [], message: 'label, source or value config are required: set one of them' });
    return { issues };
  }
  if (set.length > 1) {
    issues.push({
      path: [set[1]!.kind],
      message: `label, source and value are mutually exclusive: set only one (found ${set.map(s => `\`${s.kind}\``).join(', ')})`,
    });
    return { issues };
  }
  return { stage: new TenantStage(set[0]!), issues };
};
