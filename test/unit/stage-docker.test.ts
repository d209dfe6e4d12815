import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, StageContext } from '../../src/pipeline/stage.js';
import { createDockerStage } from '../../src/pipeline/stages/docker.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(line: string): PipelineEntry {
  return {
    labels: { container: 'web' },
    extracted: {},
    line,
    sec: 1_556_590_361,
    nsec: 844_351_500,
    metadata: undefined,
    tenant: undefined,
  };
}

describe('docker stage', () => {
  // Lines from the Engine API carry no json-file envelope: Promtail's docker stage (json → labels
  // stream → timestamp → output) finds nothing to parse in them and leaves the entry as it is.
  const lines = [
    'log message',
    'level=info msg="started"',
    '{"app":"web","level":"info"}',
    // Even an application line shaped like the envelope is left alone (see docker.ts).
    '{"log":"log message\\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z"}',
    '',
  ];
  for (const line of lines) {
    it(`leaves ${JSON.stringify(line)} unchanged: no stream label, same time, same line`, () => {
      const r = createDockerStage({}, ctx);
      assert.deepEqual(r.issues, []);
      const e = entry(line);
      assert.equal(r.stage!.process(e), 'keep');
      assert.deepEqual(e, entry(line));
    });
  }

  it('accepts any config, as Promtail ignores it', () => {
    for (const config of [{}, null, { anything: 1 }, 'x']) {
      const r = createDockerStage(config, ctx);
      assert.deepEqual(r.issues, []);
      assert.equal(r.stage!.name, 'docker');
      assert.equal(r.stage!.dropReason, undefined);
    }
  });
});
