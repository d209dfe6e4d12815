import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { PipelineSink } from '../../src/pipeline/pipeline.js';
import type { PipelineNode } from '../../src/pipeline/registry.js';
import { metricFloat, metricString } from '../../src/pipeline/stages/metrics.js';
import { compile, issuesOf, logEntry, RecordingSink, stageContext } from '../harness/pipeline.js';

/** Extracts `k=v` pairs of the line (what a regex or logfmt stage would do). */
const kv: PipelineNode = {
  kind: 'stage',
  stage: {
    name: 'kv',
    process: e => {
      for (const m of e.line.matchAll(/(\w+)=(\S+)/g)) e.extracted[m[1]!] = m[2]!;
      return 'keep';
    },
  },
};

/** Runs lines (with labels) through kv + the metrics stage; returns the exposition of its metrics. */
async function exposition(
  metricsConfig: Record<string, unknown>,
  lines: [Record<string, string>, string][],
  metrics = new Metrics(),
): Promise<string[]> {
  const nodes = compile([{ metrics: metricsConfig }], stageContext(metrics));
  const sink = new PipelineSink([kv, ...nodes], new RecordingSink(), { metrics, logger: silentLogger });
  for (const [labels, line] of lines) sink.push(logEntry(labels, line));
  const text = await metrics.registry.metrics();
  return text
    .split('\n')
    .filter(l => /^(promtail_custom_|my_)/.test(l) || /^# (HELP|TYPE) (promtail|my)_/.test(l));
}

describe('metrics stage (Promtail docs examples)', () => {
  it('counters with match_all: lines and bytes, with a custom prefix', async () => {
    const got = await exposition(
      {
        log_lines_total: {
          type: 'Counter',
          description: 'total number of log lines',
          prefix: 'my_promtail_custom_',
          max_idle_duration: '24h',
          config: { match_all: true, action: 'inc' },
        },
        log_bytes_total: {
          type: 'Counter',
          description: 'total bytes of log lines',
          prefix: 'my_promtail_custom_',
          max_idle_duration: '24h',
          config: { match_all: true, count_entry_bytes: true, action: 'add' },
        },
      },
      [
        [{ app: 'a' }, 'hello'],
        [{ app: 'a' }, 'héllo'],
        [{ app: 'b' }, 'x'],
      ],
    );
    assert.deepEqual(got, [
      '# HELP my_promtail_custom_log_lines_total total number of log lines',
      '# TYPE my_promtail_custom_log_lines_total counter',
      'my_promtail_custom_log_lines_total{app="a"} 2',
      'my_promtail_custom_log_lines_total{app="b"} 1',
      '# HELP my_promtail_custom_log_bytes_total total bytes of log lines',
      '# TYPE my_promtail_custom_log_bytes_total counter',
      'my_promtail_custom_log_bytes_total{app="a"} 11',
      'my_promtail_custom_log_bytes_total{app="b"} 1',
    ]);
  });

  it('a counter fed by a regex stage (the docs example)', async () => {
    const metrics = new Metrics();
    const nodes = compile(
      [
        { regex: { expression: '^.*(?P<order_success>order successful).*$' } },
        {
          metrics: {
            successful_orders_total: {
              type: 'Counter',
              description: 'log lines with the message `order successful`',
              source: 'order_success',
              config: { action: 'inc' },
            },
          },
        },
      ],
      stageContext(metrics),
    );
    const sink = new PipelineSink(nodes, new RecordingSink(), { metrics, logger: silentLogger });
    for (const line of ['order successful id=1', 'order failed id=2', 'yes: order successful']) {
      sink.push(logEntry({ app: 'shop' }, line));
    }
    const text = await metrics.registry.metrics();
    assert.match(
      text,
      /# HELP promtail_custom_successful_orders_total log lines with the message `order successful`/,
    );
    assert.match(text, /\npromtail_custom_successful_orders_total\{app="shop"\} 2\n/);
  });

  it('counters by source and value (order_status=success / fail)', async () => {
    const got = await exposition(
      {
        successful_orders_total: {
          type: 'Counter',
          description: 'successful orders',
          source: 'order_status',
          config: { value: 'success', action: 'inc' },
        },
        failed_orders_total: {
          type: 'Counter',
          description: 'failed orders',
          source: 'order_status',
          config: { value: 'fail', action: 'inc' },
        },
      },
      [
        [{ app: 'shop' }, 'order_status=success id=1'],
        [{ app: 'shop' }, 'order_status=fail id=2'],
        [{ app: 'shop' }, 'order_status=success id=3'],
        [{ app: 'shop' }, 'no status here'],
      ],
    );
    assert.deepEqual(
      got.filter(l => !l.startsWith('#')),
      [
        'promtail_custom_successful_orders_total{app="shop"} 2',
        'promtail_custom_failed_orders_total{app="shop"} 1',
      ],
    );
  });

  it('a counter without value counts entries whose source is present; add adds its value', async () => {
    const got = await exposition(
      {
        order_success: { type: 'counter', description: 'x', config: { action: 'inc' } },
        bytes_sent: { type: 'counter', description: 'y', source: 'size', config: { action: 'add' } },
      },
      [
        [{ app: 'a' }, 'order_success=yes size=100'],
        [{ app: 'a' }, 'size=50'],
        [{ app: 'a' }, 'size=-5'], // a counter never goes down: skipped
        [{ app: 'a' }, 'size=abc'], // not a number: skipped
        [{ app: 'a' }, 'size=1.5ms'], // a duration counts in seconds
      ],
    );
    assert.deepEqual(
      got.filter(l => !l.startsWith('#')),
      ['promtail_custom_order_success{app="a"} 1', 'promtail_custom_bytes_sent{app="a"} 150.0015'],
    );
  });

  it('gauges: set, inc, dec, add, sub', async () => {
    const config = (action: string) => ({
      type: 'Gauge',
      description: action,
      source: 'v',
      config: { action },
    });
    const got = await exposition(
      {
        g_set: config('set'),
        g_inc: config('inc'),
        g_dec: config('dec'),
        g_add: config('add'),
        g_sub: config('sub'),
      },
      [
        [{ app: 'a' }, 'v=5'],
        [{ app: 'a' }, 'v=2'],
      ],
    );
    assert.deepEqual(
      got.filter(l => !l.startsWith('#')),
      [
        'promtail_custom_g_set{app="a"} 2',
        'promtail_custom_g_inc{app="a"} 2',
        'promtail_custom_g_dec{app="a"} -2',
        'promtail_custom_g_add{app="a"} 7',
        'promtail_custom_g_sub{app="a"} -7',
      ],
    );
  });

  it('histograms: observations in the given buckets', async () => {
    const got = await exposition(
      {
        http_response_time_seconds: {
          type: 'Histogram',
          description: 'response time',
          source: 'response_time',
          config: { buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05] },
        },
      },
      [
        [{ app: 'web' }, 'response_time=0.002'],
        [{ app: 'web' }, 'response_time=0.02'],
        [{ app: 'web' }, 'response_time=1'],
        [{ app: 'web' }, 'response_time=30ms'],
      ],
    );
    assert.deepEqual(got.slice(1), [
      '# TYPE promtail_custom_http_response_time_seconds histogram',
      'promtail_custom_http_response_time_seconds_bucket{app="web",le="0.001"} 0',
      'promtail_custom_http_response_time_seconds_bucket{app="web",le="0.0025"} 1',
      'promtail_custom_http_response_time_seconds_bucket{app="web",le="0.005"} 1',
      'promtail_custom_http_response_time_seconds_bucket{app="web",le="0.01"} 1',
      'promtail_custom_http_response_time_seconds_bucket{app="web",le="0.025"} 2',
      'promtail_custom_http_response_time_seconds_bucket{app="web",le="0.05"} 3',
      'promtail_custom_http_response_time_seconds_bucket{app="web",le="+Inf"} 4',
      'promtail_custom_http_response_time_seconds_sum{app="web"} 1.052',
      'promtail_custom_http_response_time_seconds_count{app="web"} 4',
    ]);
  });

  it('histograms default to Prometheus buckets', async () => {
    const got = await exposition({ h: { type: 'histogram', source: 'v', config: {} } }, [
      [{ app: 'a' }, 'v=3'],
    ]);
    assert.equal(got.filter(l => l.includes('_bucket')).length, 12);
  });

  it('series idle for max_idle_duration disappear at the next scrape', async () => {
    const metrics = new Metrics();
    const config = {
      lines: {
        type: 'Counter',
        description: 'l',
        max_idle_duration: '1s',
        config: { match_all: true, action: 'inc' },
      },
    };
    const nodes = compile([{ metrics: config }], stageContext(metrics));
    const sink = new PipelineSink(nodes, new RecordingSink(), { metrics, logger: silentLogger });
    sink.push(logEntry({ app: 'old' }, 'x'));
    await new Promise(r => setTimeout(r, 600));
    sink.push(logEntry({ app: 'new' }, 'x'));
    await new Promise(r => setTimeout(r, 500));
    const text = await metrics.registry.metrics();
    assert.doesNotMatch(text, /promtail_custom_lines\{app="old"\}/);
    assert.match(text, /promtail_custom_lines\{app="new"\} 1/);
  });

  it('two stages (two jobs) defining the same metric share it; another kind of metric is refused', async () => {
    const metrics = new Metrics();
    const ctx = stageContext(metrics);
    const counter = { shared_total: { type: 'Counter', config: { match_all: true, action: 'inc' } } };
    compile([{ metrics: counter }], ctx);
    assert.deepEqual(issuesOf([{ metrics: counter }], ctx), []);
    assert.deepEqual(
      issuesOf([{ metrics: { shared_total: { type: 'Gauge', config: { action: 'inc' } } } }], ctx),
      [
        '[0].metrics.shared_total: metric `promtail_custom_shared_total` is already defined as a counter by another metrics stage',
      ],
    );
    assert.deepEqual(
      issuesOf(
        [
          {
            metrics: {
              read_entries_total: { type: 'Counter', prefix: 'docktail_', config: { action: 'inc' } },
            },
          },
        ],
        ctx,
      ),
      [
        "[0].metrics.read_entries_total: metric `docktail_read_entries_total` is one of docktail's own metrics; pick another name",
      ],
    );
  });

  it('the entry is never changed', async () => {
    const metrics = new Metrics();
    const nodes = compile(
      [{ metrics: { c: { type: 'counter', config: { match_all: true, action: 'inc' } } } }],
      stageContext(metrics),
    );
    const out = new RecordingSink();
    const sink = new PipelineSink(nodes, out, { metrics, logger: silentLogger });
    const e = logEntry({ app: 'a' }, 'line');
    const stream = e.stream;
    sink.push(e);
    assert.deepEqual([out.entries[0]!.line, out.entries[0]!.stream], ['line', stream]);
  });
});

describe('metrics stage: values', () => {
  const floats: [unknown, number | undefined][] = [
    ['0.804', 0.804],
    ['1e3', 1000],
    ['-2', -2],
    ['+Inf', Infinity],
    ['0.5ms', 0.0005],
    ['10h', 36000],
    ['', undefined],
    [' 1', undefined],
    ['abc', undefined],
    [3, 3],
    [true, 1],
    [null, undefined],
    [{ a: 1 }, undefined],
  ];
  for (const [input, want] of floats) {
    it(`float of ${JSON.stringify(input)} is ${want}`, () => assert.equal(metricFloat(input), want));
  }
  const strings: [unknown, string | undefined][] = [
    ['fail', 'fail'],
    [200, '200'],
    [0.5, '0.5'],
    [1e21, '1000000000000000000000'],
    [1e-7, '0.0000001'],
    [false, 'false'],
    [null, undefined],
  ];
  for (const [input, want] of strings) {
    it(`string of ${JSON.stringify(input)} is ${want}`, () => assert.equal(metricString(input), want));
  }
});

describe('metrics stage: configuration', () => {
  const table: [string, unknown, string[]][] = [
    ['empty', null, ['[0].metrics: empty metric stage configuration']],
    [
      'a bad type',
      { m: { type: 'Summary', config: {} } },
      [
        '[0].metrics.m.type: invalid metric type `summary`, metric type must be one of counter, gauge or histogram',
      ],
    ],
    [
      'a counter without action',
      { m: { type: 'Counter', config: {} } },
      ['[0].metrics.m.config.action: Missing `action`'],
    ],
    [
      'a gauge with a counter action',
      { m: { type: 'Gauge', config: { action: 'observe' } } },
      ['[0].metrics.m.config.action: action `observe` is not valid for a gauge'],
    ],
    [
      'match_all with value',
      { m: { type: 'Counter', config: { match_all: true, value: 'x', action: 'inc' } } },
      ['[0].metrics.m.config.match_all: `match_all: true` cannot be combined with `value`'],
    ],
    [
      'count_entry_bytes without match_all, with inc',
      { m: { type: 'Counter', config: { count_entry_bytes: true, action: 'inc' } } },
      [
        '[0].metrics.m.config.count_entry_bytes: `count_entry_bytes: true` can only be set with `match_all: true`',
        '[0].metrics.m.config.count_entry_bytes: `count_entry_bytes: true` can only be used with `action: add`',
      ],
    ],
    [
      'max_idle_duration under 1s',
      { m: { type: 'Counter', max_idle_duration: '500ms', config: { action: 'inc' } } },
      ['[0].metrics.m.max_idle_duration: max_idle_duration less than 1s not allowed'],
    ],
    [
      'max_idle_duration not a duration',
      { m: { type: 'Counter', max_idle_duration: 'forever', config: { action: 'inc' } } },
      ['[0].metrics.m.max_idle_duration: Expected `max_idle_duration` to be a duration'],
    ],
    [
      'unsorted buckets',
      { m: { type: 'Histogram', config: { buckets: [1, 0.5] } } },
      ['[0].metrics.m.config.buckets: histogram buckets must be in increasing order'],
    ],
    [
      'an invalid metric name',
      { 'bad-name': { type: 'Counter', config: { action: 'inc' } } },
      ['[0].metrics.bad-name: `promtail_custom_bad-name` is not a valid metric name'],
    ],
    [
      'an unknown key',
      { m: { type: 'Counter', descripton: 'x', config: { action: 'inc' } } },
      ['[0].metrics.m.descripton: Unknown key `descripton` (did you mean `description`?)'],
    ],
  ];
  for (const [name, config, want] of table) {
    it(name, () => {
      const got = issuesOf([{ metrics: config }]);
      assert.equal(got.length, want.length, got.join('\n'));
      for (const [i, w] of want.entries())
        assert.ok(got[i]!.startsWith(w), `${got[i]}\nshould start with\n${w}`);
    });
  }
});
