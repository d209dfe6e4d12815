import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, StageContext, StageIssue } from '../../src/pipeline/stage.js';
import { createSamplingStage, samplingStageFactory } from '../../src/pipeline/stages/sampling.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(): PipelineEntry {
  return { labels: {}, extracted: {}, line: 'l', sec: 0, nsec: 0, metadata: undefined, tenant: undefined };
}

function keptOf(config: unknown, n: number, random?: () => number): number {
  const factory = random === undefined ? createSamplingStage : samplingStageFactory(random);
  const r = factory(config, ctx);
  assert.deepEqual(r.issues, []);
  let kept = 0;
  for (let i = 0; i < n; i++) if (r.stage!.process(entry()) === 'keep') kept++;
  return kept;
}

describe('sampling stage', () => {
  it('Promtail TestSamplingPipeline: rate 0.5 keeps about half', () => {
    // 10000 draws: the standard deviation is 50, so ±500 is 10 sigmas.
    const kept = keptOf({ rate: 0.5 }, 10_000);
    assert.ok(kept > 4_500 && kept < 5_500, `kept ${kept}`);
  });

  it('docs: rate 0.1 keeps about 10 %', () => {
    const kept = keptOf({ rate: 0.1 }, 10_000);
    assert.ok(kept > 700 && kept < 1_300, `kept ${kept}`);
  });

  it('keeps an entry when the draw is below the rate', () => {
    const draws = [0, 0.24, 0.25, 0.9, 0.2499];
    let i = 0;
    const r = samplingStageFactory(() => draws[i++]!)({ rate: 0.25 }, ctx);
    assert.deepEqual(
      draws.map(() => r.stage!.process(entry())),
      ['keep', 'keep', 'drop', 'drop', 'keep'],
    );
  });

  it('rate 1 keeps all, rate 0 keeps none, even at the edges of the draw', () => {
    assert.equal(
      keptOf({ rate: 1 }, 3, () => 0.9999999999),
      3,
    );
    assert.equal(
      keptOf({ rate: 0 }, 3, () => 0),
      0,
    );
    assert.equal(keptOf({ rate: '1' }, 3), 3);
  });

  it('counts drops under sampling_stage, or drop_counter_reason', () => {
    assert.equal(createSamplingStage({ rate: 0.5 }, ctx).stage!.dropReason, 'sampling_stage');
    assert.equal(
      createSamplingStage({ rate: 0.5, drop_counter_reason: '' }, ctx).stage!.dropReason,
      'sampling_stage',
    );
    assert.equal(
      createSamplingStage({ rate: 0.5, drop_counter_reason: 'sampled' }, ctx).stage!.dropReason,
      'sampled',
    );
    assert.equal(createSamplingStage({ rate: 0.5 }, ctx).stage!.name, 'sampling');
  });

  it('without rate keeps nothing, as Promtail, and warns', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: line => lines.push(line) });
    const r = createSamplingStage(null, { ...ctx, logger });
    assert.deepEqual(r.issues, []);
    assert.equal(r.stage!.process(entry()), 'drop');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /sampling stage without `rate` keeps no entry/);
  });

  const invalid: { name: string; config: unknown; issues: StageIssue[] }[] = [
    {
      name: 'Promtail Test_validateSamplingConfig: rate 12',
      config: { rate: 12 },
      issues: [
        { path: ['rate'], message: 'Expected `rate` to be a number between 0.0 and 1.0, got `12` (number)' },
      ],
    },
    {
      name: 'a negative rate',
      config: { rate: -0.1 },
      issues: [
        {
          path: ['rate'],
          message: 'Expected `rate` to be a number between 0.0 and 1.0, got `-0.1` (number)',
        },
      ],
    },
    {
      name: 'a percentage string',
      config: { rate: '10%' },
      issues: [{ path: ['rate'], message: 'Expected `rate` to be a number, got `10%` (string)' }],
    },
    {
      name: 'a misspelt key',
      config: { rates: 0.1 },
      issues: [{ path: ['rates'], message: 'Unknown key `rates` (did you mean `rate`?)' }],
    },
  ];
  for (const c of invalid) {
    it(`refuses: ${c.name}`, () => {
      const r = createSamplingStage(c.config, ctx);
      assert.equal(r.stage, undefined);
      assert.deepEqual(r.issues, c.issues);
    });
  }
});
