import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { PositionsError } from '../../src/core/errors.js';
import { createLogger, type LogFields } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { PositionsStore, type PositionsStoreOptions } from '../../src/positions/store.js';

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'docktail-positions-'));
  dirs.push(d);
  return d;
}

interface Env {
  logs: LogFields[];
  metrics: Metrics;
  open(overrides?: Partial<PositionsStoreOptions>): Promise<PositionsStore>;
}

function env(filename: string): Env {
  const logs: LogFields[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: line => logs.push(JSON.parse(line)) });
  const metrics = new Metrics();
  return {
    logs,
    metrics,
    open: overrides => PositionsStore.open({ filename, syncPeriodMs: 60_000, logger, metrics, ...overrides }),
  };
}

async function writeErrors(metrics: Metrics): Promise<number> {
  return (await metrics.positionsWriteErrors.get()).values[0]?.value ?? 0;
}

function messages(logs: LogFields[], level?: string): string[] {
  return logs.filter(l => level === undefined || l.level === level).map(l => String(l.msg));
}

const V1 = (containers: Record<string, unknown>) => `${JSON.stringify({ version: 1, containers })}\n`;

describe('PositionsStore', () => {
  it('round-trips positions through the file, creating the directory', async () => {
    const file = join(await tempDir(), 'nested', 'dir', 'positions.yaml');
    const e = env(file);
    const store = await e.open({ now: () => Date.parse('2026-01-02T03:04:05.678Z') });
    assert.equal(store.get(ID_A), undefined);
    store.set(ID_A, { sec: 1_700_000_000, nsec: 42, count: 3 }, '/web-1');
    store.set(ID_B, { sec: 1_700_000_001, nsec: 0, count: 1 });
    await store.stop();

    const doc = JSON.parse(await readFile(file, 'utf8'));
    assert.deepEqual(doc, {
      version: 1,
      containers: {
        [ID_A]: { ts: '1700000000.000000042', count: 3, name: '/web-1', updated: '2026-01-02T03:04:05.678Z' },
        [ID_B]: { ts: '1700000001.000000000', count: 1, updated: '2026-01-02T03:04:05.678Z' },
      },
    });
    assert.equal((await stat(file)).mode & 0o777, 0o600);

    const again = await env(file).open();
    assert.deepEqual(again.get(ID_A), { sec: 1_700_000_000, nsec: 42, count: 3 });
    assert.deepEqual(again.get(ID_B), { sec: 1_700_000_001, nsec: 0, count: 1 });
    assert.deepEqual(again.ids().sort(), [ID_A, ID_B]);
    assert.ok(again.health().ok);
  });

  it('writes through a tmp file and a rename, and only when something changed', async () => {
    const dir = await tempDir();
    const file = join(dir, 'positions.json');
    const e = env(file);
    const store = await e.open();
    store.set(ID_A, { sec: 10, nsec: 0, count: 1 });
    await store.flush();
    assert.deepEqual(await readdir(dir), ['positions.json'], 'no tmp file left behind');
    const first = await stat(file);

    await store.flush(); // nothing changed
    store.set(ID_A, { sec: 10, nsec: 0, count: 1 }); // same cursor: no change
    await store.flush();
    assert.equal((await stat(file)).ino, first.ino, 'file not rewritten without a change');

    store.set(ID_A, { sec: 11, nsec: 0, count: 1 });
    await store.flush();
    const second = await stat(file);
    assert.notEqual(
      second.ino,
      first.ino,
      'a new inode: the file was replaced by rename, not rewritten in place',
    );
    assert.deepEqual(await readdir(dir), ['positions.json']);
    assert.ok(store.health().lastWriteAt !== undefined);
    await store.stop();
  });

  it('writes every sync period once started, and stop() is idempotent', async () => {
    const file = join(await tempDir(), 'positions.json');
    const store = await env(file).open({ syncPeriodMs: 20 });
    store.start();
    store.set(ID_A, { sec: 5, nsec: 6, count: 7 });
    for (let i = 0; i < 100; i++) {
      if (store.health().lastWriteAt !== undefined) break;
      await delay(10);
    }
    assert.match(await readFile(file, 'utf8'), /"ts":"5\.000000006","count":7/);
    const p1 = store.stop();
    assert.equal(store.stop(), p1);
    await p1;
  });

  it('keeps the newer positions of a complete leftover tmp file, then removes it', async () => {
    const dir = await tempDir();
    const file = join(dir, 'positions.json');
    await writeFile(
      file,
      V1({
        [ID_A]: { ts: '100.000000000', count: 1, updated: '2026-01-01T00:00:00Z' },
        [ID_B]: { ts: '300.000000000', count: 2, updated: '2026-01-01T00:00:00Z' },
      }),
    );
    await writeFile(
      `${file}.tmp`,
      V1({
        [ID_A]: { ts: '200.000000000', count: 4, updated: '2026-01-01T00:00:10Z' },
        [ID_B]: { ts: '300.000000000', count: 1, updated: '2026-01-01T00:00:10Z' },
        c: { ts: '1.000000000', count: 1 },
      }),
    );
    const e = env(file);
    const store = await e.open();
    assert.deepEqual(store.get(ID_A), { sec: 200, nsec: 0, count: 4 }, 'newer in tmp');
    assert.deepEqual(store.get(ID_B), { sec: 300, nsec: 0, count: 2 }, 'newer in the main file');
    assert.deepEqual(store.get('c'), { sec: 1, nsec: 0, count: 1 });
    assert.deepEqual((await readdir(dir)).sort(), ['positions.json']);
    const log = e.logs.find(l => String(l.msg).includes('complete temporary file'));
    assert.equal(log?.newerInTmp, 2);
    await store.stop();
    const doc = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(doc.containers[ID_A].ts, '200.000000000');
  });

  it('ignores and removes a truncated leftover tmp file', async () => {
    const dir = await tempDir();
    const file = join(dir, 'positions.json');
    await writeFile(file, V1({ [ID_A]: { ts: '100.000000000', count: 1 } }));
    const full = V1({ [ID_A]: { ts: '999.000000000', count: 1 }, [ID_B]: { ts: '5.000000000', count: 1 } });
    await writeFile(`${file}.tmp`, full.slice(0, Math.floor(full.length / 2)));
    const e = env(file);
    const store = await e.open();
    assert.deepEqual(store.get(ID_A), { sec: 100, nsec: 0, count: 1 });
    assert.equal(store.get(ID_B), undefined);
    assert.deepEqual(await readdir(dir), ['positions.json']);
    assert.ok(messages(e.logs, 'warn').some(m => m.includes('incomplete temporary file')));
    await store.stop();
  });

  const corrupt: Array<{ name: string; text: string; reason: RegExp }> = [
    {
      name: 'truncated JSON',
      text: '{"version":1,"containers":{"abc":{"ts":"1',
      reason: /not valid JSON or YAML/,
    },
    { name: 'not an object', text: 'just words\n', reason: /top level is not an object/ },
    { name: 'unknown shape', text: 'foo: 1\n', reason: /neither a docktail positions file/ },
    {
      name: 'a bad timestamp',
      text: V1({ [ID_A]: { ts: '1700000000.5', count: 1 } }),
      reason: new RegExp(`containers\\["${ID_A}"\\]\\.ts`),
    },
    { name: 'a negative count', text: V1({ [ID_A]: { ts: '1.000000000', count: -1 } }), reason: /count/ },
    {
      name: 'a Promtail cursor that is not seconds',
      text: 'positions:\n  cursor-abc: "x"\n',
      reason: /cursor-abc/,
    },
  ];
  for (const { name, text, reason } of corrupt) {
    it(`refuses a corrupt file (${name}), naming the file`, async () => {
      const file = join(await tempDir(), 'positions.yaml');
      await writeFile(file, text);
      await assert.rejects(env(file).open(), (err: unknown) => {
        assert.ok(err instanceof PositionsError);
        assert.equal(err.code, 'POSITIONS');
        assert.ok(err.message.includes(file), err.message);
        assert.match(err.message, reason);
        return true;
      });
      assert.equal(await readFile(file, 'utf8'), text, 'the file is left as it was');
    });
  }

  it('refuses a file from a newer version even with ignoreInvalidYaml', async () => {
    const file = join(await tempDir(), 'positions.json');
    await writeFile(file, JSON.stringify({ version: 2, containers: {} }));
    await assert.rejects(
      env(file).open({ ignoreInvalidYaml: true }),
      /version 2, newer than this docktail reads \(1\)/,
    );
  });

  it('starts empty on a corrupt file with ignoreInvalidYaml, says so, and overwrites it later', async () => {
    const file = join(await tempDir(), 'positions.yaml');
    await writeFile(file, '{"version":1,"containers":{"abc"');
    const e = env(file);
    const store = await e.open({ ignoreInvalidYaml: true });
    assert.deepEqual(store.ids(), []);
    assert.ok(messages(e.logs, 'warn').some(m => m.includes('ignore_invalid_yaml')));
    await store.stop();
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { version: 1, containers: {} });
  });

  it('migrates a Promtail positions file once, ignoring file targets and keeping a backup', async () => {
    const dir = await tempDir();
    const file = join(dir, 'positions.yaml');
    const promtail = `positions:\n  cursor-${ID_A}: "1700000123"\n  /var/log/x.log: "123"\n  cursor-${ID_B}: 1700000456\n`;
    await writeFile(file, promtail);
    const e = env(file);
    const store = await e.open();
    assert.deepEqual(store.get(ID_A), { sec: 1_700_000_123, nsec: 0, count: 0 });
    assert.deepEqual(store.get(ID_B), { sec: 1_700_000_456, nsec: 0, count: 0 });
    assert.deepEqual(store.ids().sort(), [ID_A, ID_B]);
    assert.equal(messages(e.logs).filter(m => m.includes('migrating Promtail')).length, 1);
    const ignored = e.logs.filter(l => String(l.msg).includes('not Docker containers'));
    assert.equal(ignored.length, 1);
    assert.equal(ignored[0]?.count, 1);
    await store.stop();

    assert.equal(await readFile(`${file}.promtail-backup`, 'utf8'), promtail);
    const doc = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(doc.version, 1);
    assert.equal(doc.containers[ID_A].ts, '1700000123.000000000');
    assert.equal(doc.containers[ID_A].count, 0);

    const e2 = env(file);
    const again = await e2.open();
    assert.deepEqual(again.get(ID_A), { sec: 1_700_000_123, nsec: 0, count: 0 });
    assert.equal(messages(e2.logs).filter(m => m.includes('Promtail')).length, 0, 'migrated only once');
  });

  it('reads an empty Promtail file as no positions', async () => {
    const file = join(await tempDir(), 'positions.yaml');
    await writeFile(file, 'positions:\n');
    const store = await env(file).open();
    assert.deepEqual(store.ids(), []);
  });

  it('survives an unwritable location: health not ok, counted, logged once, recovers when writable', async () => {
    const dir = await tempDir();
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'a regular file'); // a path under it fails even for root
    const file = join(blocker, 'positions.json');
    const e = env(file);
    const store = await e.open();
    assert.equal(store.health().ok, false, 'the directory cannot be created');
    assert.equal(await writeErrors(e.metrics), 1);

    store.set(ID_A, { sec: 1, nsec: 2, count: 3 });
    await store.flush();
    await store.flush();
    const h = store.health();
    assert.equal(h.ok, false);
    assert.match(h.lastError ?? '', /ENOTDIR|EEXIST/);
    assert.equal(h.lastWriteAt, undefined);
    assert.equal(await writeErrors(e.metrics), 3, 'every failed attempt is counted');
    assert.equal(messages(e.logs, 'error').length, 1, 'the same error is logged once');
    assert.deepEqual(store.get(ID_A), { sec: 1, nsec: 2, count: 3 }, 'data kept in memory');

    await rm(blocker);
    await store.flush();
    assert.equal(store.health().ok, true);
    assert.ok(store.health().lastWriteAt !== undefined);
    assert.ok(messages(e.logs, 'info').includes('positions file written again'));
    assert.equal(JSON.parse(await readFile(file, 'utf8')).containers[ID_A].ts, '1.000000002');
    await store.stop();
  });

  it('never writes, creates or removes anything when read-only', async () => {
    const dir = await tempDir();
    const file = join(dir, 'positions.yaml');
    const promtail = `positions:\n  cursor-${ID_A}: "100"\n`;
    await writeFile(file, promtail);
    await writeFile(`${file}.tmp`, 'garbage{');
    const store = await env(file).open({ readOnly: true, syncPeriodMs: 5 });
    assert.deepEqual(store.get(ID_A), { sec: 100, nsec: 0, count: 0 });
    store.start();
    store.set(ID_B, { sec: 5, nsec: 0, count: 1 });
    await delay(30);
    await store.flush();
    await store.stop();
    assert.equal(await readFile(file, 'utf8'), promtail);
    assert.deepEqual((await readdir(dir)).sort(), ['positions.yaml', 'positions.yaml.tmp']);
    assert.ok(store.health().ok);

    const missing = join(dir, 'absent', 'positions.json');
    const ro = await env(missing).open({ readOnly: true });
    ro.set(ID_A, { sec: 1, nsec: 0, count: 1 });
    await ro.stop();
    assert.deepEqual(
      (await readdir(dir)).sort(),
      ['positions.yaml', 'positions.yaml.tmp'],
      'no directory made',
    );
  });

  it('expires ids that are gone and not updated for long, keeping live and recent ones', async () => {
    const file = join(await tempDir(), 'positions.json');
    let now = 1_000_000;
    const store = await env(file).open({ now: () => now });
    store.set('old-gone', { sec: 1, nsec: 0, count: 1 });
    store.set('old-live', { sec: 1, nsec: 0, count: 1 });
    now += 10_000;
    store.set('recent-gone', { sec: 1, nsec: 0, count: 1 });
    now += 1_000;
    assert.deepEqual(store.expire(new Set(['old-live']), 5_000), ['old-gone']);
    assert.deepEqual(store.ids().sort(), ['old-live', 'recent-gone']);
    assert.deepEqual(store.expire(new Set(['old-live']), 5_000), []);
    await store.stop();
    assert.deepEqual(Object.keys(JSON.parse(await readFile(file, 'utf8')).containers).sort(), [
      'old-live',
      'recent-gone',
    ]);
  });

  it('removes an id and writes the removal', async () => {
    const file = join(await tempDir(), 'positions.json');
    const store = await env(file).open();
    store.set(ID_A, { sec: 1, nsec: 0, count: 1 });
    store.set(ID_B, { sec: 1, nsec: 0, count: 1 });
    await store.flush();
    store.remove(ID_A);
    await store.stop();
    assert.deepEqual(Object.keys(JSON.parse(await readFile(file, 'utf8')).containers), [ID_B]);
  });
});
