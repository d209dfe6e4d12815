// The decolorize stage against Promtail's decolorize_test.go, Loki's TestDecolorizer and the docs.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, StageContext } from '../../src/pipeline/stage.js';
import { createDecolorizeStage } from '../../src/pipeline/stages/decolorize.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(line: string): PipelineEntry {
  return { labels: {}, extracted: {}, line, sec: 1, nsec: 0, metadata: undefined, tenant: undefined };
}

describe('decolorize stage', () => {
  const { stage, issues } = createDecolorizeStage(null, ctx);
  assert.deepEqual(issues, []);
  const cases: [string, string, string][] = [
    ['non-colored text', 'sample text', 'sample text'],
    ['colored text', '\u001b[0;32mgreen\u001b[0m \u001b[0;31mred\u001b[0m', 'green red'],
    // The docs' example writes `\033[0;32http` (no `m`): `h` ends that sequence, as in Loki.
    [
      'docs example',
      '[2022-11-04 22:17:57.811] \u001b[0;32http\u001b[0m: GET /_health (0 ms) 204',
      '[2022-11-04 22:17:57.811] ttp: GET /_health (0 ms) 204',
    ],
    [
      'docs example, well-formed',
      '[2022-11-04 22:17:57.811] \u001b[0;32mhttp\u001b[0m: GET /_health (0 ms) 204',
      '[2022-11-04 22:17:57.811] http: GET /_health (0 ms) 204',
    ],
    ['bold and 256 colours', '\u001b[1m\u001b[38;5;208mwarn\u001b[0m', 'warn'],
    ['cursor movement and erase', 'a\u001b[2Kb\u001b[1Ac', 'abc'],
    ['OSC title ended by BEL', '\u001b]0;title\u0007text', 'text'],
    ['8-bit CSI', '\u009b31mred\u009b0m', 'red'],
    ['a lone ESC stays', 'a\u001bb', 'a\u001bb'],
  ];
  for (const [name, line, want] of cases) {
    it(name, () => {
      const e = entry(line);
      assert.equal(stage!.process(e), 'keep');
      assert.equal(e.line, want);
    });
  }
  it('takes no options', () => {
    assert.deepEqual(createDecolorizeStage({}, ctx).issues, []);
    const { stage: none, issues: bad } = createDecolorizeStage({ colors: true }, ctx);
    assert.equal(none, undefined);
    assert.deepEqual(
      bad.map(i => i.path),
      [['colors']],
    );
  });
});
