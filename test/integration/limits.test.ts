// Edge cases end to end: limits_config.max_line_size (truncated on a UTF-8 boundary, or dropped and
// counted), and two clients, one of them failing: both get every line, and the position never passes
// what both have accepted.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { compareTimestamps, formatTimestamp } from '../../src/core/types.js';
import type { ReceivedEntry } from '../fakes/loki-receiver.js';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import type { AgentProcess } from '../harness/agent.js';
import { startAgent } from '../harness/agent.js';
import { compareDelivery } from '../harness/compare.js';
import {
  docker,
  groundTruth,
  parseRfc3339Nano,
  removeContainers,
  runContainer,
  uniqueName,
  waitExit,
} from '../harness/docker.js';
import { entriesOf, expectDelivered, runLabel, tempDir, writeTestConfig } from '../harness/setup.js';

const created: string[] = [];
after(() => removeContainers(created));

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/**
 * Written to stderr in the middle of a long stdout line: the engine has sent the line's first 16 KiB part
 * (more than 16 KiB written) and waits for the rest, so these lines come between the line's parts.
 */
const NOISE_LINES = ['noise 1', 'noise 2'];
const NOISE = 'usleep 200000; echo noise 1 >&2; echo noise 2 >&2; usleep 200000;';

function byStream(entries: readonly ReceivedEntry[]): { stdout: ReceivedEntry[]; stderr: ReceivedEntry[] } {
  return {
    stdout: entries.filter(e => e.labels.stream === 'stdout'),
    stderr: entries.filter(e => e.labels.stream === 'stderr'),
  };
}

async function portOf(agent: AgentProcess): Promise<number> {
  const line = await agent.waitForLog(/msg=listening/);
  return Number(/ port=(\d+)/.exec(line)?.[1]);
}

/** Sum of every series of `name` whose labels include `match` (e.g. `reason="line_too_long"`). */
function metricSum(text: string, name: string, match: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(match))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('max_line_size', () => {
  async function start(maxLineSize: string, truncate: boolean) {
    // Each agent follows its own containers only: a new label per agent.
    const label = runLabel();
    const receiver = await startLokiReceiver();
    const dir = tempDir('limits');
    const config = writeTestConfig({
      dir,
      receiverUrl: receiver.url,
      runLabel: label,
      batchwait: '100ms',
      maxLineSize,
      truncate,
    });
    const agent = startAgent({ args: [`-config.file=${config}`] });
    const port = await portOf(agent);
    await agent.waitForLog(/first discovery done/);
    const metrics = () => fetch(`http://127.0.0.1:${port}/metrics`).then(r => r.text());
    const targets = () =>
      fetch(`http://127.0.0.1:${port}/targets`)
        .then(r => r.json())
        .then(j => (j as { targets: Array<{ id: string; cursor?: string }> }).targets);
    return { label, receiver, agent, metrics, targets };
  }

  test('with max_line_size_truncate: a 40 KiB line arrives cut to the limit on a UTF-8 boundary', async () => {
    const { label, receiver, agent, metrics } = await start('1000', true);
    try {
      const name = uniqueName('truncate');
      // 'a' then 20,480 two-byte 'é': 40,961 bytes. A cut at 1000 bytes would split the 500th 'é', so
      // 999 bytes are kept. Stderr lines come between the line's parts.
      const id = await runContainer(
        `printf a; yes é | head -n 10000 | tr -d '\\n'; ${NOISE} yes é | head -n 10480 | tr -d '\\n'; echo; echo after`,
        { name, labels: { 'docktail.test': label } },
      );
      created.push(id);
      await waitExit(id);
      await receiver.waitFor(() => entriesOf(receiver, name).length >= 2 + NOISE_LINES.length, 10_000);
      await sleep(300);
      const got = byStream(entriesOf(receiver, name));
      const expected = `a${'é'.repeat(499)}`;
      assert.deepEqual(
        got.stdout.map(e => [Buffer.byteLength(e.line), e.line.length]),
        [
          [999, 500],
          [5, 5],
        ],
        'the long line cut to 999 bytes, once; the next one whole',
      );
      assert.deepEqual(
        got.stdout.map(e => e.line),
        [expected, 'after'],
      );
      assert.deepEqual(
        got.stderr.map(e => e.line),
        NOISE_LINES,
      );
      const truth = (await groundTruth(id)).filter(t => t.stream === 'stdout');
      // (json-file stores 16 KiB parts as JSON strings: an 'é' split across parts becomes two U+FFFD.)
      assert.ok(Buffer.byteLength(truth[0]!.line) > 40_960, 'the engine holds the whole line');
      assert.ok(truth[0]!.line.startsWith(expected));
      assert.deepEqual(
        got.stdout.map(e => formatTimestamp(e.sec, e.nsec)),
        truth.map(t => {
          const { sec, nsec } = parseRfc3339Nano(t.ts);
          return formatTimestamp(sec, nsec);
        }),
        'each line keeps its own timestamp',
      );
      const text = await metrics();
      assert.equal(metricSum(text, 'docktail_truncated_entries_total', `container="${name}"`), 1);
      assert.equal(metricSum(text, 'docktail_dropped_entries_total', 'reason="line_too_long"'), 0);
    } finally {
      await agent.stop();
      await receiver.close();
    }
  });

  test('without truncation: the long line is dropped and counted, the following lines arrive', async () => {
    const { label, receiver, agent, metrics, targets } = await start('1000', false);
    try {
      const name = uniqueName('drop');
      const id = await runContainer(
        `echo before; head -c 20000 /dev/zero | tr '\\0' x; ${NOISE} head -c 20960 /dev/zero | tr '\\0' x; echo; echo after1; echo after2`,
        { name, labels: { 'docktail.test': label } },
      );
      created.push(id);
      await waitExit(id);
      await receiver.waitFor(() => entriesOf(receiver, name).length >= 3 + NOISE_LINES.length, 10_000);
      await sleep(300);
      const got = byStream(entriesOf(receiver, name));
      assert.deepEqual(
        got.stdout.map(e => e.line),
        ['before', 'after1', 'after2'],
      );
      assert.deepEqual(
        got.stderr.map(e => e.line),
        NOISE_LINES,
      );
      const text = await metrics();
      assert.equal(metricSum(text, 'docktail_dropped_entries_total', 'reason="line_too_long"'), 1, text);
      // The dropped line does not hold the position back: it reaches the newest line.
      const newest = (await groundTruth(id))
        .map(t => parseRfc3339Nano(t.ts))
        .sort((a, b) => compareTimestamps(a.sec, a.nsec, b.sec, b.nsec))
        .at(-1)!;
      const at = `${formatTimestamp(newest.sec, newest.nsec)}#`;
      const deadline = Date.now() + 5_000;
      let cursor: string | undefined;
      while (Date.now() < deadline) {
        cursor = (await targets()).find(t => t.id === id)?.cursor;
        if (cursor?.startsWith(at)) break;
        await sleep(100);
      }
      assert.ok(cursor?.startsWith(at), `cursor ${cursor} at the newest line ${at}`);
    } finally {
      await agent.stop();
      await receiver.close();
    }
  });
});

describe('two clients', () => {
  const WRITER =
    'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo "seq $i"; echo "err $i" >&2; usleep 10000; done';

  async function setup() {
    const a = await startLokiReceiver();
    const b = await startLokiReceiver();
    const dir = tempDir('two-clients');
    const label = runLabel();
    const config = writeTestConfig({
      dir,
      receiverUrl: a.url,
      runLabel: label,
      batchwait: '100ms',
      extraClient: `  - url: ${b.url}
    batchwait: 100ms
    timeout: 2s
    backoff_config:
      min_period: 100ms
      max_period: 500ms
      max_retries: 3
`,
    });
    return { a, b, dir, label, config, positions: join(dir, 'positions.yaml') };
  }

  /** The saved cursor of a container, from the positions file. */
  function savedCursor(file: string, id: string): { sec: number; nsec: number; count: number } | undefined {
    if (!existsSync(file)) return undefined;
    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      containers: Record<string, { ts: string; count: number }>;
    };
    const entry = doc.containers[id];
    if (!entry) return undefined;
    const [sec, nsec] = entry.ts.split('.').map(Number);
    return { sec: sec!, nsec: nsec!, count: entry.count };
  }

  const newest = (entries: readonly ReceivedEntry[]) =>
    entries.reduce<ReceivedEntry | undefined>(
      (m, e) => (m === undefined || compareTimestamps(e.sec, e.nsec, m.sec, m.nsec) > 0 ? e : m),
      undefined,
    );

  test('both receive every line, once, through a 503 outage of one of them', async () => {
    const { a, b, label, config } = await setup();
    const agent = startAgent({ args: [`-config.file=${config}`] });
    try {
      await agent.waitForLog(/first discovery done/);
      const name = uniqueName('both');
      const id = await runContainer(WRITER, { name, labels: { 'docktail.test': label } });
      created.push(id);
      await b.waitFor(() => entriesOf(b, name).length > 20, 10_000);
      b.failWith(503, { untilMs: 2500 });
      const atFailure = entriesOf(a, name).length;
      await sleep(2500);
      assert.ok(entriesOf(a, name).length > atFailure + 50, 'the healthy client kept receiving');
      assert.ok(
        b.requests().some(r => r.status === 503),
        'the other one was refusing',
      );
      await sleep(1000);
      await docker(['stop', '-t', '2', id]);
      const da = await expectDelivered(a, id, name);
      const db = await expectDelivered(b, id, name);
      assert.equal(da.delivered, db.delivered);
      assert.ok(da.written > 300, `${da.written} lines written`);
    } finally {
      await agent.stop();
      await a.close();
      await b.close();
    }
  });

  test('while one fails, the position stays at what both accepted; after a restart nothing is lost', async () => {
    const { a, b, label, config, positions } = await setup();
    let agent = startAgent({ args: [`-config.file=${config}`] });
    const name = uniqueName('hold');
    let id = '';
    try {
      await agent.waitForLog(/first discovery done/);
      id = await runContainer(WRITER, { name, labels: { 'docktail.test': label } });
      created.push(id);
      await b.waitFor(() => entriesOf(b, name).length > 20, 10_000);
      b.failWith(503);
      await sleep(1500);
      // The periodic write (sync_period 500ms) while b refuses: never past b's newest line.
      const bNewest = newest(entriesOf(b, name))!;
      const during = savedCursor(positions, id);
      assert.ok(during, 'the position was written during the outage');
      assert.ok(compareTimestamps(during.sec, during.nsec, bNewest.sec, bNewest.nsec) <= 0, 'not past b');
      await sleep(1000);
      assert.equal(await agent.stop('SIGTERM'), 0, 'a graceful stop, even with a client down');
    } finally {
      await agent.stop('SIGKILL');
    }
    const bGot = entriesOf(b, name);
    const aGot = entriesOf(a, name);
    assert.ok(aGot.length > bGot.length + 100, `a got ${aGot.length} lines, b ${bGot.length}`);
    const cursor = savedCursor(positions, id);
    assert.ok(cursor);
    const bLast = newest(bGot)!;
    assert.equal(
      formatTimestamp(cursor.sec, cursor.nsec),
      formatTimestamp(bLast.sec, bLast.nsec),
      'the saved position is the newest line both accepted',
    );
    assert.ok(newest(aGot)!.sec + newest(aGot)!.nsec / 1e9 > cursor.sec + cursor.nsec / 1e9);

    b.clearFaults();
    agent = startAgent({ args: [`-config.file=${config}`] });
    try {
      await agent.waitForLog(/first discovery done/);
      await sleep(1000);
      await docker(['stop', '-t', '2', id]);
      // b: every line exactly once. a: every line; a second copy only of lines past the saved position.
      await expectDelivered(b, id, name);
      const truth = await groundTruth(id);
      await a.waitFor(() => compareDelivery(truth, entriesOf(a, name)).lost === 0, 10_000);
      const seen = new Set<string>();
      for (const e of entriesOf(a, name)) {
        const key = `${formatTimestamp(e.sec, e.nsec)} ${e.line}`;
        if (seen.has(key)) {
          assert.ok(
            compareTimestamps(e.sec, e.nsec, cursor.sec, cursor.nsec) > 0,
            `a got ${key} twice, though it is not past the saved position`,
          );
        }
        seen.add(key);
      }
      assert.equal(compareDelivery(truth, entriesOf(a, name)).unexpected, 0);
    } finally {
      await agent.stop();
      await a.close();
      await b.close();
    }
  });
});
