import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MIN_TICK_MS, ReadTick, SLICE } from '../../src/targets/read-tick.js';
import { ManualClock } from '../harness/manual-clock.js';

function setup(periodMs = 1000, start = 10_250) {
  const clock = new ManualClock(start);
  const log: string[] = [];
  const tick = new ReadTick(periodMs, () => log.push(`drain@${clock.now()}`), clock);
  return {
    tick,
    log,
    timers: () => clock.timers,
    to: (t: number) => clock.to(t),
    reads: () => clock.reads(),
  };
}

describe('ReadTick', () => {
  test('resumes every waiting stream at the next period boundary, then drains after their reads', () => {
    const { tick, log, to, reads, timers } = setup();
    assert.equal(tick.period(10_250), 10);
    assert.equal(timers().length, 0, 'no timer while nothing waits');
    tick.defer(() => log.push('a'));
    to(10_600);
    tick.defer(() => log.push('b'));
    assert.equal(timers().length, 1, 'one timer for every waiting stream');
    assert.equal(timers()[0]!.at, 11_001, 'at the boundary (+1 ms: node timers fire on whole ms)');
    assert.equal(tick.waiting, 2);
    to(11_000);
    assert.deepEqual(log, []);
    to(11_001);
    assert.deepEqual(log, ['a', 'b'], 'resumed together');
    assert.equal(tick.waiting, 0);
    reads();
    assert.deepEqual(log, ['a', 'b', 'drain@11001'], 'the batches go after the reads');
  });

  test('a stream that waits again after the tick is resumed at the following boundary', () => {
    const { tick, log, to, reads, timers } = setup();
    const again = () => {
      log.push('read');
      tick.defer(again);
    };
    tick.defer(again);
    to(11_001);
    reads();
    to(12_001);
    reads();
    assert.deepEqual(log, ['read', 'drain@11001', 'read', 'drain@12001']);
    assert.equal(timers().length, 1);
  });

  test('a tick resumes SLICE streams per pass of the event loop, and drains after the last pass', () => {
    const { tick, log, to, reads } = setup();
    const resumed: number[] = [];
    for (let i = 0; i < 2 * SLICE + 5; i++) tick.defer(() => resumed.push(i));
    to(11_001);
    assert.equal(resumed.length, SLICE, 'the first slice');
    reads();
    assert.equal(resumed.length, 2 * SLICE, 'after its reads, the next');
    assert.deepEqual(log, []);
    reads();
    assert.equal(resumed.length, 2 * SLICE + 5);
    assert.deepEqual(log, [], 'no drain before the last slice has read');
    reads();
    assert.deepEqual(log, ['drain@11001']);
    assert.deepEqual(
      resumed,
      Array.from({ length: 2 * SLICE + 5 }, (_, i) => i),
      'in the order they waited',
    );
  });

  test('stop() cancels the timer, forgets the waiting streams and ends the drains', () => {
    const { tick, log, to, reads, timers } = setup();
    tick.defer(() => log.push('a'));
    tick.stop();
    assert.equal(timers().length, 0);
    assert.equal(tick.waiting, 0);
    tick.defer(() => log.push('b'));
    to(20_000);
    reads();
    assert.deepEqual(log, []);
  });

  test('a drain already due when the tick stops does not run', () => {
    const { tick, log, to, reads } = setup();
    tick.defer(() => log.push('a'));
    to(11_001);
    tick.stop();
    reads();
    assert.deepEqual(log, ['a']);
  });

  test('a period shorter than MIN_TICK_MS is refused', () => {
    assert.throws(() => new ReadTick(MIN_TICK_MS - 1, () => {}), RangeError);
    assert.throws(() => new ReadTick(Number.NaN, () => {}), RangeError);
    assert.equal(new ReadTick(MIN_TICK_MS, () => {}).periodMs, MIN_TICK_MS);
  });

  test('on node: the drain runs after the resumed sockets have read what waited in them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'docktail-tick-'));
    const path = join(dir, 'tick.sock');
    const peers: net.Socket[] = [];
    const server = net.createServer(c => peers.push(c));
    await new Promise<void>(resolve => server.listen(path, resolve));
    const sockets: net.Socket[] = [];
    try {
      const buffer = Buffer.allocUnsafe(64 * 1024);
      let read = 0;
      for (let i = 0; i < 100; i++) {
        const callback = (n: number): boolean => {
          read += n;
          return true;
        };
        const s = net.connect({ path, onread: { buffer, callback } });
        await new Promise(resolve => s.once('connect', resolve));
        s.pause();
        sockets.push(s);
      }
      while (peers.length < sockets.length) await new Promise(resolve => setTimeout(resolve, 5));
      for (const p of peers) p.write('x'.repeat(100));
      await new Promise(resolve => setTimeout(resolve, 50));
      assert.equal(read, 0, 'paused sockets do not read');
      const drained = new Promise<number>(resolve => {
        const tick = new ReadTick(MIN_TICK_MS, () => resolve(read));
        for (const s of sockets) tick.defer(() => s.resume());
      });
      assert.equal(await drained, 100 * 100, 'every socket read before the drain');
    } finally {
      for (const s of [...sockets, ...peers]) s.destroy();
      await new Promise(resolve => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
