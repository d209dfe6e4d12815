import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, StageContext, StageIssue } from '../../src/pipeline/stage.js';
import { createCriStage } from '../../src/pipeline/stages/cri.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(line: string): PipelineEntry {
  return {
    labels: { app: 'x' },
    extracted: {},
    line,
    sec: 5,
    nsec: 6,
    metadata: undefined,
    tenant: undefined,
  };
}

describe('cri stage', () => {
  const lines = [
    'message',
    // The CRI prefix does not exist on Engine API lines; one that looks like it stays as written.
    '2019-04-30T02:12:41.8443515Z stdout F message',
    '2019-01-01T01:00:00.000000001Z stderr P test\ngood',
  ];
  for (const line of lines) {
    it(`leaves ${JSON.stringify(line)} unchanged`, () => {
      const r = createCriStage({}, ctx);
      assert.deepEqual(r.issues, []);
      const e = entry(line);
      assert.equal(r.stage!.process(e), 'keep');
      assert.deepEqual(e, entry(line));
      assert.equal(r.stage!.name, 'cri');
    });
  }

  it('accepts the documented options', () => {
    for (const config of [
      null,
      {},
      { max_partial_lines: 100, max_partial_line_size: 262144, max_partial_line_size_truncate: true },
      { max_partial_lines: '50', max_partial_line_size: '256kb', max_partial_line_size_truncate: 'false' },
    ]) {
      assert.deepEqual(createCriStage(config, ctx).issues, []);
    }
  });

  const invalid: { name: string; config: unknown; issues: StageIssue[] }[] = [
    {
      name: 'wrong types',
      config: {
        max_partial_lines: -1,
        max_partial_line_size: 'big',
        max_partial_line_size_truncate: 'perhaps',
      },
      issues: [
        {
          path: ['max_partial_lines'],
          message: 'Expected `max_partial_lines` to be a whole number of lines, got `-1` (number)',
        },
        { path: ['max_partial_line_size'], message: 'strconv.UnmarshalText: parsing "BIG": invalid syntax' },
        {
          path: ['max_partial_line_size_truncate'],
          message: 'Expected `max_partial_line_size_truncate` to be a boolean, got `perhaps` (string)',
        },
      ],
    },
    {
      name: 'an unknown key',
      config: { max_partial_line: 5 },
      issues: [
        {
          path: ['max_partial_line'],
          message: 'Unknown key `max_partial_line` (did you mean `max_partial_lines`?)',
        },
      ],
    },
    {
      name: 'not a mapping',
      config: 'on',
      issues: [{ path: [], message: 'Expected the stage config to be a mapping, got `on` (string)' }],
    },
  ];
  for (const c of invalid) {
    it(`refuses: ${c.name}`, () => {
      const r = createCriStage(c.config, ctx);
      assert.equal(r.stage, undefined);
      assert.deepEqual(r.issues, c.issues);
    });
  }
});
