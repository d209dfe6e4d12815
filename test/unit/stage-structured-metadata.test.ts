import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, Stage, StageContext, StageFactory } from '../../src/pipeline/stage.js';
import { createLabelsStage } from '../../src/pipeline/stages/labels.js';
import { createStaticLabelsStage } from '../../src/pipeline/stages/static-labels.js';
import {
  createNonIndexedLabelsStage,
  createStructuredMetadataStage,
} from '../../src/pipeline/stages/structured-metadata.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function stage(factory: StageFactory, config: unknown): Stage {
  const r = factory(config, ctx);
  assert.deepEqual(r.issues, []);
  return r.stage!;
}

function run(stages: Stage[], extracted: Record<string, unknown>, labels: Record<string, string> = {}) {
  const e: PipelineEntry = {
    labels: { ...labels },
    extracted,
    line: 'line',
    sec: 0,
    nsec: 0,
    metadata: undefined,
    tenant: undefined,
  };
  for (const s of stages) assert.equal(s.process(e), 'keep');
  return e;
}

const sm = (config: unknown) => stage(createStructuredMetadataStage, config);

describe('structured_metadata stage', () => {
  // Promtail structuredmetadata_test.go: Test_StructuredMetadataStage. The parsing stages before it
  // (logfmt, json, regex, template) are replaced by the extracted data they produce.
  const cases: {
    name: string;
    stages: () => Stage[];
    extracted: Record<string, unknown>;
    labels?: Record<string, string>;
    metadata: Record<string, string> | undefined;
    wantLabels: Record<string, string>;
  }[] = [
    {
      name: 'from logfmt-extracted data',
      stages: () => [sm({ app: null })],
      extracted: { app: 'loki', component: 'ingester' },
      metadata: { app: 'loki' },
      wantLabels: {},
    },
    {
      name: 'with the deprecated name non_indexed_labels',
      stages: () => [stage(createNonIndexedLabelsStage, { app: null })],
      extracted: { app: 'loki', component: 'ingester' },
      metadata: { app: 'loki' },
      wantLabels: {},
    },
    {
      name: 'from regex-extracted data',
      stages: () => [sm({ stream: null })],
      extracted: {
        time: '2019-01-01T01:00:00.000000001Z',
        stream: 'stderr',
        flags: 'P',
        content: "i'm a log message!",
      },
      metadata: { stream: 'stderr' },
      wantLabels: {},
    },
    {
      name: 'after a template stage (ToUpper)',
      stages: () => [sm({ app: null })],
      extracted: { app: 'LOKI' },
      metadata: { app: 'LOKI' },
      wantLabels: {},
    },
    {
      name: 'with regular labels from the same data',
      stages: () => [sm({ app: null }), stage(createLabelsStage, { component: null })],
      extracted: { app: 'loki', component: 'ingester' },
      metadata: { app: 'loki' },
      wantLabels: { component: 'ingester' },
    },
    {
      name: 'inside a match stage on {source="test"}',
      stages: () => [sm({ app: null })],
      extracted: { app: 'loki', component: 'ingester' },
      labels: { source: 'test' },
      metadata: { app: 'loki' },
      wantLabels: { source: 'test' },
    },
    {
      name: 'from a static label, which leaves the labels',
      stages: () => [
        stage(createStaticLabelsStage, { component: 'querier', pod: 'loki-querier-664f97db8d-qhnwg' }),
        sm({ pod: null }),
      ],
      extracted: {},
      metadata: { pod: 'loki-querier-664f97db8d-qhnwg' },
      wantLabels: { component: 'querier' },
    },
    {
      name: 'from a static label under another name',
      stages: () => [
        stage(createStaticLabelsStage, { component: 'querier', pod: 'loki-querier-664f97db8d-qhnwg' }),
        sm({ pod_name: 'pod' }),
      ],
      extracted: {},
      metadata: { pod_name: 'loki-querier-664f97db8d-qhnwg' },
      wantLabels: { component: 'querier' },
    },
    {
      name: 'from stream labels',
      stages: () => [sm({ pod: null })],
      extracted: { app: 'loki', component: 'ingester' },
      labels: { source: 'test', pod: 'ingester-0' },
      metadata: { pod: 'ingester-0' },
      wantLabels: { source: 'test' },
    },
    {
      name: 'extracted data first; a label with another value stays',
      stages: () => [sm({ pod_name: 'pod', source_name: 'source' })],
      extracted: { app: 'loki', pod: 'ingester' },
      labels: { source: 'test', pod: 'ingester-0' },
      metadata: { pod_name: 'ingester', source_name: 'test' },
      wantLabels: { pod: 'ingester-0' },
    },
    // docktail's own cases
    {
      name: 'a label equal to the extracted value is removed too',
      stages: () => [sm({ app: null })],
      extracted: { app: 'loki' },
      labels: { app: 'loki', x: 'y' },
      metadata: { app: 'loki' },
      wantLabels: { x: 'y' },
    },
    {
      name: 'nothing found: metadata stays undefined',
      stages: () => [sm({ trace_id: null })],
      extracted: { other: 'x' },
      labels: { a: 'b' },
      metadata: undefined,
      wantLabels: { a: 'b' },
    },
    {
      name: 'an empty value is not attached',
      stages: () => [sm({ trace_id: null })],
      extracted: { trace_id: '' },
      metadata: undefined,
      wantLabels: {},
    },
    {
      name: 'numbers converted; unconvertible values fall back to the label',
      stages: () => [sm({ status: null, obj: null })],
      extracted: { status: 404, obj: { a: 1 } },
      labels: { obj: 'from-label' },
      metadata: { status: '404', obj: 'from-label' },
      wantLabels: {},
    },
    {
      name: 'two names from one source not extracted: only the first reads the label (as Go)',
      stages: () => [sm({ first: 'pod', second: 'pod' })],
      extracted: {},
      labels: { pod: 'p-1' },
      metadata: { first: 'p-1' },
      wantLabels: {},
    },
    {
      name: 'two names from one extracted source both get it',
      stages: () => [sm({ first: 'pod', second: 'pod' })],
      extracted: { pod: 'p-2' },
      metadata: { first: 'p-2', second: 'p-2' },
      wantLabels: {},
    },
    {
      name: 'two stages add to the same metadata',
      stages: () => [sm({ a: null }), sm({ b: null })],
      extracted: { a: '1', b: '2' },
      metadata: { a: '1', b: '2' },
      wantLabels: {},
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = run(c.stages(), c.extracted, c.labels);
      assert.deepEqual(e.metadata, c.metadata);
      assert.deepEqual(e.labels, c.wantLabels);
    });
  }

  it('is named as written', () => {
    assert.equal(sm({ a: null }).name, 'structured_metadata');
    assert.equal(stage(createNonIndexedLabelsStage, { a: null }).name, 'non_indexed_labels');
  });

  it('the per-entry scratch does not leak between entries', () => {
    const s = sm({ a: null });
    assert.deepEqual(run([s], { a: 'x' }).metadata, { a: 'x' });
    assert.equal(run([s], {}).metadata, undefined);
  });

  it('refuses bad names and values, under either name', () => {
    for (const factory of [createStructuredMetadataStage, createNonIndexedLabelsStage]) {
      const r = factory({ 'trace-id': null, ok: ['x'] }, ctx);
      assert.equal(r.stage, undefined);
      assert.deepEqual(r.issues, [
        {
          path: ['trace-id'],
          message: 'invalid label name: trace-id (letters, digits and _, not starting with a digit)',
        },
        {
          path: ['ok'],
          message: 'Expected `ok` to be an extracted key (a string) or empty, got `["x"]` (array)',
        },
      ]);
    }
    const empty = createStructuredMetadataStage(null, ctx);
    assert.deepEqual(empty.issues, [
      {
        path: [],
        message:
          'The structured_metadata stage needs a mapping of names to extracted keys (like `level:` or `app: app_name`)',
      },
    ]);
  });
});
