//! The metrics a `metrics` stage defines, exported on the agent's prom-client registry. Their label sets
//! are those of the entries (not declared up front), so they are a metric object of their own that the
//! registry collects, as Promtail's unchecked `metricVec` is. A series idle for `max_idle_duration` is
//! removed at the next scrape. Stages of several scrape configs that define the same name share it.

import type { Registry } from 'prom-client';

export type CustomMetricType = 'counter' | 'gauge' | 'histogram';

/** One label set of a custom metric. */
export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  /** Counter or gauge value; the sum of observations for a histogram. */
  value: number;
  /** Histogram: observations per bucket (not cumulative), the last one for +Inf. */
  readonly counts: Float64Array | undefined;
  /** Histogram: number of observations. */
  count: number;
  /** `Date.now()` of the last change. */
  lastMs: number;
}

export interface CustomMetricSpec {
  name: string;
  help: string;
  type: CustomMetricType;
  /** Histogram buckets, sorted ascending. */
  buckets?: readonly number[];
  maxIdleMs: number;
}

/** Prometheus' default histogram buckets (also client_golang's, which Promtail uses). */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface ExportedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A custom metric: series keyed by their rendered label set. */
export class CustomMetricVec {
  readonly name: string;
  readonly help: string;
  readonly type: CustomMetricType;
  readonly buckets: readonly number[];
  readonly maxIdleMs: number;
  readonly aggregator = 'sum';
  readonly #series = new Map<string, Series>();

  constructor(spec: CustomMetricSpec) {
    this.name = spec.name;
    this.help = spec.help;
    this.type = spec.type;
    this.buckets = spec.type === 'histogram' ? (spec.buckets ?? DEFAULT_BUCKETS) : [];
    this.maxIdleMs = spec.maxIdleMs;
  }

  /**
   * The series for a label set (`key` is its rendering), created on first use; undefined when a label
   * name cannot be exported (Promtail skips those entries too).
   */
  series(key: string, labels: Readonly<Record<string, string>>): Series | undefined {
    const found = this.#series.get(key);
    if (found !== undefined) return found;
    for (const name in labels) {
      if (!LABEL_NAME.test(name) || name.startsWith('__')) return undefined;
      if (name === 'le' && this.type === 'histogram') return undefined;
    }
    const series: Series = {
      labels: Object.freeze({ ...labels }),
      value: 0,
      counts: this.type === 'histogram' ? new Float64Array(this.buckets.length + 1) : undefined,
      count: 0,
      lastMs: Date.now(),
    };
    this.#series.set(key, series);
    return series;
  }

  observe(series: Series, value: number): void {
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && value > buckets[i]!) i++;
    const counts = series.counts!;
    counts[i] = counts[i]! + 1;
    series.count += 1;
    series.value += value;
    series.lastMs = Date.now();
  }

  /** Series currently exported. */
  get size(): number {
    return this.#series.size;
  }

  /** What prom-client's registry renders; series idle past max_idle_duration are removed first. */
  async get(): Promise<{
    name: string;
    help: string;
    type: CustomMetricType;
    values: ExportedValue[];
    aggregator: string;
  }> {
    const now = Date.now();
    const values: ExportedValue[] = [];
    for (const [key, s] of this.#series) {
      if (now - s.lastMs >= this.maxIdleMs) {
        this.#series.delete(key);
        continue;
      }
      if (this.type !== 'histogram') {
        values.push({ labels: s.labels, value: s.value });
        continue;
      }
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += s.counts![i]!;
        const le = i < this.buckets.length ? String(this.buckets[i]) : '+Inf';
        values.push({ labels: { ...s.labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: s.labels, value: s.value, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.#series.clear();
  }
}

const shared = new WeakMap<Registry, Map<string, CustomMetricVec>>();

/**
 * The custom metric `spec.name` on `registry`: registered on first use, shared by later stages that
 * define it the same way; an error message when the name is invalid or taken by another kind of metric.
 */
export function customMetric(
  registry: Registry,
  spec: CustomMetricSpec,
): { ok: true; vec: CustomMetricVec } | { ok: false; message: string } {
  if (!METRIC_NAME.test(spec.name)) {
    return { ok: false, message: `\`${spec.name}\` is not a valid metric name (letters, digits, _ and :)` };
  }
  let byName = shared.get(registry);
  if (byName === undefined) {
    byName = new Map();
    shared.set(registry, byName);
  }
  const existing = byName.get(spec.name);
  if (existing !== undefined) {
    const same =
      existing.type === spec.type &&
      (spec.type !== 'histogram' ||
        (spec.buckets ?? DEFAULT_BUCKETS).join(',') === existing.buckets.join(','));
    if (same) return { ok: true, vec: existing };
    return {
      ok: false,
      message: `metric \`${spec.name}\` is already defined as a ${existing.type}${existing.type === 'histogram' ? ` with buckets [${existing.buckets.join(', ')}]` : ''} by another metrics stage`,
    };
  }
  if (registry.getSingleMetric(spec.name) !== undefined) {
    return {
      ok: false,
      message: `metric \`${spec.name}\` is one of docktail's own metrics; pick another name`,
    };
  }
  const vec = new CustomMetricVec(spec);
  // prom-client renders any object with `name`, `get()` and `reset()`; its types only name its own classes.
  registry.registerMetric(vec as unknown as Parameters<Registry['registerMetric']>[0]);
  byName.set(spec.name, vec);
  return { ok: true, vec };
}
