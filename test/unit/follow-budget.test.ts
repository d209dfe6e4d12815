import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createLogger } from '../../src/core/logger.js';
import { FollowBudget, readInotifyLimit, suggestedLimit } from '../../src/docker/follow-budget.js';

function logged(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'info', write: (line: string) => lines.push(line) }) };
}

describe('FollowBudget', () => {
  test('warns once, with the fix, when the open streams pass the limit', () => {
    const { lines, logger } = logged();
    const budget = new FollowBudget({ logger, local: true, readLimit: () => 3 });
    for (let i = 0; i < 3; i++) budget.opened();
    assert.equal(lines.length, 0, 'at the limit: no warning');
    budget.opened();
    assert.equal(budget.open, 4);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /max_user_instances/);
    assert.match(lines[0]!, /follow_streams=4/);
    assert.match(lines[0]!, /sysctl -w fs\.inotify\.max_user_instances=8192/);
    budget.closed();
    budget.closed();
    budget.opened();
    budget.opened();
    assert.equal(lines.length, 1, 'warned once');
  });

  test('reads the limit again before warning, so a raised limit is not reported', () => {
    const { lines, logger } = logged();
    let limit = 1;
    const budget = new FollowBudget({ logger, local: true, readLimit: () => limit });
    assert.equal(budget.limit, 1);
    limit = 10;
    budget.opened();
    budget.opened();
    assert.equal(lines.length, 0);
    assert.equal(budget.limit, 10);
  });

  test('a remote engine is counted but has no budget here', () => {
    const { lines, logger } = logged();
    const budget = new FollowBudget({ logger, local: false, readLimit: () => 1 });
    for (let i = 0; i < 5; i++) budget.opened();
    assert.equal(budget.open, 5);
    assert.equal(budget.limit, undefined);
    assert.equal(lines.length, 0);
  });

  test('closing never goes below zero', () => {
    const budget = new FollowBudget({ logger: logged().logger, local: true, readLimit: () => undefined });
    budget.closed();
    assert.equal(budget.open, 0);
  });

  test('suggests room for twice the streams, at least 8192', () => {
    const table: Array<[number, number]> = [
      [0, 8192],
      [129, 8192],
      [4096, 8192],
      [4097, 16384],
      [10000, 32768],
    ];
    for (const [open, expected] of table) assert.equal(suggestedLimit(open), expected, `for ${open}`);
  });

  test('readInotifyLimit reads the number, or nothing when the file is missing or odd', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inotify-'));
    try {
      const file = join(dir, 'max_user_instances');
      writeFileSync(file, '128\n');
      assert.equal(readInotifyLimit(file), 128);
      writeFileSync(file, 'lots\n');
      assert.equal(readInotifyLimit(file), undefined);
      assert.equal(readInotifyLimit(join(dir, 'missing')), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
