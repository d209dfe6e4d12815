import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, StageContext } from '../../src/pipeline/stage.js';
import { createLabelAllowStage } from '../../src/pipeline/stages/labelallow.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(labels: Record<string, string>, tenant?: string): PipelineEntry {
  return { labels: { ...labels }, extracted: {}, line: '', sec: 0, nsec: 0, metadata: undefined, tenant };
}

describe('labelallow stage', () => {
  // Promtail labelallow_test.go: Test_addLabelStage_Process
  const cases: {
    name: string;
    config: unknown;
    labels: Record<string, string>;
    want: Record<string, string>;
  }[] = [
    {
      name: 'allow single label',
      config: ['testLabel1'],
      labels: { testLabel1: 'testValue', testLabel2: 'testValue' },
      want: { testLabel1: 'testValue' },
    },
    {
      name: 'allow multiple labels',
      config: ['testLabel1', 'testLabel2'],
      labels: { testLabel1: 'testValue', testLabel2: 'testValue', testLabel3: 'testValue' },
      want: { testLabel1: 'testValue', testLabel2: 'testValue' },
    },
    {
      name: 'allow non-existing label',
      config: ['foobar'],
      labels: { testLabel1: 'testValue', testLabel2: 'testValue' },
      want: {},
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = createLabelAllowStage(c.config, ctx);
      assert.deepEqual(r.issues, []);
      const e = entry(c.labels);
      assert.equal(r.stage!.process(e), 'keep');
      assert.deepEqual(e.labels, c.want);
    });
  }

  it('clears the tenant unless __tenant_id__ is allowed, as Promtail does', () => {
    const without = createLabelAllowStage(['app'], ctx).stage!;
    const e1 = entry({ app: 'x', pod: 'y' }, 'team-a');
    without.process(e1);
    assert.deepEqual(e1.labels, { app: 'x' });
    assert.equal(e1.tenant, undefined);

    const withTenant = createLabelAllowStage(['app', '__tenant_id__'], ctx).stage!;
    const e2 = entry({ app: 'x', pod: 'y' }, 'team-a');
    withTenant.process(e2);
    assert.deepEqual(e2.labels, { app: 'x' });
    assert.equal(e2.tenant, 'team-a');
  });

  it('refuses an empty or missing list (Promtail: labelallow stage config cannot be empty)', () => {
    for (const config of [null, []]) {
      const r = createLabelAllowStage(config, ctx);
      assert.equal(r.stage, undefined);
      assert.deepEqual(r.issues, [
        { path: [], message: 'labelallow stage config cannot be empty: list at least one label name' },
      ]);
    }
  });

  it('refuses a mapping', () => {
    const r = createLabelAllowStage({ app: null }, ctx);
    assert.deepEqual(r.issues, [
      {
        path: [],
        message: 'Expected the stage config to be a list of label names, got `{"app":null}` (object)',
      },
    ]);
  });
});
