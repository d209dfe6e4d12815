import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, Stage, StageContext, StageIssue } from '../../src/pipeline/stage.js';
import { createDropStage } from '../../src/pipeline/stages/drop.js';
import {
  createLimitStage,
  isPacingStage,
  LIMIT_DROP_REASON,
  limitStageFactory,
  type PacingStage,
} from '../../src/pipeline/stages/limit.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(line: string, labels: Record<string, string> = {}): PipelineEntry {
  return { labels, extracted: {}, line, sec: 0, nsec: 0, metadata: undefined, tenant: undefined };
}

/** A limit stage on a clock the test moves by hand. */
function limited(config: unknown) {
  const clock = { now: 1_000 };
  const r = limitStageFactory(() => clock.now)(config, ctx);
  assert.deepEqual(r.issues, []);
  return { stage: r.stage as PacingStage, clock };
}

function kept(stage: Stage, entries: PipelineEntry[]): string[] {
  return entries.filter(e => stage.process(e) === 'keep').map(e => e.line);
}

describe('limit stage, drop: true', () => {
  it('Promtail TestLimitDropPipeline: rate 1, burst 1 → 1 of 10 goes through', () => {
    const { stage } = limited({ rate: 1, burst: 1, drop: true });
    const entries = Array.from({ length: 10 }, (_, i) => entry(`l${i}`, { app: 'loki' }));
    assert.deepEqual(kept(stage, entries), ['l0']);
    assert.equal(stage.dropReason, LIMIT_DROP_REASON);
    assert.equal(stage.dropReason, 'ratelimit_drop_stage');
    assert.equal(stage.name, 'limit');
  });

  it('Promtail TestLimitByLabelPipeline: one of each app, every line without the label', () => {
    const { stage } = limited({ rate: 1, burst: 1, drop: true, by_label_name: 'app' });
    const entries = [
      ...Array.from({ length: 5 }, (_, i) => entry(`loki${i}`, { app: 'loki' })),
      ...Array.from({ length: 5 }, (_, i) => entry(`poki${i}`, { app: 'poki' })),
      ...Array.from({ length: 5 }, (_, i) => entry(`none${i}`)),
    ];
    assert.deepEqual(kept(stage, entries), ['loki0', 'poki0', 'none0', 'none1', 'none2', 'none3', 'none4']);
  });

  it('docs: rate 10, burst 10 drops over the rate and refills with time, up to the burst', () => {
    const { stage, clock } = limited({ rate: 10, burst: 10, drop: true });
    const burst = (n: number) =>
      kept(
        stage,
        Array.from({ length: n }, (_, i) => entry(String(i))),
      ).length;
    assert.equal(burst(11), 10);
    clock.now += 100; // one token at 10/s
    assert.equal(burst(2), 1);
    clock.now += 250; // 2.5 tokens
    assert.equal(burst(5), 2);
    clock.now += 60_000; // capped at the burst
    assert.equal(burst(20), 10);
  });

  it('a fractional rate: 0.5/s is one line every 2 s', () => {
    const { stage, clock } = limited({ rate: 0.5, burst: 1, drop: true });
    assert.equal(stage.process(entry('a')), 'keep');
    clock.now += 1_999;
    assert.equal(stage.process(entry('b')), 'drop');
    clock.now += 1;
    assert.equal(stage.process(entry('c')), 'keep');
  });

  it('keeps buckets by label value in two generations of max_distinct_labels (at least 10000)', () => {
    const { stage } = limited({
      rate: 0.000001,
      burst: 1,
      drop: true,
      by_label_name: 'k',
      max_distinct_labels: 5,
    });
    const one = (value: string) => stage.process(entry('x', { k: value }));
    for (let i = 0; i < 10_000; i++) assert.equal(one(`v${i}`), 'keep');
    // The 10000th value turned the generation: v0 is in the old one, with its empty bucket.
    assert.equal(one('v0'), 'drop');
    for (let i = 0; i < 9_999; i++) one(`w${i}`); // young: v0 + 9999 → turned again
    assert.equal(one('v1'), 'keep', 'v1 was only in the generation now forgotten');
    for (let i = 0; i < 10_000; i++) one(`x${i}`);
    assert.equal(one('v0'), 'keep', 'two turns later v0 is forgotten and starts with a full bucket');
  });

  it('warns when max_distinct_labels is raised to 10000', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: line => lines.push(line) });
    createLimitStage(
      { rate: 1, burst: 1, drop: true, by_label_name: 'app', max_distinct_labels: 100 },
      { ...ctx, logger },
    );
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /max_distinct_labels was adjusted up to the minimal reasonable value of 10000/);
    assert.match(lines[0]!, /job=test/);
    createLimitStage({ rate: 1, burst: 1, drop: true }, { ...ctx, logger });
    assert.equal(lines.length, 1, 'no warning without by_label_name');
  });
});

describe('limit stage, drop: false (Promtail waits: docktail asks the pipeline to hold the entry)', () => {
  it('Promtail TestLimitWaitPipeline: rate 1, burst 1 → all 5 go through, each 1 s after the previous', () => {
    const { stage } = limited({ rate: 1, burst: 1, drop: false });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      assert.equal(stage.process(entry(`l${i}`)), 'keep');
      delays.push(stage.takeDelay());
    }
    assert.deepEqual(delays, [0, 1_000, 2_000, 3_000, 4_000]);
  });

  it('drop defaults to false; the debt is paid back as time passes', () => {
    const { stage, clock } = limited({ rate: 10, burst: 2 });
    const next = () => {
      assert.equal(stage.process(entry('x')), 'keep');
      return stage.takeDelay();
    };
    assert.deepEqual([next(), next(), next(), next()], [0, 0, 100, 200]);
    clock.now += 200; // the pipeline waited for the last one
    assert.ok(Math.abs(next() - 100) < 1e-9);
    clock.now += 10_000;
    assert.deepEqual([next(), next(), next()], [0, 0, 100]);
  });

  it('takeDelay resets to 0, and only limit is a pacing stage', () => {
    const { stage } = limited({ rate: 1, burst: 1 });
    stage.process(entry('a'));
    stage.process(entry('b'));
    assert.equal(stage.takeDelay(), 1_000);
    assert.equal(stage.takeDelay(), 0);
    assert.equal(isPacingStage(stage), true);
    assert.equal(isPacingStage(limited({ rate: 1, burst: 1, drop: true }).stage), true);
    assert.equal(isPacingStage(createDropStage({ expression: 'x' }, ctx).stage!), false);
  });

  it('the default factory runs on the monotonic clock', () => {
    const r = createLimitStage({ rate: 1000, burst: 1 }, ctx);
    const stage = r.stage as PacingStage;
    stage.process(entry('a'));
    assert.equal(stage.takeDelay(), 0);
    stage.process(entry('b'));
    const d = stage.takeDelay();
    assert.ok(d > 0 && d <= 1, `one token at 1000/s takes at most 1 ms, got ${d}`);
  });
});

describe('limit stage config', () => {
  it('reads values weakly, as mapstructure.WeakDecode does', () => {
    const { stage } = limited({ rate: '2', burst: '3', drop: 'true' });
    assert.deepEqual(
      kept(
        stage,
        Array.from({ length: 5 }, (_, i) => entry(String(i))),
      ).length,
      3,
    );
    const yes = limited({ rate: 1, burst: 1, drop: 'yes' }).stage;
    assert.deepEqual(kept(yes, [entry('a'), entry('b')]), ['a']);
  });

  const invalid: { name: string; config: unknown; issues: StageIssue[] }[] = [
    {
      name: 'no config (Promtail: limit stage failed to parse rate or burst)',
      config: null,
      issues: [
        { path: [], message: 'limit stage needs `rate`: lines per second, above 0' },
        { path: [], message: 'limit stage needs `burst`: a whole number of lines, above 0' },
      ],
    },
    {
      name: 'zero and negative',
      config: { rate: 0, burst: -1 },
      issues: [
        {
          path: ['rate'],
          message: 'Expected `rate` to be a number of lines per second above 0, got `0` (number)',
        },
        {
          path: ['burst'],
          message: 'Expected `burst` to be a whole number of lines above 0, got `-1` (number)',
        },
      ],
    },
    {
      name: 'a burst under one line',
      config: { rate: 1, burst: 0.5 },
      issues: [
        {
          path: ['burst'],
          message: 'Expected `burst` to be a whole number of lines above 0, got `0.5` (number)',
        },
      ],
    },
    {
      name: 'by_label_name without drop (Promtail: When ratelimiting by label, drop must be true)',
      config: { rate: 1, burst: 1, by_label_name: 'app' },
      issues: [
        {
          path: ['by_label_name'],
          message: 'When ratelimiting by label, drop must be true (add `drop: true`)',
        },
      ],
    },
    {
      name: 'wrong types and a misspelt key',
      config: { rate: 'fast', burst: 1, drop: 'maybe', brust: 2 },
      issues: [
        { path: ['brust'], message: 'Unknown key `brust` (did you mean `burst`?)' },
        { path: ['rate'], message: 'Expected `rate` to be a number, got `fast` (string)' },
        { path: ['drop'], message: 'Expected `drop` to be a boolean, got `maybe` (string)' },
      ],
    },
  ];
  for (const c of invalid) {
    it(`refuses: ${c.name}`, () => {
      const r = createLimitStage(c.config, ctx);
      assert.equal(r.stage, undefined);
      assert.deepEqual(r.issues, c.issues);
    });
  }
});

describe('limit stage config, unknown keys alone', () => {
  it('give no stage', () => {
    const r = createLimitStage({ rate: 1, burst: 1, dorp: true }, ctx);
    assert.equal(r.stage, undefined);
    assert.deepEqual(r.issues, [{ path: ['dorp'], message: 'Unknown key `dorp` (did you mean `drop`?)' }]);
  });
});
