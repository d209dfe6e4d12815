// deploy/grafana/docktail.json and alerts.yaml against the code: every PromQL expression (panel
// targets, template variable queries, alert rules) names only metrics a fresh Metrics() registry
// exports, the dashboard has a sound shape (a datasource variable, panels with targets on a 24-column
// grid that do not overlap), and the rules have what Prometheus and a pager need.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { load } from 'js-yaml';
import { Metrics } from '../../src/metrics/metrics.js';
import { REPO } from '../harness/agent.js';

const FUNCTIONS = new Set([
  'abs',
  'absent',
  'absent_over_time',
  'avg_over_time',
  'ceil',
  'changes',
  'clamp',
  'clamp_max',
  'clamp_min',
  'count_over_time',
  'delta',
  'deriv',
  'exp',
  'floor',
  'histogram_quantile',
  'holt_winters',
  'idelta',
  'increase',
  'irate',
  'label_replace',
  'label_join',
  'last_over_time',
  'ln',
  'log2',
  'log10',
  'max_over_time',
  'min_over_time',
  'predict_linear',
  'quantile_over_time',
  'rate',
  'resets',
  'round',
  'scalar',
  'sort',
  'sort_desc',
  'sqrt',
  'stddev_over_time',
  'sum_over_time',
  'time',
  'timestamp',
  'vector',
  // aggregation operators
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
]);
/** Followed by a parenthesised list of label names, not expressions. */
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects. A small tokenizer: strings, label matchers `{…}` and
 * ranges `[…]` are skipped, names before `(` are functions, lists after by/without/on/ignoring/group_*
 * are label names, numbers and durations are skipped. Throws on unbalanced brackets or unknown functions.
 */
function metricNames(expr: string): string[] {
  const names: string[] = [];
  let i = 0;
  let depth = 0;
  const skipSpace = () => {
    while (i < expr.length && /\s/.test(expr[i]!)) i++;
  };
  const skipUntil = (close: string, what: string) => {
    const start = i;
    while (i < expr.length && expr[i] !== close) {
      const c = expr[i]!;
      if (c === '"' || c === "'" || c === '`') skipString();
      else i++;
    }
    if (i >= expr.length) throw new Error(`unclosed ${what} at ${start} in ${expr}`);
    i++;
  };
  const skipString = () => {
    const quote = expr[i]!;
    i++;
    while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' && quote !== '`' ? 2 : 1;
    if (i >= expr.length) throw new Error(`unterminated string in ${expr}`);
    i++;
  };
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'" || c === '`') {
      skipString();
    } else if (c === '{') {
      i++;
      skipUntil('}', 'label matcher');
    } else if (c === '[') {
      i++;
      skipUntil(']', 'range');
    } else if (c === '(') {
      depth++;
      i++;
    } else if (c === ')') {
      depth--;
      if (depth < 0) throw new Error(`unbalanced ) in ${expr}`);
      i++;
    } else if (c === '$') {
      // A Grafana variable such as $__range outside a range.
      i++;
      while (i < expr.length && /[\w{}]/.test(expr[i]!)) i++;
    } else if (/[0-9.]/.test(c)) {
      while (i < expr.length && /[\w.]/.test(expr[i]!)) i++;
    } else if (/[a-zA-Z_:]/.test(c)) {
      const start = i;
      while (i < expr.length && /[\w:]/.test(expr[i]!)) i++;
      const word = expr.slice(start, i);
      skipSpace();
      const next = expr[i];
      if (GROUPING.has(word)) {
        if (next === '(') {
          i++;
          skipUntil(')', `${word} list`);
        }
      } else if (KEYWORDS.has(word.toLowerCase())) {
        // an operator keyword
      } else if (next === '(') {
        if (!FUNCTIONS.has(word)) throw new Error(`unknown function ${word} in ${expr}`);
      } else if (FUNCTIONS.has(word) && /^(by|without)\b/.test(expr.slice(i))) {
        // an aggregation with its grouping first: sum by (x) (…)
      } else {
        names.push(word);
      }
    } else {
      i++; // operators, commas
    }
  }
  if (depth !== 0) throw new Error(`unbalanced ( in ${expr}`);
  return names;
}

/** Grafana's label_values(selector, label) / label_values(label): the selector's metric names. */
function variableQueryNames(query: string): string[] {
  const m = /^\s*label_values\((.*)\)\s*$/s.exec(query);
  assert.ok(m, `only label_values() variable queries are expected: ${query}`);
  const args = m[1]!;
  const comma = args.lastIndexOf(',');
  if (comma < 0) return [];
  assert.match(args.slice(comma + 1).trim(), /^[a-zA-Z_]\w*$/, `label name in ${query}`);
  return metricNames(args.slice(0, comma));
}

/** Every series name docktail exports: counters and gauges as registered, histograms with their parts. */
async function exportedNames(): Promise<Set<string>> {
  const metrics = new Metrics({ defaultMetrics: true });
  const out = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    const type = String(m.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(m.name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) out.add(m.name + s);
    else out.add(m.name);
  }
  return out;
}

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { uid?: string };
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Array<{ type: string; name: string; query?: unknown; definition?: string }> };
}
interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const dashboard = JSON.parse(
  readFileSync(join(REPO, 'deploy', 'grafana', 'docktail.json'), 'utf8'),
) as Dashboard;
const rules = load(readFileSync(join(REPO, 'deploy', 'grafana', 'alerts.yaml'), 'utf8')) as {
  groups?: Array<{ name?: string; rules?: Rule[] }>;
};

const allPanels = (panels: Panel[] = []): Panel[] => panels.flatMap(p => [p, ...allPanels(p.panels)]);
const queryPanels = allPanels(dashboard.panels).filter(p => p.type !== 'row');
const variables = dashboard.templating?.list ?? [];
const alertRules = (rules.groups ?? []).flatMap(g => g.rules ?? []);

/** Every PromQL expression in both files, with where it is. */
function expressions(): Array<{ where: string; names: string[] }> {
  const out: Array<{ where: string; names: string[] }> = [];
  for (const p of queryPanels) {
    for (const t of p.targets ?? []) {
      out.push({ where: `panel "${p.title}" ${t.refId}`, names: metricNames(t.expr ?? '') });
    }
  }
  for (const v of variables.filter(v => v.type === 'query')) {
    const q = typeof v.query === 'string' ? v.query : ((v.query as { query?: string })?.query ?? '');
    assert.equal(q, v.definition, `variable ${v.name}: definition and query agree`);
    out.push({ where: `variable $${v.name}`, names: variableQueryNames(q) });
  }
  for (const r of alertRules) out.push({ where: `alert ${r.alert}`, names: metricNames(r.expr ?? '') });
  return out;
}

describe('the PromQL tokenizer', () => {
  const cases: Array<[string, string[]]> = [
    ['docktail_targets', ['docktail_targets']],
    ['sum by (state) (docktail_targets{job=~"a|b", state!="by (x)"})', ['docktail_targets']],
    ['sum(rate(a_total[$__rate_interval])) by (client) / on (client) group_left (x) b', ['a_total', 'b']],
    ['histogram_quantile(0.99, sum by (le) (rate(h_bucket{x="}"}[5m] offset 1h)))', ['h_bucket']],
    ['a > 0 and on (instance) b == 0 unless c > bool 1', ['a', 'b', 'c']],
    ['sum(increase(x[$__range])) * 1e3 + 0x1f - 2.5', ['x']],
    ['max without (instance) (rate(y[5m:1m]))', ['y']],
  ];
  for (const [expr, expected] of cases) {
    test(expr, () => assert.deepEqual(metricNames(expr), expected));
  }
  test('rejects broken expressions and unknown functions', () => {
    assert.throws(() => metricNames('sum(rate(x[5m])'), /unbalanced/);
    assert.throws(() => metricNames('x{a="b"'), /unclosed label matcher/);
    assert.throws(() => metricNames('ratee(x[5m])'), /unknown function ratee/);
    assert.throws(() => metricNames('x{a="b}'), /unterminated string|unclosed/);
  });
});

describe('deploy/grafana', () => {
  test('every expression names only metrics docktail exports', async () => {
    const exported = await exportedNames();
    // The registry itself holds what the dashboard is meant to show.
    for (const name of ['docktail_read_entries_total', 'docktail_batch_latency_seconds_bucket']) {
      assert.ok(exported.has(name), name);
    }
    const exprs = expressions();
    assert.ok(exprs.length >= 30, `expected many expressions, found ${exprs.length}`);
    const unknown: string[] = [];
    for (const { where, names } of exprs) {
      assert.ok(names.length > 0, `${where} selects no metric`);
      for (const n of names) if (!exported.has(n)) unknown.push(`${where}: ${n}`);
    }
    assert.deepEqual(unknown, [], 'metric names docktail does not export');
  });

  test('the dashboard covers what it promises', () => {
    const used = new Set(expressions().flatMap(e => e.names));
    for (const name of [
      'docktail_read_entries_total', // lines/s by container
      'docktail_dropped_entries_total', // drops by reason
      'docktail_push_retries_total', // retries
      'docktail_cursor_lag_seconds', // cursor lag
      'docktail_batch_latency_seconds_bucket', // batch latency
      'docktail_pending_bytes', // pending bytes
      'docktail_targets', // targets by state
    ]) {
      assert.ok(used.has(name), `${name} is shown`);
    }
  });

  test('the dashboard has a valid shape: datasource variable, panels with targets on the grid', () => {
    assert.equal(typeof dashboard.uid, 'string');
    assert.equal(typeof dashboard.title, 'string');
    assert.equal(typeof dashboard.schemaVersion, 'number');
    assert.ok(Array.isArray(dashboard.panels) && dashboard.panels.length > 0);

    const ds = variables.find(v => v.type === 'datasource');
    assert.ok(ds, 'a datasource variable');
    assert.equal(ds.query, 'prometheus');
    const dsRef = `\${${ds.name}}`;

    const ids = new Set<number>();
    const cells = new Set<string>();
    for (const p of allPanels(dashboard.panels)) {
      assert.equal(typeof p.id, 'number', `panel "${p.title}" has an id`);
      assert.ok(!ids.has(p.id!), `panel id ${p.id} is unique`);
      ids.add(p.id!);
      assert.ok(p.title, `panel ${p.id} has a title`);
      const g = p.gridPos;
      assert.ok(g, `panel "${p.title}" has a gridPos`);
      assert.ok(
        g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.y >= 0 && g.h > 0,
        `"${p.title}" fits 24 columns`,
      );
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          assert.ok(!cells.has(`${x},${y}`), `"${p.title}" overlaps another panel at ${x},${y}`);
          cells.add(`${x},${y}`);
        }
      }
      if (p.type === 'row') continue;
      assert.ok(['timeseries', 'stat', 'gauge', 'table', 'bargauge'].includes(p.type ?? ''), `${p.type}`);
      assert.equal(p.datasource?.uid, dsRef, `"${p.title}" uses the datasource variable`);
      assert.ok(p.targets && p.targets.length > 0, `"${p.title}" has targets`);
      const refIds = p.targets.map(t => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `"${p.title}" refIds are unique`);
      for (const t of p.targets) {
        assert.ok(t.expr && t.expr.trim() !== '', `"${p.title}" ${t.refId} has an expression`);
        assert.equal(t.datasource?.uid, dsRef);
      }
    }
  });

  test('alert rules are complete', () => {
    assert.ok(alertRules.length > 0);
    const names = alertRules.map(r => r.alert);
    assert.equal(new Set(names).size, names.length, 'alert names are unique');
    for (const r of alertRules) {
      assert.match(r.alert ?? '', /^Docktail[A-Z]\w+$/);
      assert.ok(r.expr && r.expr.trim() !== '', `${r.alert} has an expression`);
      if (r.for !== undefined) assert.match(r.for, /^(\d+[smhd])+$/, `${r.alert} for`);
      assert.ok(['critical', 'warning', 'info'].includes(r.labels?.severity ?? ''), `${r.alert} severity`);
      assert.ok(r.annotations?.summary, `${r.alert} summary`);
      assert.ok(r.annotations?.description, `${r.alert} description`);
    }
    // The conditions the brief names each have a rule.
    const byMetric = (m: string) => alertRules.filter(r => metricNames(r.expr ?? '').includes(m));
    assert.ok(byMetric('docktail_sent_entries_total').length > 0, 'shipping stalled / client failing');
    assert.ok(byMetric('docktail_dropped_entries_total').length > 0, 'drops');
    assert.ok(
      alertRules.some(r => /reason="network"/.test(r.expr ?? '')),
      'Loki unreachable (no HTTP answer)',
    );
    assert.ok(byMetric('docktail_positions_write_errors_total').length > 0, 'positions not writable');
  });
});
