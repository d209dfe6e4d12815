import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, StageContext, StageIssue } from '../../src/pipeline/stage.js';
import { goFormatFloat } from '../../src/pipeline/stages/config-values.js';
import { createLabelsStage } from '../../src/pipeline/stages/labels.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(extracted: Record<string, unknown>, labels: Record<string, string> = {}): PipelineEntry {
  return {
    labels: { ...labels },
    extracted,
    line: 'line',
    sec: 1,
    nsec: 1,
    metadata: undefined,
    tenant: undefined,
  };
}

function compile(config: unknown) {
  const r = createLabelsStage(config, ctx);
  assert.deepEqual(r.issues, []);
  assert.ok(r.stage);
  return r.stage;
}

describe('labels stage', () => {
  const cases: {
    name: string;
    config: unknown;
    extracted: Record<string, unknown>;
    labels?: Record<string, string>;
    want: Record<string, string>;
    tenant?: string;
  }[] = [
    // Promtail labels_test.go: TestLabelsPipeline_Labels (json level + app_rename → labels).
    {
      name: 'docs example: level from level, app from app_rename',
      config: { level: null, app: 'app_rename' },
      extracted: { level: 'WARN', app_rename: 'loki' },
      want: { level: 'WARN', app: 'loki' },
    },
    // TestLabelStage_Process
    {
      name: 'extract_success',
      config: { testLabel: null },
      extracted: { testLabel: 'testValue' },
      want: { testLabel: 'testValue' },
    },
    {
      name: 'different_source_name',
      config: { testLabel: 'diff_source' },
      extracted: { diff_source: 'testValue' },
      want: { testLabel: 'testValue' },
    },
    { name: 'empty_extracted_data', config: { testLabel: 'diff_source' }, extracted: {}, want: {} },
    // TestLabels "label value is set from name": nil and "" both mean the label's own name.
    {
      name: 'empty source means the same name',
      config: { l1: 'lv1', l2: null, l3: '' },
      extracted: { lv1: 'a', l2: 'b', l3: 'c' },
      want: { l1: 'a', l2: 'b', l3: 'c' },
    },
    // TestLabelsPipelineWithMissingKey_Labels: a JSON null cannot be converted, nothing is set.
    { name: 'null value sets nothing', config: { level: null }, extracted: { level: null }, want: {} },
    {
      name: 'lists and maps set nothing and leave the old value',
      config: { a: null, b: null },
      extracted: { a: ['x'], b: { k: 1 } },
      labels: { a: 'old' },
      want: { a: 'old' },
    },
    {
      name: 'numbers are written as Go writes float64, booleans as true/false',
      config: { n: null, f: null, big: null, tiny: null, t: null, neg: null },
      extracted: { n: 200, f: 1.5, big: 1e21, tiny: 1e-7, t: true, neg: -2.5e-3 },
      want: {
        n: '200',
        f: '1.5',
        big: '1000000000000000000000',
        tiny: '0.0000001',
        t: 'true',
        neg: '-0.0025',
      },
    },
    {
      name: 'an empty value removes the label (Loki trims empty values)',
      config: { level: null },
      extracted: { level: '' },
      labels: { level: 'info', other: 'x' },
      want: { other: 'x' },
    },
    {
      name: 'an extracted value overwrites an existing label',
      config: { level: null },
      extracted: { level: 'error' },
      labels: { level: 'info' },
      want: { level: 'error' },
    },
    {
      name: '__tenant_id__ sets the tenant, not a label',
      config: { __tenant_id__: 'customer' },
      extracted: { customer: 'team-a' },
      want: {},
      tenant: 'team-a',
    },
    {
      name: 'a lone surrogate becomes U+FFFD',
      config: { v: null },
      extracted: { v: 'a\ud800b' },
      want: { v: 'a\ufffdb' },
    },
    {
      name: 'an empty mapping does nothing',
      config: {},
      extracted: { a: 'b' },
      labels: { x: 'y' },
      want: { x: 'y' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const stage = compile(c.config);
      const e = entry(c.extracted, c.labels);
      assert.equal(stage.process(e), 'keep');
      assert.deepEqual(e.labels, c.want);
      assert.equal(e.tenant, c.tenant);
      assert.equal(e.line, 'line');
      assert.equal(e.metadata, undefined);
    });
  }

  it('is named labels and has no drop reason', () => {
    const stage = compile({ a: null });
    assert.equal(stage.name, 'labels');
    assert.equal(stage.dropReason, undefined);
  });

  const invalid: { name: string; config: unknown; issues: StageIssue[] }[] = [
    {
      name: 'missing config (Promtail: label stage config cannot be empty)',
      config: null,
      issues: [
        {
          path: [],
          message:
            'The labels stage needs a mapping of names to extracted keys (like `level:` or `app: app_name`)',
        },
      ],
    },
    {
      name: 'invalid label name (Promtail vector #*FDDS*)',
      config: { '#*FDDS*': null },
      issues: [
        {
          path: ['#*FDDS*'],
          message: 'invalid label name: #*FDDS* (letters, digits and _, not starting with a digit)',
        },
      ],
    },
    {
      name: 'every mistake at once',
      config: { '1abc': null, 'a.b': 'x', ok: 5 },
      issues: [
        {
          path: ['1abc'],
          message: 'invalid label name: 1abc (letters, digits and _, not starting with a digit)',
        },
        {
          path: ['a.b'],
          message: 'invalid label name: a.b (letters, digits and _, not starting with a digit)',
        },
        {
          path: ['ok'],
          message: 'Expected `ok` to be an extracted key (a string) or empty, got `5` (number)',
        },
      ],
    },
    {
      name: 'a list instead of a mapping',
      config: ['level'],
      issues: [
        {
          path: [],
          message:
            'Expected the stage config to be a mapping of names to extracted keys, got `["level"]` (array)',
        },
      ],
    },
  ];
  for (const c of invalid) {
    it(`refuses: ${c.name}`, () => {
      const r = createLabelsStage(c.config, ctx);
      assert.equal(r.stage, undefined);
      assert.deepEqual(r.issues, c.issues);
    });
  }
});

describe('goFormatFloat (strconv.FormatFloat(v, f, -1, 64))', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [0.1, '0.1'],
    [123456789.125, '123456789.125'],
    [1e21, '1000000000000000000000'],
    [1.5e22, '15000000000000000000000'],
    [1e-7, '0.0000001'],
    [1.25e-10, '0.000000000125'],
    [-3e25, '-30000000000000000000000000'],
    [Number.POSITIVE_INFINITY, '+Inf'],
    [Number.NaN, 'NaN'],
  ];
  for (const [v, want] of cases) {
    it(`${v} → ${want}`, () => assert.equal(goFormatFloat(v), want));
  }
});
