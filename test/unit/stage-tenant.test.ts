import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, StageContext, StageIssue } from '../../src/pipeline/stage.js';
import { createTenantStage } from '../../src/pipeline/stages/tenant.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

const REQUIRED = 'label, source or value config are required: set one of them';

describe('tenant stage', () => {
  // Promtail tenant_test.go: TestTenantStage_Process ("foo" as a prior tenant stands for
  // Promtail's __tenant_id__ label set before the stage).
  const cases: {
    name: string;
    config: Record<string, unknown>;
    labels?: Record<string, string>;
    extracted?: Record<string, unknown>;
    before?: string;
    want: string | undefined;
  }[] = [
    { name: 'source not in the extracted map: not set', config: { source: 'tenant_id' }, want: undefined },
    {
      name: 'source not in the extracted map: not overridden',
      config: { source: 'tenant_id' },
      before: 'foo',
      want: 'foo',
    },
    {
      name: 'set from the extracted map',
      config: { source: 'tenant_id' },
      extracted: { tenant_id: 'bar' },
      want: 'bar',
    },
    { name: 'set from a label', config: { label: 'tenant_id' }, labels: { tenant_id: 'bar' }, want: 'bar' },
    {
      name: 'overridden from the extracted map',
      config: { source: 'tenant_id' },
      extracted: { tenant_id: 'bar' },
      before: 'foo',
      want: 'bar',
    },
    {
      name: "a value that can't be converted to a string: not set",
      config: { source: 'tenant_id' },
      extracted: { tenant_id: ['bar'] },
      want: undefined,
    },
    { name: 'the configured static value', config: { value: 'bar' }, want: 'bar' },
    { name: 'the static value overrides', config: { value: 'bar' }, before: 'foo', want: 'bar' },
    // TestPipelineWithMissingKey_Tenant: a JSON null is not converted.
    {
      name: 'a null extracted value: not set',
      config: { source: 'customer_id' },
      extracted: { customer_id: null },
      want: undefined,
    },
    // docktail's own cases
    {
      name: 'a number is written as Go writes it',
      config: { source: 'org' },
      extracted: { org: 42 },
      want: '42',
    },
    {
      name: 'an empty extracted value: not overridden',
      config: { source: 'org' },
      extracted: { org: '' },
      before: 'foo',
      want: 'foo',
    },
    { name: 'a missing label: not overridden', config: { label: 'ns' }, before: 'foo', want: 'foo' },
    { name: 'the label stays a label', config: { label: 'ns' }, labels: { ns: 'prod' }, want: 'prod' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = createTenantStage(c.config, ctx);
      assert.deepEqual(r.issues, []);
      const e: PipelineEntry = {
        labels: { ...c.labels },
        extracted: c.extracted ?? {},
        line: 'hello world',
        sec: 1,
        nsec: 1,
        metadata: undefined,
        tenant: c.before,
      };
      assert.equal(r.stage!.process(e), 'keep');
      assert.equal(e.tenant, c.want);
      assert.equal(e.line, 'hello world');
      assert.equal(e.sec, 1);
      assert.equal(e.nsec, 1);
      assert.deepEqual(e.labels, { ...c.labels });
    });
  }

  // Promtail tenant_test.go: TestTenantStage_Validation
  const exclusive = (found: string) =>
    `label, source and value are mutually exclusive: set only one (found ${found})`;
  const invalid: { name: string; config: unknown; issues: StageIssue[] }[] = [
    { name: 'missing source and value', config: {}, issues: [{ path: [], message: REQUIRED }] },
    { name: 'no config at all', config: null, issues: [{ path: [], message: REQUIRED }] },
    { name: 'empty source', config: { source: '' }, issues: [{ path: [], message: REQUIRED }] },
    { name: 'empty value', config: { value: '' }, issues: [{ path: [], message: REQUIRED }] },
    { name: 'empty label', config: { label: '' }, issues: [{ path: [], message: REQUIRED }] },
    {
      name: 'source and value',
      config: { source: 'tenant', value: 'team-a' },
      issues: [{ path: ['value'], message: exclusive('`source`, `value`') }],
    },
    {
      name: 'source and label',
      config: { source: 'tenant', label: 'team-a' },
      issues: [{ path: ['label'], message: exclusive('`source`, `label`') }],
    },
    {
      name: 'label and value',
      config: { label: 'tenant', value: 'team-a' },
      issues: [{ path: ['value'], message: exclusive('`label`, `value`') }],
    },
    {
      name: 'all three',
      config: { label: 'tenant', source: 'tenant', value: 'team-a' },
      issues: [{ path: ['label'], message: exclusive('`source`, `label`, `value`') }],
    },
    {
      name: 'a number (Promtail decodes strictly)',
      config: { value: 42 },
      issues: [{ path: ['value'], message: 'Expected `value` to be a string (quote it), got `42` (number)' }],
    },
    {
      name: 'a misspelt key',
      config: { sorce: 'x' },
      issues: [{ path: ['sorce'], message: 'Unknown key `sorce` (did you mean `source`?)' }],
    },
    {
      name: 'a list',
      config: ['x'],
      issues: [{ path: [], message: 'Expected the stage config to be a mapping, got `["x"]` (array)' }],
    },
  ];
  for (const c of invalid) {
    it(`refuses: ${c.name}`, () => {
      const r = createTenantStage(c.config, ctx);
      assert.equal(r.stage, undefined);
      assert.deepEqual(r.issues, c.issues);
    });
  }
});
