import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BUSY_GAP_MS,
  GATHER_BELOW_BYTES,
  GATHER_MS,
  QUIET_BYTES,
  ReadPacer,
} from '../../src/targets/read-pacer.js';
import { ReadTick } from '../../src/targets/read-tick.js';
import { ManualClock } from '../harness/manual-clock.js';

/**
 * A body that records whether it is paused, and a clock whose time and timers the test moves; with
 * `tickMs`, a read tick of that period on the same clock, whose drains are recorded in `drains`.
 */
function setup(tickMs?: number) {
  const calls: string[] = [];
  let paused = false;
  const body = {
    pause() {
      paused = true;
      calls.push('pause');
    },
    resume() {
      paused = false;
      calls.push('resume');
    },
  };
  const clock = new ManualClock(1000, { afterReadsAtOnce: true });
  const advance = (ms: number): void => clock.advance(ms);
  const drains: number[] = [];
  const tick = tickMs === undefined ? undefined : new ReadTick(tickMs, () => drains.push(clock.now()), clock);
  return {
    pacer: new ReadPacer(body, { clock, tick }),
    calls,
    isPaused: () => paused,
    advance,
    timers: () => clock.timers,
    drains,
    now: clock.now,
  };
}

describe('ReadPacer', () => {
  test('without a read tick, a quiet stream reads as data comes: reads far apart are never paused', () => {
    const { pacer, calls, advance } = setup();
    for (let i = 0; i < 5; i++) {
      pacer.read(120);
      advance(100);
    }
    assert.deepEqual(calls, []);
  });

  test('a busy stream gathers: a small read soon after another pauses for GATHER_MS, then reads again', () => {
    const { pacer, calls, isPaused, advance } = setup();
    pacer.read(1500);
    advance(BUSY_GAP_MS / 2);
    pacer.read(1500);
    assert.ok(isPaused());
    advance(GATHER_MS - 0.1);
    assert.ok(isPaused(), 'still gathering');
    advance(0.1);
    assert.ok(!isPaused());
    // The read that takes what gathered comes right after the pause: the stream is still busy.
    pacer.read(9000);
    assert.ok(isPaused());
    assert.deepEqual(calls, ['pause', 'resume', 'pause']);
  });

  test('a large read is not followed by a pause: the socket had more than a gathering brings', () => {
    const { pacer, calls, advance } = setup();
    pacer.read(GATHER_BELOW_BYTES);
    advance(0.1);
    pacer.read(GATHER_BELOW_BYTES);
    assert.deepEqual(calls, []);
  });

  test('a full sink holds the body: the end of a gathering pause does not resume it', () => {
    const { pacer, isPaused, advance, calls } = setup();
    pacer.read(100);
    pacer.read(100); // busy: gathering
    pacer.hold(); // and the sink is full
    advance(GATHER_MS);
    assert.ok(isPaused(), 'held while the sink is full');
    pacer.release();
    assert.ok(!isPaused());
    assert.deepEqual(calls, ['pause', 'pause', 'resume']);
  });

  test('a sink that drains during a gathering pause resumes the body only when the pause ends', () => {
    const { pacer, isPaused, advance } = setup();
    pacer.read(100);
    pacer.read(100);
    pacer.hold();
    pacer.release();
    assert.ok(isPaused(), 'still gathering');
    advance(GATHER_MS);
    assert.ok(!isPaused());
  });

  test('held reads are not paused again, and nothing is resumed once stopped', () => {
    const { pacer, calls, advance, timers } = setup();
    pacer.hold();
    pacer.read(100);
    pacer.read(100);
    assert.equal(timers().length, 0, 'no gathering while held');
    pacer.release();
    pacer.read(100); // busy: gathering
    pacer.stop();
    advance(GATHER_MS);
    pacer.release();
    assert.deepEqual(calls, ['pause', 'resume', 'pause']);
  });

  describe('with a read tick', () => {
    const TICK = 1000;

    test('a quiet stream reads once per tick: after its first period it pauses after each read', () => {
      // The clock starts at 1000: period 1 of the tick.
      const { pacer, isPaused, advance, drains, now } = setup(TICK);
      pacer.read(120);
      advance(300);
      pacer.read(120);
      assert.ok(!isPaused(), 'the period of the first read counts as busy: reads flow');
      advance(TICK - 300); // t = 2000: period 2; period 1 read 240 bytes, so the stream is quiet
      pacer.read(120);
      assert.ok(isPaused(), 'a quiet stream waits for the tick');
      advance(TICK - 1); // just before the next period
      assert.ok(isPaused());
      advance(2); // the tick: at the start of period 3 (+1 ms, node's timers run on whole ms)
      assert.ok(!isPaused(), 'resumed at the tick');
      assert.deepEqual(drains, [3001], 'then the tick sends what is due');
      pacer.read(1200); // what gathered for a second
      assert.ok(isPaused(), 'and waits for the next tick again');
      advance(TICK);
      assert.ok(!isPaused());
      assert.deepEqual(drains, [3001, 4001]);
      assert.equal(now(), 4001);
    });

    test('a stream that reads QUIET_BYTES in a period reads as data comes, until a quiet period', () => {
      const { pacer, isPaused, advance } = setup(TICK);
      pacer.read(100);
      advance(TICK); // period 2: quiet
      pacer.read(100);
      assert.ok(isPaused());
      advance(TICK + 1); // the tick
      pacer.read(QUIET_BYTES); // a second of a busier container, read at the tick
      assert.ok(!isPaused(), 'past QUIET_BYTES in this period: reads flow');
      advance(10);
      pacer.read(100);
      assert.ok(!isPaused(), 'for the rest of the period');
      advance(TICK); // the next period: the one before read QUIET_BYTES + 100
      pacer.read(100);
      assert.ok(!isPaused(), 'a busy period before: still flowing');
      advance(TICK); // the period before read 100 bytes
      pacer.read(100);
      assert.ok(isPaused(), 'quiet again');
    });

    test('a period with no read at all counts as quiet', () => {
      const { pacer, isPaused, advance } = setup(TICK);
      pacer.read(QUIET_BYTES * 4);
      advance(3 * TICK);
      pacer.read(100);
      assert.ok(isPaused());
    });

    test('a busy stream still gathers, and never waits for the tick', () => {
      const { pacer, calls, isPaused, advance, drains } = setup(TICK);
      // Three periods of small reads half a millisecond apart (~3 MB a second), read whenever not paused.
      for (let i = 0; i < 6000; i++) {
        if (!isPaused()) pacer.read(1500);
        advance(0.5);
      }
      assert.ok(calls.length > 1000, 'gathering pauses');
      for (let i = 0; i < calls.length; i++) assert.equal(calls[i], i % 2 === 0 ? 'pause' : 'resume');
      assert.deepEqual(drains, [], 'no tick ever ran');
    });

    test('a held stream is not resumed by the tick, and a stopped one is never resumed', () => {
      const { pacer, isPaused, advance, calls } = setup(TICK);
      pacer.read(100);
      advance(TICK);
      pacer.read(100); // deferred
      pacer.hold(); // and the sink fills
      advance(TICK + 1); // the tick
      assert.ok(isPaused(), 'held while the sink is full');
      pacer.release();
      assert.ok(!isPaused());
      pacer.read(100); // quiet: deferred again
      pacer.stop();
      advance(TICK);
      assert.ok(isPaused());
      assert.deepEqual(calls, ['pause', 'pause', 'resume', 'pause']);
    });

    test('a sink that drains while the stream waits for the tick does not resume it early', () => {
      const { pacer, isPaused, advance } = setup(TICK);
      pacer.read(100);
      advance(TICK);
      pacer.read(100); // deferred
      pacer.hold();
      pacer.release();
      assert.ok(isPaused(), 'still waiting for the tick');
      advance(TICK + 1);
      assert.ok(!isPaused());
    });
  });
});
