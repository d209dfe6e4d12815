import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cursor } from '../../src/core/types.js';
import { CursorTracker, ResumeFilter } from '../../src/positions/tracker.js';

function recorder(initial?: Cursor, initialCapacity?: number) {
  const commits: Cursor[] = [];
  const tracker = new CursorTracker(initial, c => commits.push(c), { initialCapacity });
  return { tracker, commits };
}

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

describe('CursorTracker', () => {
  it('commits in order when settles arrive in order', () => {
    const { tracker, commits } = recorder();
    assert.equal(tracker.committed, undefined);
    assert.equal(tracker.readCursor, undefined);
    const a = tracker.issue(100, 1);
    const b = tracker.issue(100, 2);
    const c = tracker.issue(101, 0);
    assert.deepEqual([a, b, c], [0, 1, 2]);
    assert.equal(tracker.inFlight, 3);
    assert.deepEqual(tracker.readCursor, { sec: 101, nsec: 0, count: 1 });
    assert.equal(commits.length, 0, 'nothing commits at read time');
    tracker.settle(a);
    tracker.settle(b);
    tracker.settle(c);
    assert.deepEqual(commits, [
      { sec: 100, nsec: 1, count: 1 },
      { sec: 100, nsec: 2, count: 1 },
      { sec: 101, nsec: 0, count: 1 },
    ]);
    assert.deepEqual(tracker.committed, { sec: 101, nsec: 0, count: 1 });
    assert.equal(tracker.inFlight, 0);
  });

  it('advances only over a settled prefix, once per advance, when settles arrive out of order', () => {
    const { tracker, commits } = recorder();
    const seqs = [0, 1, 2, 3, 4].map(i => tracker.issue(200, i));
    tracker.settle(seqs[2]!);
    tracker.settle(seqs[4]!);
    assert.equal(commits.length, 0);
    assert.equal(tracker.inFlight, 3);
    tracker.settle(seqs[0]!);
    assert.deepEqual(commits, [{ sec: 200, nsec: 0, count: 1 }]);
    tracker.settle(seqs[1]!); // 1 and the already settled 2: one advance, one call
    assert.deepEqual(commits.at(-1), { sec: 200, nsec: 2, count: 1 });
    assert.equal(commits.length, 2);
    tracker.settle(seqs[3]!);
    assert.deepEqual(commits.at(-1), { sec: 200, nsec: 4, count: 1 });
    assert.equal(commits.length, 3);
    assert.equal(tracker.inFlight, 0);
  });

  it('counts several lines with one timestamp and restarts the count on a newer one', () => {
    const { tracker, commits } = recorder();
    const stamps: Array<[number, number]> = [
      [5, 7],
      [5, 7],
      [5, 7],
      [5, 8],
      [6, 0],
      [6, 0],
    ];
    for (const [s, n] of stamps) tracker.settle(tracker.issue(s, n));
    assert.deepEqual(
      commits.map(c => [c.sec, c.nsec, c.count]),
      [
        [5, 7, 1],
        [5, 7, 2],
        [5, 7, 3],
        [5, 8, 1],
        [6, 0, 1],
        [6, 0, 2],
      ],
    );
  });

  const continuing: Array<{ name: string; first: [number, number]; expected: Cursor }> = [
    {
      name: 'same timestamp continues the count',
      first: [100, 5],
      expected: { sec: 100, nsec: 5, count: 3 },
    },
    { name: 'newer timestamp starts at 1', first: [100, 6], expected: { sec: 100, nsec: 6, count: 1 } },
    { name: 'newer second starts at 1', first: [101, 0], expected: { sec: 101, nsec: 0, count: 1 } },
  ];
  for (const { name, first, expected } of continuing) {
    it(`continues from the initial cursor: ${name}`, () => {
      const initial = { sec: 100, nsec: 5, count: 2 };
      const { tracker, commits } = recorder(initial);
      assert.deepEqual(tracker.committed, initial);
      assert.deepEqual(
        tracker.readCursor,
        initial,
        'a reopen before any line resumes from the initial cursor',
      );
      tracker.settle(tracker.issue(first[0], first[1]));
      assert.deepEqual(commits, [expected]);
      assert.deepEqual(tracker.committed, expected);
    });
  }

  it('keeps the committed cursor monotonic when a line carries an older timestamp', () => {
    // Docker timestamps are not strictly monotonic; `since` forwards everything after the first line
    // that passes it, so older lines after the high-water line are counted with it.
    const { tracker, commits } = recorder();
    const seqs = [
      tracker.issue(10, 500),
      tracker.issue(10, 400),
      tracker.issue(10, 500),
      tracker.issue(11, 0),
    ];
    for (const s of seqs) tracker.settle(s);
    assert.deepEqual(
      commits.map(c => [c.sec, c.nsec, c.count]),
      [
        [10, 500, 1],
        [10, 500, 2],
        [10, 500, 3],
        [11, 0, 1],
      ],
    );
  });

  it('ignores a second settle, a settle of a committed line and an unknown seq', () => {
    const { tracker, commits } = recorder();
    const a = tracker.issue(1, 0);
    const b = tracker.issue(2, 0);
    tracker.settle(b);
    tracker.settle(b);
    assert.equal(tracker.inFlight, 1);
    tracker.settle(a);
    assert.equal(commits.length, 1);
    tracker.settle(a);
    tracker.settle(99);
    tracker.settle(-1);
    tracker.settle(0.5);
    assert.equal(commits.length, 1);
    assert.equal(tracker.inFlight, 0);
    assert.deepEqual(tracker.committed, { sec: 2, nsec: 0, count: 1 });
  });

  it('grows past its initial capacity (100k lines in flight) and commits once at the end', () => {
    const { tracker, commits } = recorder();
    const initialCapacity = tracker.capacity;
    const n = 100_000;
    for (let i = 0; i < n; i++) tracker.issue(1_700_000_000 + Math.floor(i / 10), (i % 10) * 1000);
    assert.ok(tracker.capacity >= n && tracker.capacity > initialCapacity);
    assert.equal(tracker.inFlight, n);
    for (let seq = n - 1; seq >= 1; seq--) tracker.settle(seq);
    assert.equal(commits.length, 0, 'seq 0 still open: nothing commits');
    tracker.settle(0);
    assert.deepEqual(commits, [{ sec: 1_700_000_000 + 9_999, nsec: 9000, count: 1 }]);
    assert.equal(tracker.inFlight, 0);

    // Another 100k, settled in a random order: commits only move forward and end at the last line.
    const seqs: number[] = [];
    for (let i = 0; i < n; i++) seqs.push(tracker.issue(1_800_000_000 + Math.floor(i / 3), 0));
    for (const seq of shuffle(seqs, rng(5))) tracker.settle(seq);
    const later = commits.slice(1);
    assert.ok(later.length > 0 && later.length <= n);
    for (let i = 1; i < later.length; i++) {
      const [p, c] = [later[i - 1]!, later[i]!];
      assert.ok(c.sec > p.sec || (c.sec === p.sec && c.count > p.count), 'each commit moves forward');
    }
    assert.deepEqual(tracker.committed, { sec: 1_800_000_000 + 33_333, nsec: 0, count: 1 });
  });

  it('matches a reference model under random interleaving, ring wrap-around, growth and shrinking', () => {
    for (const seed of [1, 2, 3, 42]) {
      const random = rng(seed);
      const { tracker, commits } = recorder(undefined, 4);
      const cursors: Cursor[] = []; // cursor after each seq, computed independently
      const settled: boolean[] = [];
      const open: number[] = [];
      let high: Cursor | undefined;
      let prefix = -1;
      let expectedCommits = 0;
      for (let step = 0; step < 20_000; step++) {
        // Phases of bursts (many issues) and drains (many settles).
        const burst = Math.floor(step / 2000) % 2 === 0;
        if (open.length === 0 || random() < (burst ? 0.7 : 0.3)) {
          const sec = 1000 + Math.floor(step / 7) - (random() < 0.05 ? 1 : 0);
          const nsec = random() < 0.5 ? 0 : 1;
          if (high === undefined || sec > high.sec || (sec === high.sec && nsec > high.nsec)) {
            high = { sec, nsec, count: 1 };
          } else {
            high = { ...high, count: high.count + 1 };
          }
          const seq = tracker.issue(sec, nsec);
          assert.equal(seq, cursors.length);
          cursors.push(high);
          settled.push(false);
          open.push(seq);
        } else {
          const idx = Math.floor(random() * open.length);
          const seq = open[idx]!;
          open[idx] = open[open.length - 1]!;
          open.pop();
          settled[seq] = true;
          const before = prefix;
          while (settled[prefix + 1] === true) prefix += 1;
          tracker.settle(seq);
          if (prefix !== before) expectedCommits += 1;
          assert.deepEqual(tracker.committed, prefix >= 0 ? cursors[prefix] : undefined);
        }
        assert.equal(tracker.inFlight, open.length);
        assert.equal(commits.length, expectedCommits);
      }
      for (const seq of open.splice(0)) tracker.settle(seq);
      assert.deepEqual(tracker.committed, cursors.at(-1));
    }
  });

  it('shrinks back after a burst once the window stays small', () => {
    const { tracker } = recorder(undefined, 16);
    for (let i = 0; i < 5000; i++) tracker.issue(i, 0);
    const big = tracker.capacity;
    assert.ok(big >= 5000);
    for (let seq = 0; seq < 5000; seq++) tracker.settle(seq);
    // Steady traffic with a small window.
    for (let i = 0; i < 4 * big; i++) tracker.settle(tracker.issue(10_000 + i, 0));
    assert.equal(tracker.capacity, 16);
    assert.deepEqual(tracker.committed, { sec: 10_000 + 4 * big - 1, nsec: 0, count: 1 });
  });
});

describe('ResumeFilter', () => {
  const T = (sec: number, nsec: number) => [sec, nsec] as [number, number];
  const cases: Array<{
    name: string;
    cursor: Cursor | undefined;
    lines: Array<[number, number]>;
    skip: boolean[];
  }> = [
    { name: 'no cursor: skips nothing', cursor: undefined, lines: [T(1, 0), T(1, 0)], skip: [false, false] },
    {
      name: 'skips count lines at the cursor, then delivers',
      cursor: { sec: 10, nsec: 5, count: 2 },
      lines: [T(10, 5), T(10, 5), T(10, 5), T(11, 0)],
      skip: [true, true, false, false],
    },
    {
      name: 'count 0 (a migrated Promtail second): delivers from the first line',
      cursor: { sec: 10, nsec: 0, count: 0 },
      lines: [T(10, 0), T(10, 3)],
      skip: [false, false],
    },
    {
      name: 'a newer line ends the skipping for good',
      cursor: { sec: 10, nsec: 5, count: 3 },
      lines: [T(10, 5), T(10, 6), T(10, 5)],
      skip: [true, false, false],
    },
    {
      name: 'older lines before the anchor are skipped without counting',
      cursor: { sec: 10, nsec: 5, count: 2 },
      lines: [T(9, 0), T(10, 4), T(10, 5), T(10, 5), T(10, 5)],
      skip: [true, true, true, true, false],
    },
    {
      name: 'older lines after the anchor count, as the tracker counted them',
      cursor: { sec: 10, nsec: 5, count: 3 },
      lines: [T(10, 5), T(10, 1), T(10, 5), T(10, 1)],
      skip: [true, true, true, false],
    },
  ];
  for (const { name, cursor, lines, skip } of cases) {
    it(name, () => {
      const filter = new ResumeFilter(cursor);
      assert.deepEqual(
        lines.map(([s, n]) => filter.skip(s, n)),
        skip,
      );
      assert.equal(filter.active, false);
    });
  }

  it('delivers exactly the lines after a committed cursor when Docker replays since it (random streams)', () => {
    const random = rng(7);
    for (let round = 0; round < 300; round++) {
      // A stream with repeated and occasionally out-of-order timestamps.
      const lines: Array<[number, number]> = [];
      let sec = 50;
      for (let i = 0; i < 40; i++) {
        const r = random();
        if (r < 0.3) sec += 1;
        const late = random() < 0.1 ? 1 : 0;
        lines.push([sec - late, random() < 0.3 ? 1 : 0]);
      }
      // Deliver a random prefix [0, k) and commit it.
      const k = 1 + Math.floor(random() * lines.length);
      const tracker = new CursorTracker(undefined, () => {});
      for (let i = 0; i < k; i++) tracker.settle(tracker.issue(...lines[i]!));
      const cursor = tracker.committed!;
      // Docker: since is inclusive and only checked until the first line that passes it.
      const first = lines.findIndex(([s, n]) => s > cursor.sec || (s === cursor.sec && n >= cursor.nsec));
      const replay = first < 0 ? [] : lines.slice(first);
      const filter = new ResumeFilter(cursor);
      const resumed = new CursorTracker(cursor, () => {});
      const delivered: Array<[number, number]> = [];
      for (const line of replay) {
        if (filter.skip(...line)) continue;
        delivered.push(line);
        resumed.settle(resumed.issue(...line));
      }
      assert.deepEqual(delivered, lines.slice(k), `round ${round}, k=${k}`);
      // The resumed tracker ends where one that saw everything would.
      const whole = new CursorTracker(undefined, () => {});
      for (const line of lines) whole.settle(whole.issue(...line));
      assert.deepEqual(resumed.committed, whole.committed);
    }
  });
});
