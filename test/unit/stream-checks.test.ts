import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { checkResumeGap, countRepeat, LastLine } from '../../src/targets/stream-checks.js';

const C = { sec: 1795235073, nsec: 500, count: 2 };

describe('checkResumeGap', () => {
  const cases: Array<{ name: string; cursor: typeof C; sec: number; nsec: number; gap: boolean }> = [
    { name: 'the first line is the cursor line: no gap', cursor: C, sec: C.sec, nsec: C.nsec, gap: false },
    {
      name: 'an older first line (non-monotonic stamps): no gap',
      cursor: C,
      sec: C.sec,
      nsec: 1,
      gap: false,
    },
    { name: 'a newer first line: the cursor line is gone', cursor: C, sec: C.sec + 2, nsec: 250, gap: true },
    { name: '1 ns newer is still a gap', cursor: C, sec: C.sec, nsec: C.nsec + 1, gap: true },
    {
      name: 'a Promtail position (count 0) names no line: never a gap',
      cursor: { ...C, count: 0 },
      sec: C.sec + 60,
      nsec: 0,
      gap: false,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const metrics = new Metrics();
      const lines: string[] = [];
      const log = createLogger({ write: l => lines.push(l) });
      assert.equal(checkResumeGap(c.cursor, c.sec, c.nsec, 'web', metrics, log), c.gap);
      const text = await metrics.registry.metrics();
      if (c.gap) {
        assert.match(text, /docktail_log_gaps_total\{container="web"\} 1/);
        const seconds = Number(/docktail_log_gap_seconds_total\{container="web"\} (\S+)/.exec(text)?.[1]);
        const want = c.sec - c.cursor.sec + (c.nsec - c.cursor.nsec) / 1e9;
        assert.ok(Math.abs(seconds - want) < 1e-6, `${seconds} vs ${want}`);
        assert.equal(lines.length, 1);
        assert.match(lines[0]!, /level=warn msg="log lines lost: .*rotated away/);
        assert.match(lines[0]!, new RegExp(`cursor=${c.cursor.sec}\\.000000500 first_available=${c.sec}\\.`));
      } else {
        assert.doesNotMatch(text, /docktail_log_gaps_total\{/);
        assert.deepEqual(lines, []);
      }
    });
  }

  it('counts per registry: two agents in one process do not share the counter', async () => {
    const a = new Metrics();
    const b = new Metrics();
    const log = createLogger({ write: () => {} });
    checkResumeGap(C, C.sec + 1, 0, 'x', a, log);
    checkResumeGap(C, C.sec + 1, 0, 'x', a, log);
    checkResumeGap(C, C.sec + 1, 0, 'x', b, log);
    assert.match(await a.registry.metrics(), /docktail_log_gaps_total\{container="x"\} 2/);
    assert.match(await b.registry.metrics(), /docktail_log_gaps_total\{container="x"\} 1/);
  });
});

describe('LastLine', () => {
  it('recognises the engine sending the same line again at once, and nothing else', () => {
    const last = new LastLine();
    const steps: Array<[sec: number, nsec: number, text: string, repeat: boolean]> = [
      [1, 5, 'a', false],
      [1, 5, 'a', true], // the rotation repeat
      [1, 5, 'a', true],
      [1, 5, 'b', false], // same stamp, other text: a line of its own
      [1, 6, 'b', false], // same text, other stamp: a line of its own
      [1, 6, 'b', true],
      [2, 6, 'b', false],
    ];
    for (const [sec, nsec, text, repeat] of steps)
      assert.equal(last.repeats(sec, nsec, text), repeat, `${sec}.${nsec} ${text}`);
  });

  it('counts repeats per container', async () => {
    const metrics = new Metrics();
    countRepeat(1, 2, 'web', metrics, createLogger({ write: () => {} }));
    assert.match(
      await metrics.registry.metrics(),
      /docktail_engine_repeated_lines_total\{container="web"\} 1/,
    );
  });
});
