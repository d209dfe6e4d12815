import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BUSY_GAP_MS,
  GATHER_BELOW_BYTES,
  GATHER_MS,
  type PacerClock,
  ReadPacer,
} from '../../src/targets/read-pacer.js';

/** A body that records whether it is paused, and a clock whose time and timers the test moves. */
function setup() {
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
  let now = 1000;
  let timers: Array<{ at: number; fn: () => void }> = [];
  const clock: PacerClock = {
    now: () => now,
    setTimeout: (fn, ms) => timers.push({ at: now + ms, fn }),
  };
  const advance = (ms: number): void => {
    now += ms;
    const due = timers.filter(t => t.at <= now);
    timers = timers.filter(t => t.at > now);
    for (const t of due) t.fn();
  };
  return { pacer: new ReadPacer(body, clock), calls, isPaused: () => paused, advance, timers: () => timers };
}

describe('ReadPacer', () => {
  test('a quiet stream reads as data comes: reads far apart are never paused', () => {
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
});
