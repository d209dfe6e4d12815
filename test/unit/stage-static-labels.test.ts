import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, StageContext, StageIssue } from '../../src/pipeline/stage.js';
import { createStaticLabelsStage } from '../../src/pipeline/stages/static-labels.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(labels: Record<string, string>): PipelineEntry {
  return {
    labels: { ...labels },
    extracted: {},
    line: 'l',
    sec: 0,
    nsec: 0,
    metadata: undefined,
    tenant: undefined,
  };
}

describe('static_labels stage', () => {
  const cases: {
    name: string;
    config: unknown;
    labels: Record<string, string>;
    want: Record<string, string>;
    tenant?: string;
  }[] = [
    // Promtail static_labels_test.go: Test_staticLabelStage_Process
    {
      name: 'add static label',
      config: { staticLabel: 'val' },
      labels: { testLabel: 'testValue' },
      want: { testLabel: 'testValue', staticLabel: 'val' },
    },
    {
      name: 'add static label with empty value',
      config: { staticLabel: null },
      labels: { testLabel: 'testValue' },
      want: { testLabel: 'testValue' },
    },
    // Promtail docs example
    {
      name: 'docs example: custom_key',
      config: { custom_key: 'custom_val' },
      labels: {},
      want: { custom_key: 'custom_val' },
    },
    {
      name: 'an empty string sets nothing and keeps the old value',
      config: { env: '' },
      labels: { env: 'old' },
      want: { env: 'old' },
    },
    {
      name: 'overwrites an existing label',
      config: { env: 'prod' },
      labels: { env: 'dev' },
      want: { env: 'prod' },
    },
    {
      name: '__tenant_id__ sets the tenant',
      config: { __tenant_id__: 'team-a', a: 'b' },
      labels: {},
      want: { a: 'b' },
      tenant: 'team-a',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = createStaticLabelsStage(c.config, ctx);
      assert.deepEqual(r.issues, []);
      const e = entry(c.labels);
      assert.equal(r.stage!.process(e), 'keep');
      assert.deepEqual(e.labels, c.want);
      assert.equal(e.tenant, c.tenant);
      assert.equal(r.stage!.name, 'static_labels');
    });
  }

  const invalid: { name: string; config: unknown; issues: StageIssue[] }[] = [
    {
      name: 'missing config',
      config: null,
      issues: [
        { path: [], message: 'static_labels stage config cannot be empty: give label names and values' },
      ],
    },
    {
      name: 'a list',
      config: ['a'],
      issues: [
        {
          path: [],
          message: 'Expected the stage config to be a mapping of label names to values, got `["a"]` (array)',
        },
      ],
    },
    {
      name: 'names Loki refuses, and values that are not strings',
      config: { 'app.kubernetes.io/name': 'x', port: 8080, debug: true, ok: 'fine' },
      issues: [
        {
          path: ['app.kubernetes.io/name'],
          message:
            'invalid label name: app.kubernetes.io/name (letters, digits and _, not starting with a digit)',
        },
        { path: ['port'], message: 'Expected `port` to be a string (quote it), got `8080` (number)' },
        { path: ['debug'], message: 'Expected `debug` to be a string (quote it), got `true` (boolean)' },
      ],
    },
    {
      name: 'a value that is not valid UTF-8',
      config: { a: 'x\udc00' },
      issues: [{ path: ['a'], message: 'invalid label value for a: not valid UTF-8' }],
    },
  ];
  for (const c of invalid) {
    it(`refuses: ${c.name}`, () => {
      const r = createStaticLabelsStage(c.config, ctx);
      assert.equal(r.stage, undefined);
      assert.deepEqual(r.issues, c.issues);
    });
  }
});
