// The pack stage against Promtail's pack_test.go vectors and docs examples. As in Promtail's pipeline,
// the extracted data starts out holding the labels (the pipeline copies them in).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, Stage, StageContext } from '../../src/pipeline/stage.js';
import { createPackStage } from '../../src/pipeline/stages/pack.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

/** An entry whose extracted data holds its labels and `extra`, as Promtail's pipeline seeds it. */
function entry(
  line: string,
  labels: Record<string, string>,
  extra: Record<string, unknown> = {},
): PipelineEntry {
  return {
    labels: { ...labels },
    extracted: { ...labels, ...extra },
    line,
    sec: 1,
    nsec: 0,
    metadata: undefined,
    tenant: undefined,
  };
}

function build(config: unknown): Stage {
  const { stage, issues } = createPackStage(config, ctx);
  assert.deepEqual(issues, []);
  assert.ok(stage);
  return stage;
}

const labels = { foo: 'bar', bar: 'baz' };

describe('pack stage: Test_packStage_Run vectors', () => {
  const cases: [string, unknown, Record<string, unknown>, Record<string, string>, string][] = [
    ['no supplied labels list', { ingest_timestamp: false }, {}, labels, '{"_entry":"test line 1"}'],
    [
      'match one supplied label',
      { labels: ['foo'], ingest_timestamp: false },
      {},
      { bar: 'baz' },
      '{"foo":"bar","_entry":"test line 1"}',
    ],
    [
      'match all supplied labels',
      { labels: ['foo', 'bar'], ingest_timestamp: false },
      {},
      {},
      '{"bar":"baz","foo":"bar","_entry":"test line 1"}',
    ],
    [
      'match extracted map and labels',
      { labels: ['foo', 'extr1'], ingest_timestamp: false },
      { extr1: 'etr1val', extr2: 'etr2val' },
      { bar: 'baz' },
      '{"extr1":"etr1val","foo":"bar","_entry":"test line 1"}',
    ],
    [
      'extracted map value not convertable to a string',
      { labels: ['foo', 'extr2'], ingest_timestamp: false },
      { extr1: 'etr1val', extr2: [1, 2, 3] },
      { bar: 'baz' },
      '{"foo":"bar","_entry":"test line 1"}',
    ],
    [
      'escape quotes',
      { labels: ['foo', 'ex"tr2'], ingest_timestamp: false },
      { extr1: 'etr1val', 'ex"tr2': '"fd"' },
      { bar: 'baz' },
      '{"ex\\"tr2":"\\"fd\\"","foo":"bar","_entry":"test line 1"}',
    ],
  ];
  for (const [name, config, extra, wantLabels, wantLine] of cases) {
    it(name, () => {
      const e = entry('test line 1', labels, extra);
      assert.equal(build(config).process(e), 'keep');
      assert.deepEqual(e.labels, wantLabels);
      assert.equal(e.line, wantLine);
      assert.deepEqual([e.sec, e.nsec], [1, 0]);
    });
  }
  it('ingest timestamp (the default) sets the time to now', () => {
    const before = Date.now();
    const e = entry('test line 1', labels);
    build({}).process(e);
    const after = Date.now();
    assert.equal(e.line, '{"_entry":"test line 1"}');
    assert.deepEqual(e.labels, labels);
    const ms = e.sec * 1000 + e.nsec / 1e6;
    assert.ok(ms >= before - 1 && ms <= after + 1, `${ms} not in [${before}, ${after}]`);
    assert.ok(Number.isInteger(e.nsec) && e.nsec >= 0 && e.nsec < 1e9);
  });
});

describe('pack stage: TestPackPipeline and docs', () => {
  it('packs pod and container, keeps the other labels', () => {
    const line = '{"app":"app1","message":"hello"}';
    const e = entry(line, { pod: 'foo-xsfs3', container: 'foo', namespace: 'dev', cluster: 'us-eu-1' });
    build({ labels: ['pod', 'container'], ingest_timestamp: false }).process(e);
    assert.deepEqual(e.labels, { namespace: 'dev', cluster: 'us-eu-1' });
    assert.deepEqual(JSON.parse(e.line), { container: 'foo', pod: 'foo-xsfs3', _entry: line });
    assert.equal(e.line, `{"container":"foo","pod":"foo-xsfs3","_entry":${JSON.stringify(line)}}`);
  });
  it('docs: container embedded, removed from labels', () => {
    const e = entry('original log message', { container: 'myapp', job: 'j' });
    build({ labels: ['container'] }).process(e);
    assert.equal(e.line, '{"container":"myapp","_entry":"original log message"}');
    assert.deepEqual(e.labels, { job: 'j' });
  });
});

describe('pack stage: JSON as json-iterator writes it', () => {
  const cases: [string, string, Record<string, unknown>, string][] = [
    [
      'HTML characters are escaped',
      '<a href="x">&</a>',
      {},
      '{"_entry":"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"}',
    ],
    ['control characters', 'a\tb\nc\bd\fe\u0001', {}, '{"_entry":"a\\tb\\nc\\u0008d\\u000ce\\u0001"}'],
    ['line and paragraph separators', 'a\u2028b\u2029', {}, '{"_entry":"a\\u2028b\\u2029"}'],
    ['backslashes stay escaped', 'C:\\bin\\f', {}, '{"_entry":"C:\\\\bin\\\\f"}'],
    ['non-ASCII is written as it is', 'héllo ☃', {}, '{"_entry":"héllo ☃"}'],
    [
      'numbers and booleans are packed as Go formats them',
      'x',
      { n: 1e21, b: true },
      '{"b":"true","n":"1000000000000000000000","_entry":"x"}',
    ],
    ['a null value is left out', 'x', { n: null }, '{"_entry":"x"}'],
  ];
  for (const [name, line, extra, want] of cases) {
    it(name, () => {
      const e = entry(line, {}, extra);
      build({ labels: ['n', 'b'], ingest_timestamp: false }).process(e);
      assert.equal(e.line, want);
      assert.deepEqual(JSON.parse(e.line)._entry, line);
    });
  }
  it('duplicate names are packed once; keys sorted', () => {
    const e = entry('x', { b: '2', a: '1' });
    build({ labels: ['b', 'a', 'b'], ingest_timestamp: false }).process(e);
    assert.equal(e.line, '{"a":"1","b":"2","_entry":"x"}');
  });
  it('a name absent from the extracted data is not removed from the labels', () => {
    const e: PipelineEntry = { ...entry('x', {}), labels: { only_label: 'v' } };
    build({ labels: ['only_label'], ingest_timestamp: false }).process(e);
    assert.equal(e.line, '{"_entry":"x"}');
    assert.deepEqual(e.labels, { only_label: 'v' });
  });
});

describe('pack stage: config (weakly decoded, as Promtail does)', () => {
  it('a single label name is a list of one; numbers become names', () => {
    const e = entry('x', { app: 'a', '5': 'five' });
    build({ labels: 'app', ingest_timestamp: 'false' }).process(e);
    assert.equal(e.line, '{"app":"a","_entry":"x"}');
    const e2 = entry('x', { '5': 'five' });
    build({ labels: [5], ingest_timestamp: 0 }).process(e2);
    assert.equal(e2.line, '{"5":"five","_entry":"x"}');
  });
  const cases: [string, unknown, (string | number)[], RegExp][] = [
    ['label not a name', { labels: [{ a: 1 }] }, ['labels', 0], /to be a label name/],
    [
      'ingest_timestamp not a boolean',
      { ingest_timestamp: 'maybe' },
      ['ingest_timestamp'],
      /to be a boolean/,
    ],
    ['unknown key', { label: ['a'] }, ['label'], /Unknown key `label` \(did you mean `labels`\?\)/],
    ['not a mapping', ['a'], [], /to be a mapping/],
  ];
  for (const [name, config, path, message] of cases) {
    it(name, () => {
      const { stage, issues } = createPackStage(config, ctx);
      assert.equal(stage, undefined);
      assert.equal(issues.length, 1, JSON.stringify(issues));
      assert.deepEqual(issues[0]!.path, path);
      assert.match(issues[0]!.message, message);
    });
  }
});
