// The positions store writes a change soon after it happens (once started), at most once per
// minWriteIntervalMs, so the file trails Loki's acceptance by one push rather than a sync period.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { PositionsError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { PositionsStore, type PositionsStoreOptions } from '../../src/positions/store.js';

const ID = 'e'.repeat(64);
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function fileIn(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'docktail-eager-'));
  dirs.push(d);
  return join(d, 'positions.json');
}

async function open(
  filename: string,
  o: Partial<PositionsStoreOptions> = {},
): Promise<{ store: PositionsStore; metrics: Metrics }> {
  const metrics = new Metrics();
  // A sync period far away: whatever is written within a test was written by the write-soon.
  const store = await PositionsStore.open({
    filename,
    syncPeriodMs: 60_000,
    logger: silentLogger,
    metrics,
    ...o,
  });
  return { store, metrics };
}

/** The cursor of ID in the file, `sec.nsec#count`, or undefined when the file or entry is missing. */
async function onDisk(file: string): Promise<string | undefined> {
  try {
    const e = JSON.parse(await readFile(file, 'utf8')).containers[ID];
    return e === undefined ? undefined : `${e.ts}#${e.count}`;
  } catch {
    return undefined;
  }
}

async function eventually(file: string, want: string, withinMs: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < withinMs) {
    if ((await onDisk(file)) === want) return performance.now() - start;
    await delay(2);
  }
  assert.fail(`${want} not on disk within ${withinMs} ms (found ${await onDisk(file)})`);
}

describe('PositionsStore write-soon', () => {
  it('writes a change within milliseconds once started, not at the sync period', async () => {
    const file = await fileIn();
    const { store } = await open(file);
    store.start();
    // The settles of one accepted push: many changes in one turn, the last one wins.
    for (let k = 1; k <= 100; k++) store.set(ID, { sec: 7, nsec: k, count: 1 });
    const ms = await eventually(file, '7.000000100#1', 1000);
    assert.ok(ms < 500, `took ${ms} ms`);
    await store.stop();
  });

  it('writes at most once per minWriteIntervalMs, and the last change always lands', async () => {
    const file = await fileIn();
    const { store } = await open(file, { minWriteIntervalMs: 1000 });
    store.start();
    store.set(ID, { sec: 1, nsec: 0, count: 1 });
    await eventually(file, '1.000000000#1', 500);
    store.set(ID, { sec: 2, nsec: 0, count: 1 });
    await delay(120);
    assert.equal(await onDisk(file), '1.000000000#1', 'the second change waits for the interval');
    store.set(ID, { sec: 3, nsec: 0, count: 2 });
    await eventually(file, '3.000000000#2', 1500);
    await store.stop();
  });

  it('does not write before start(), after stop(), with Infinity, or read-only', async () => {
    const cases: Array<[string, Partial<PositionsStoreOptions>, boolean]> = [
      ['not started', {}, false],
      ['Infinity', { minWriteIntervalMs: Number.POSITIVE_INFINITY }, true],
      ['read-only', { readOnly: true }, true],
    ];
    for (const [what, options, start] of cases) {
      const file = await fileIn();
      const { store } = await open(file, options);
      if (start) store.start();
      store.set(ID, { sec: 4, nsec: 0, count: 1 });
      await delay(80);
      assert.equal(await onDisk(file), undefined, what);
      if (!options.readOnly) {
        await store.flush();
        assert.equal(await onDisk(file), '4.000000000#1', `${what}: flush() still writes`);
      }
      await store.stop();
    }
    const file = await fileIn();
    const { store } = await open(file);
    store.start();
    await store.stop();
    store.set(ID, { sec: 5, nsec: 0, count: 1 });
    await delay(80);
    assert.equal(await onDisk(file), undefined, 'after stop()');
  });

  it('writes what changed before start() at once', async () => {
    const file = await fileIn();
    const { store } = await open(file);
    store.set(ID, { sec: 6, nsec: 0, count: 3 });
    store.start();
    await eventually(file, '6.000000000#3', 500);
    await store.stop();
  });

  it('leaves retries to the sync period while writes fail, and writes soon again once they work', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'docktail-eager-'));
    dirs.push(dir);
    const sub = join(dir, 'sub');
    const file = join(sub, 'positions.json');
    const { store, metrics } = await open(file, { minWriteIntervalMs: 0 });
    const errors = async () => (await metrics.positionsWriteErrors.get()).values[0]?.value ?? 0;
    store.start();
    // The directory turns into a regular file: every write fails from now on, even as root.
    await rm(sub, { recursive: true });
    await writeFile(sub, 'a regular file');
    store.set(ID, { sec: 8, nsec: 0, count: 1 });
    await delay(50);
    assert.equal(await errors(), 1, 'one write-soon tried and failed');
    for (let i = 0; i < 20; i++) {
      store.set(ID, { sec: 9 + i, nsec: 0, count: 1 });
      await delay(2);
    }
    assert.equal(await errors(), 1, 'no write per change while failing');
    await rm(sub);
    await store.flush(); // the sync period's turn
    assert.ok(store.health().ok);
    store.set(ID, { sec: 99, nsec: 0, count: 1 });
    await eventually(file, '99.000000000#1', 500);
    await store.stop();
  });

  it('refuses a negative interval', async () => {
    await assert.rejects(open(await fileIn(), { minWriteIntervalMs: -1 }), PositionsError);
  });
});
