import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, StageContext, StageIssue } from '../../src/pipeline/stage.js';
import { createLabelDropStage } from '../../src/pipeline/stages/labeldrop.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(labels: Record<string, string>, tenant?: string): PipelineEntry {
  return { labels: { ...labels }, extracted: {}, line: '', sec: 0, nsec: 0, metadata: undefined, tenant };
}

describe('labeldrop stage', () => {
  const both = { testLabel1: 'testValue', testLabel2: 'testValue' };
  // Promtail labeldrop_test.go: Test_dropLabelStage_Process
  const cases: {
    name: string;
    config: unknown;
    labels: Record<string, string>;
    want: Record<string, string>;
  }[] = [
    { name: 'drop one label', config: ['testLabel1'], labels: both, want: { testLabel2: 'testValue' } },
    { name: 'drop two labels', config: ['testLabel1', 'testLabel2'], labels: both, want: {} },
    { name: 'drop non-existing label', config: ['foobar'], labels: both, want: both },
    {
      name: 'names are not checked',
      config: ['not a label!'],
      labels: { 'not a label!': 'x', a: 'b' },
      want: { a: 'b' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = createLabelDropStage(c.config, ctx);
      assert.deepEqual(r.issues, []);
      const e = entry(c.labels, 'kept');
      assert.equal(r.stage!.process(e), 'keep');
      assert.deepEqual(e.labels, c.want);
      assert.equal(e.tenant, 'kept');
    });
  }

  it('dropping __tenant_id__ clears the tenant (Promtail keeps the tenant as that label)', () => {
    const r = createLabelDropStage(['__tenant_id__', 'a'], ctx);
    const e = entry({ a: '1', b: '2' }, 'team-a');
    r.stage!.process(e);
    assert.deepEqual(e.labels, { b: '2' });
    assert.equal(e.tenant, undefined);
  });

  const invalid: { name: string; config: unknown; issues: StageIssue[] }[] = [
    {
      name: 'null (Promtail: labeldrop stage config cannot be empty)',
      config: null,
      issues: [{ path: [], message: 'labeldrop stage config cannot be empty: list at least one label name' }],
    },
    {
      name: 'empty list',
      config: [],
      issues: [{ path: [], message: 'labeldrop stage config cannot be empty: list at least one label name' }],
    },
    {
      name: 'a single string',
      config: 'app',
      issues: [
        { path: [], message: 'Expected the stage config to be a list of label names, got `app` (string)' },
      ],
    },
    {
      name: 'non-string items, each reported',
      config: ['a', 5, { b: 1 }],
      issues: [
        { path: [1], message: 'Expected `[1]` to be a label name (a string), got `5` (number)' },
        { path: [2], message: 'Expected `[2]` to be a label name (a string), got `{"b":1}` (object)' },
      ],
    },
  ];
  for (const c of invalid) {
    it(`refuses: ${c.name}`, () => {
      const r = createLabelDropStage(c.config, ctx);
      assert.equal(r.stage, undefined);
      assert.deepEqual(r.issues, c.issues);
    });
  }
});
