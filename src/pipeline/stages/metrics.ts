//! Promtail's `metrics` stage: counters, gauges and histograms fed from extracted data, labelled with the
//! entry's labels, exported on /metrics as `promtail_custom_<name>` (or `<prefix><name>`). A series not
//! updated for `max_idle_duration` (default 5m) disappears. The entry itself is never changed.

import type { Checker, Mapping } from '../../config/check.js';
import { isMapping } from '../../config/check.js';
import { parseDuration } from '../../config/units.js';
import { labelsKey } from '../carrier.js';
import type { CustomMetricType, CustomMetricVec } from '../custom-metrics.js';
import { customMetric } from '../custom-metrics.js';
import type { PipelineEntry, Stage, StageFactory, StageIssue, StageResult } from '../stage.js';
import { stageChecker, stageIssues, stageMapping } from '../stage-config.js';
import { StreamCache } from '../stream-cache.js';

const { Buffer } = process.getBuiltinModule('node:buffer');

type Action = 'inc' | 'add' | 'set' | 'dec' | 'sub' | 'observe';

interface CompiledMetric {
  readonly vec: CustomMetricVec;
  readonly source: string;
  readonly action: Action;
  /** `config.value`: only entries whose source value renders to this count. */
  readonly value: string | undefined;
  /** Counter `match_all`: counts every entry, whatever is extracted. */
  readonly matchAll: boolean;
  /** Counter `count_entry_bytes`: adds the line's length in bytes (with match_all and add). */
  readonly countBytes: boolean;
}

const METRIC_SPEC = { known: ['type', 'description', 'source', 'prefix', 'max_idle_duration', 'config'] };
const CONFIG_SPEC: Record<CustomMetricType, { known: string[] }> = {
  counter: { known: ['value', 'action', 'match_all', 'count_entry_bytes'] },
  gauge: { known: ['value', 'action'] },
  histogram: { known: ['value', 'buckets'] },
};
const ACTIONS: Record<CustomMetricType, readonly Action[]> = {
  counter: ['inc', 'add'],
  gauge: ['set', 'inc', 'dec', 'add', 'sub'],
  histogram: ['observe'],
};

/** Go's strconv.ParseFloat for the usual forms, then a Go duration in seconds (`0.5ms` is 0.0005). */
export function metricFloat(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return undefined;
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(value)) return Number(value);
  if (/^[+-]?(inf|infinity)$/i.test(value)) return value.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(value)) return Number.NaN;
  const ms = parseDuration(value);
  return ms === undefined ? undefined : ms / 1000;
}

/** Go's rendering of an extracted value for `config.value` (numbers without exponent when possible). */
export function metricString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value !== 'number') return undefined;
  const s = String(value);
  if (!s.includes('e') || !Number.isFinite(value)) return s;
  return Math.abs(value) < 1 ? value.toFixed(20).replace(/0+$/, '') : BigInt(Math.trunc(value)).toString();
}

function compileOne(
  c: Checker,
  name: string,
  raw: unknown,
  ctx: Parameters<StageFactory>[1],
): CompiledMetric | undefined {
  const at = [name];
  if (!isMapping(raw)) {
    c.expected(at, 'a mapping with `type` and `config`', raw);
    return undefined;
  }
  const m: Mapping = raw;
  c.mapping(m, at, METRIC_SPEC);
  const typeText = (c.string(m, at, 'type') ?? '').toLowerCase();
  if (typeText !== 'counter' && typeText !== 'gauge' && typeText !== 'histogram') {
    c.issue(
      [...at, 'type'],
      `invalid metric type \`${typeText}\`, metric type must be one of counter, gauge or histogram`,
    );
    return undefined;
  }
  const type: CustomMetricType = typeText;
  const help = c.string(m, at, 'description') ?? '';
  const source = c.string(m, at, 'source') ?? name;
  const prefix = c.string(m, at, 'prefix') || 'promtail_custom_';
  let maxIdleMs = 5 * 60_000;
  const idle = c.string(m, at, 'max_idle_duration');
  if (idle !== undefined) {
    const ms = parseDuration(idle);
    if (ms === undefined) c.expected([...at, 'max_idle_duration'], 'a duration like 5m or 24h', idle);
    else if (ms < 1000) c.issue([...at, 'max_idle_duration'], 'max_idle_duration less than 1s not allowed');
    else maxIdleMs = ms;
  }
  const cfgAt = [...at, 'config'];
  const cfg = c.mapping(m.config, cfgAt, CONFIG_SPEC[type]) ?? {};
  const value = c.string(cfg, cfgAt, 'value');
  let action: Action = 'observe';
  if (type !== 'histogram') {
    const text = (c.string(cfg, cfgAt, 'action') ?? '').toLowerCase();
    const allowed = ACTIONS[type];
    if (!allowed.includes(text as Action)) {
      c.issue(
        [...cfgAt, 'action'],
        text === ''
          ? `Missing \`action\`: a ${type} action is ${allowed.map(a => `\`${a}\``).join(', ')}`
          : `action \`${text}\` is not valid for a ${type}: use ${allowed.map(a => `\`${a}\``).join(', ')}`,
      );
      return undefined;
    }
    action = text as Action;
  }
  const matchAll = type === 'counter' && c.bool(cfg, cfgAt, 'match_all') === true;
  const countBytes = type === 'counter' && c.bool(cfg, cfgAt, 'count_entry_bytes') === true;
  if (matchAll && value !== undefined)
    c.issue([...cfgAt, 'match_all'], '`match_all: true` cannot be combined with `value`');
  if (countBytes && !matchAll)
    c.issue(
      [...cfgAt, 'count_entry_bytes'],
      '`count_entry_bytes: true` can only be set with `match_all: true`',
    );
  if (countBytes && action !== 'add')
    c.issue([...cfgAt, 'count_entry_bytes'], '`count_entry_bytes: true` can only be used with `action: add`');
  let buckets: number[] | undefined;
  if (type === 'histogram') {
    const items = c.list(cfg, cfgAt, 'buckets', 'a list of numbers');
    if (items !== undefined) {
      buckets = [];
      items.forEach((b, i) => {
        if (typeof b === 'number' && Number.isFinite(b)) buckets!.push(b);
        else c.expected([...cfgAt, 'buckets', i], 'a number', b);
      });
      if (buckets.some((b, i) => i > 0 && b <= buckets![i - 1]!))
        c.issue([...cfgAt, 'buckets'], 'histogram buckets must be in increasing order');
    }
  }
  if (c.issues.length > 0) return undefined;
  const spec = { name: prefix + name, help, type, maxIdleMs, ...(buckets ? { buckets } : {}) };
  const made = customMetric(ctx.metrics.registry, spec);
  if (!made.ok) {
    c.issue(at, made.message);
    return undefined;
  }
  return { vec: made.vec, source, action, value, matchAll, countBytes };
}

class MetricsStage implements Stage {
  readonly name = 'metrics';
  readonly #metrics: readonly CompiledMetric[];
  /** Label sets changed by earlier stages, rendered once each. */
  readonly #keys = new StreamCache(10_000);

  constructor(metrics: readonly CompiledMetric[]) {
    this.#metrics = metrics;
  }

  process(entry: PipelineEntry): StageResult {
    let key: string | undefined;
    const metrics = this.#metrics;
    for (let i = 0; i < metrics.length; i++) {
      const m = metrics[i]!;
      let v: unknown;
      if (m.matchAll) {
        // Counted whatever was extracted; `add` without count_entry_bytes has nothing to add (Promtail).
        if (m.countBytes) v = Buffer.byteLength(entry.line);
        else if (m.action !== 'inc') continue;
      } else {
        if (!Object.hasOwn(entry.extracted, m.source)) continue;
        v = entry.extracted[m.source];
        if (m.value !== undefined && metricString(v) !== m.value) continue;
      }
      let amount = 1;
      if (m.action !== 'inc' && m.action !== 'dec') {
        const f = metricFloat(v);
        // A counter cannot go down (client_golang panics on it); such values are skipped.
        if (f === undefined || (m.vec.type === 'counter' && !(f >= 0))) continue;
        amount = f;
      }
      key ??= labelsKey(entry, this.#keys);
      const series = m.vec.series(key, entry.labels);
      if (series === undefined) continue;
      switch (m.action) {
        case 'observe':
          m.vec.observe(series, amount);
          continue;
        case 'set':
          series.value = amount;
          break;
        case 'dec':
        case 'sub':
          series.value -= amount;
          break;
        default:
          series.value += amount;
      }
      series.lastMs = Date.now();
    }
    return 'keep';
  }
}

/** The `metrics` stage factory. */
export const createMetricsStage: StageFactory = (config, ctx) => {
  const issues: StageIssue[] = [];
  if (config === null || config === undefined) {
    return { issues: [{ path: [], message: 'empty metric stage configuration' }] };
  }
  const m = stageMapping(config, 'metrics', issues, '{log_lines_total: {type: Counter, config: {...}}}');
  if (m === undefined) return { issues };
  const compiled: CompiledMetric[] = [];
  for (const [name, raw] of Object.entries(m)) {
    const c = stageChecker();
    const one = compileOne(c, name, raw, ctx);
    issues.push(...stageIssues(c));
    if (one !== undefined) compiled.push(one);
  }
  if (issues.length > 0) return { issues };
  return { stage: new MetricsStage(compiled), issues };
};
