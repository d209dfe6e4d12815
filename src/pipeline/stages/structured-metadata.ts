//! The `structured_metadata` stage (and its deprecated name `non_indexed_labels`): attaches Loki
//! structured metadata (EntryAdapter field 3) to the entry (Promtail's structuredmetadata.go).
//!
//! ```yaml
//! - structured_metadata:
//!     trace_id:             # metadata `trace_id` ← extracted `trace_id`
//!     pod_name: pod         # metadata `pod_name` ← extracted `pod`, or else the label `pod`
//! ```
//! Per entry, as Promtail does:
//! 1. each name takes its extracted value, converted as the `labels` stage converts it;
//! 2. a source not found in the extracted data is looked up among the entry's labels;
//! 3. a label named like a source that gave a value, and holding that same value, is removed from the
//!    labels: it moved to structured metadata (this is how a high-cardinality label leaves the stream).
//! An empty value is not attached (it reads as absent in Loki). Names follow the label-name rule.

import type { PipelineEntry, Stage, StageFactory, StageIssue } from '../stage.js';
import { extractedValueString, wellFormed } from './config-values.js';
import { compileLabelMap, type LabelMapping } from './labels.js';

class StructuredMetadataStage implements Stage {
  readonly name: string;
  readonly #names: string[];
  readonly #sources: string[];
  /** Whether mapping i is the first with its source: only that one falls back to the labels. */
  readonly #firstOfSource: boolean[];
  /** Per-entry scratch: the value each mapping's source gave, undefined when none. */
  readonly #found: (string | undefined)[];

  constructor(name: string, mappings: readonly LabelMapping[]) {
    this.name = name;
    this.#names = mappings.map(m => m.name);
    this.#sources = mappings.map(m => m.source);
    this.#firstOfSource = this.#sources.map((s, i) => this.#sources.indexOf(s) === i);
    this.#found = new Array<string | undefined>(mappings.length).fill(undefined);
  }

  process(entry: PipelineEntry): 'keep' {
    const n = this.#names.length;
    const found = this.#found;
    const labels = entry.labels;
    let any = false;
    for (let i = 0; i < n; i++) {
      const raw = entry.extracted[this.#sources[i]!];
      found[i] = raw === undefined ? undefined : extractedValueString(raw);
      if (found[i] !== undefined) any = true;
    }
    for (let i = 0; i < n; i++) {
      if (found[i] !== undefined || !this.#firstOfSource[i]) continue;
      // Mappings of one source read the same extracted value, so when this one found nothing, none
      // did, and only the first of them falls back to the labels (Go skips a source already seen).
      const fromLabel = labels[this.#sources[i]!];
      if (fromLabel !== undefined) {
        found[i] = fromLabel;
        any = true;
      }
    }
    if (!any) return 'keep';
    const metadata = entry.metadata ?? {};
    let added = false;
    for (let i = 0; i < n; i++) {
      const value = found[i];
      if (value === undefined) continue;
      if (value !== '') {
        metadata[this.#names[i]!] = wellFormed(value);
        added = true;
      }
      const source = this.#sources[i]!;
      if (labels[source] === value) delete labels[source];
      found[i] = undefined;
    }
    if (added) entry.metadata = metadata;
    return 'keep';
  }
}

function factory(stageName: string): StageFactory {
  return config => {
    const issues: StageIssue[] = [];
    const mappings = compileLabelMap(config, stageName, issues);
    if (mappings === undefined) return { issues };
    return { stage: new StructuredMetadataStage(stageName, mappings), issues };
  };
}

/** `structured_metadata`: metadata name → extracted key (or label). */
export const createStructuredMetadataStage: StageFactory = factory('structured_metadata');

/** `non_indexed_labels`: Promtail's former name of `structured_metadata`, same behaviour. */
export const createNonIndexedLabelsStage: StageFactory = factory('non_indexed_labels');
