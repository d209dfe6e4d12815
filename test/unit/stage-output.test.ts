// The output stage against Promtail's output_test.go vectors and the docs example.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, StageContext } from '../../src/pipeline/stage.js';
import { createJsonStage } from '../../src/pipeline/stages/json.js';
import { createOutputStage } from '../../src/pipeline/stages/output.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(line: string, extracted: Record<string, unknown> = {}): PipelineEntry {
  return { labels: {}, extracted, line, sec: 1, nsec: 0, metadata: undefined, tenant: undefined };
}

describe('output stage', () => {
  const json = createJsonStage({ expressions: { out: 'message' } }, ctx).stage!;
  const output = createOutputStage({ source: 'out' }, ctx).stage!;
  it('json then output (TestPipeline_Output)', () => {
    const e = entry(
      '{"time":"2012-11-01T22:08:41+00:00","app":"loki","component":["parser","type"],"level":"WARN","nested":{"child":"value"},"message":"this is a log line"}',
    );
    json.process(e);
    output.process(e);
    assert.equal(e.line, 'this is a log line');
  });
  it('a null value leaves the line (TestPipelineWithMissingKey_Output)', () => {
    const line = '{"time":"2012-11-01T22:08:41+00:00","app":"loki"}';
    const e = entry(line);
    json.process(e);
    assert.deepEqual(e.extracted, { out: null });
    output.process(e);
    assert.equal(e.line, line);
  });
  const cases: [string, Record<string, unknown>, string][] = [
    ['sets output (TestOutputStage_Process)', { something: 'notimportant', out: 'outmessage' }, 'outmessage'],
    ['missing source', { something: 'x' }, 'replaceme'],
    ['empty string', { out: '' }, ''],
    ['number, as Go formats it', { out: 0.000001 }, '0.000001'],
    ['boolean', { out: true }, 'true'],
    ['object is left alone', { out: { a: 1 } }, 'replaceme'],
  ];
  for (const [name, extracted, want] of cases) {
    it(name, () => {
      const e = entry('replaceme', extracted);
      assert.equal(output.process(e), 'keep');
      assert.equal(e.line, want);
    });
  }
  it('docs: json, labels, output', () => {
    const e = entry('{"user": "alexis", "message": "hello, world!"}');
    createJsonStage({ expressions: { user: 'user', message: 'message' } }, ctx).stage!.process(e);
    createOutputStage({ source: 'message' }, ctx).stage!.process(e);
    assert.equal(e.line, 'hello, world!');
    assert.deepEqual(e.extracted, { user: 'alexis', message: 'hello, world!' });
  });
  const invalid: [string, unknown, RegExp][] = [
    ['missing config', null, /^output source value is required if output is specified$/],
    ['missing source', {}, /^output source value is required if output is specified$/],
    ['empty source', { source: '' }, /^output source value is required if output is specified$/],
  ];
  for (const [name, config, message] of invalid) {
    it(`config: ${name}`, () => {
      const { stage, issues } = createOutputStage(config, ctx);
      assert.equal(stage, undefined);
      assert.deepEqual(
        issues.map(i => i.path),
        [['source']],
      );
      assert.match(issues[0]!.message, message);
    });
  }
});
