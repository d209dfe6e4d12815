// Fault injection on the Loki side: outages (503), an outage across a docktail restart, rate limiting
// with Retry-After, a push accepted but never answered, a stalled Loki, and a 400 for one bad entry.
// Each scenario counts written / delivered / lost / duplicated against the engine's own record, with a
// receiver that counts every copy it gets (no Loki de-duplication).

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { LokiReceiver, ReceivedEntry, ReceivedRequest } from '../fakes/loki-receiver.js';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import type { AgentProcess } from '../harness/agent.js';
import { startAgent } from '../harness/agent.js';
import type { TruthLine } from '../harness/docker.js';
import { docker, parseRfc3339Nano, removeContainers, runContainer, uniqueName } from '../harness/docker.js';
import {
  assertExactlyOnce,
  entriesFor,
  Leftovers,
  measure,
  metricValue,
  numberedWriter,
  report,
  seqGaps,
  sleep,
} from '../harness/faults.js';
import { runLabel, tempDir, writeTestConfig } from '../harness/setup.js';

const created: string[] = [];
const leftovers = new Leftovers();
after(async () => {
  await leftovers.all();
  await removeContainers(created);
});

const now = (): number => performance.timeOrigin + performance.now();

interface Setup {
  receiver: LokiReceiver;
  config: string;
  label: string;
  agent: AgentProcess;
  name: string;
  id: string;
}

/** A receiver, docktail following this test's containers, and a container writing ~100 numbered lines/s. */
async function setup(
  prefix: string,
  config: Partial<Parameters<typeof writeTestConfig>[0]> = {},
  script = numberedWriter(100),
): Promise<Setup> {
  const receiver = leftovers.receiver(await startLokiReceiver());
  const label = runLabel();
  const file = writeTestConfig({
    dir: tempDir(prefix),
    receiverUrl: receiver.url,
    runLabel: label,
    ...config,
  });
  const agent = leftovers.agent(startAgent({ args: [`-config.file=${file}`] }));
  await agent.waitForLog(/first discovery done/);
  const name = uniqueName(prefix);
  const id = await runContainer(script, { name, labels: { 'docktail.test': label } });
  created.push(id);
  // Lines flow before the fault starts.
  await receiver.waitFor(() => entriesFor(receiver, [name]).length > 30, 15_000);
  return { receiver, config: file, label, agent, name, id };
}

async function teardown(s: Setup): Promise<void> {
  await s.agent.stop();
  await leftovers.close(s.receiver);
}

const key = (e: ReceivedEntry): string => `${e.sec}.${String(e.nsec).padStart(9, '0')} ${e.line}`;

/** Received entries grouped by push (one `receivedAt` per decoded request), oldest first. */
function pushes(entries: readonly ReceivedEntry[]): ReceivedEntry[][] {
  const groups = new Map<number, ReceivedEntry[]>();
  for (const e of entries) {
    const g = groups.get(e.receivedAt);
    if (g) g.push(e);
    else groups.set(e.receivedAt, [e]);
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
}

/** Lines the engine stamped between two moments (ms since the epoch). */
function writtenBetween(truth: readonly TruthLine[], fromMs: number, toMs: number): number {
  return truth.filter(l => {
    const { sec, nsec } = parseRfc3339Nano(l.ts);
    const ms = sec * 1000 + nsec / 1e6;
    return ms >= fromMs && ms < toMs;
  }).length;
}

/** Gaps in ms between each request in `window` and the request that followed it. */
function gapsAfter(all: readonly ReceivedRequest[], window: readonly ReceivedRequest[]): number[] {
  const sorted = [...all].sort((a, b) => a.at - b.at);
  return window.map(r => {
    const next = sorted.find(q => q.at > r.at);
    return next === undefined ? Number.POSITIVE_INFINITY : next.at - r.at;
  });
}

describe('Loki outages', () => {
  test('3. Loki answers 503 for 30 s: 0 lost once it recovers, 0 duplicated', async t => {
    const s = await setup('outage');
    try {
      s.receiver.failWith(503, { untilMs: 30_000 });
      const from = now();
      await sleep(30_000);
      const refused = s.receiver.requests().filter(r => r.status === 503 && r.at >= from).length;
      await sleep(3000);
      await docker(['stop', '-t', '2', s.id]);
      const d = await measure(s.receiver, s.id, [s.name]);
      const retries = await metricValue(s.agent, 'docktail_push_retries_total', 'reason="503"');
      const during = writtenBetween(d.truth, from, from + 30_000);
      report(t, d, {
        written_during_outage: during,
        refused_pushes: refused,
        retries_503: retries,
        seq_gaps_in_engine: seqGaps(d.truth),
      });
      assertExactlyOnce(d, s.name);
      assert.ok(during > 500, `only ${during} lines written during the outage`);
      assert.ok(refused >= 20, `the client kept retrying during the outage (${refused} refused pushes)`);
      assert.equal(retries, refused);
    } finally {
      await teardown(s);
    }
  });

  test('4. Loki down (503) and docktail restarted during the outage: 0 lost, 0 duplicated', async t => {
    const s = await setup('outage-restart');
    let agent = s.agent;
    try {
      s.receiver.failWith(503);
      const from = now();
      await sleep(2000);
      const t0 = now();
      assert.equal(await agent.stop('SIGTERM'), 0, 'a graceful stop during the outage exits 0');
      const stopMs = now() - t0;
      assert.match(agent.stderr.join('\n'), /stopping before Loki accepted every batch/);
      await sleep(1000);
      agent = leftovers.agent(startAgent({ args: [`-config.file=${s.config}`] }));
      await agent.waitForLog(/first discovery done/);
      await sleep(3000);
      const refused = s.receiver.requests().filter(r => r.status === 503).length;
      s.receiver.clearFaults();
      const until = now();
      await sleep(2000);
      await docker(['stop', '-t', '2', s.id]);
      const d = await measure(s.receiver, s.id, [s.name]);
      report(t, d, {
        written_during_outage: writtenBetween(d.truth, from, until),
        stop_ms: stopMs.toFixed(0),
        refused_pushes: refused,
        seq_gaps_in_engine: seqGaps(d.truth),
      });
      assertExactlyOnce(d, s.name);
      assert.ok(d.written > 1000, `only ${d.written} lines written`);
    } finally {
      await agent.stop();
      await teardown(s);
    }
  });

  test('5. 429 with Retry-After for 20 s: 0 lost, 0 duplicated, and the waits honour Retry-After', async t => {
    // Retry-After is honoured up to max_period (5 min by default); the test's max_period is above it.
    const s = await setup('ratelimit', { maxPeriod: '5s', maxRetries: 50 });
    try {
      const RETRY_AFTER_S = 2;
      const from = now();
      s.receiver.failWith(429, { untilMs: 20_000, retryAfter: RETRY_AFTER_S });
      await sleep(21_000);
      await sleep(2000);
      await docker(['stop', '-t', '2', s.id]);
      const d = await measure(s.receiver, s.id, [s.name]);
      const all = s.receiver.requests();
      const limited = all.filter(r => r.status === 429 && r.at >= from);
      const gaps = gapsAfter(all, limited);
      const minGap = Math.min(...gaps);
      report(t, d, {
        answered_429: limited.length,
        shortest_wait_after_429_ms: minGap.toFixed(1),
        seq_gaps_in_engine: seqGaps(d.truth),
      });
      assertExactlyOnce(d, s.name);
      assert.ok(limited.length >= 5, `only ${limited.length} pushes answered 429`);
      // The next try comes no sooner than Retry-After after each 429 (1 ms for timer rounding).
      assert.ok(minGap >= RETRY_AFTER_S * 1000 - 1, `a retry came ${minGap.toFixed(1)} ms after a 429`);
      // …and not much later either while Retry-After is above the backoff: it is the wait.
      assert.ok(
        gaps.slice(0, 3).every(g => g < RETRY_AFTER_S * 1000 + 1500),
        `first waits ${gaps.slice(0, 3).map(g => g.toFixed(0))} ms`,
      );
    } finally {
      await teardown(s);
    }
  });
});

describe('Loki answers that go wrong', () => {
  test('6. a push accepted but its answer lost: sent again with identical timestamps; duplicates confined to that batch', async t => {
    const s = await setup('lost-answer');
    try {
      const before = s.receiver.requests().length;
      s.receiver.dropConnectionAfterAccept(1);
      const cut = () => s.receiver.requests().find((r, i) => i >= before && r.status === 0 && r.accepted > 0);
      await s.receiver.waitFor(() => cut() !== undefined, 10_000);
      await sleep(1500);
      await docker(['stop', '-t', '2', s.id]);
      const d = await measure(s.receiver, s.id, [s.name]);
      const dropped = cut()!;
      // The push whose answer was lost, and the one after it: the retry.
      const groups = pushes(entriesFor(s.receiver, [s.name]));
      const at = groups.findIndex(g => g[0]!.receivedAt >= dropped.at);
      const lostAnswer = groups[at]!;
      const retry = groups[at + 1]!;
      report(t, d, { batch_with_lost_answer: lostAnswer.length, seq_gaps_in_engine: seqGaps(d.truth) });
      assert.equal(d.lost, 0);
      assert.equal(d.unexpected, 0);
      assert.equal(lostAnswer.length, dropped.accepted, 'the receiver stored the whole push');
      assert.deepEqual(retry.map(key), lostAnswer.map(key), 'the same batch, same timestamps, sent again');
      assert.equal(d.duplicated, lostAnswer.length, 'the repeats are that batch, once');
      const inBatch = new Set(lostAnswer.map(key));
      const counts = new Map<string, number>();
      for (const e of d.received) counts.set(key(e), (counts.get(key(e)) ?? 0) + 1);
      const repeated = [...counts].filter(([, n]) => n > 1).map(([k]) => k);
      assert.ok(
        repeated.every(k => inBatch.has(k)),
        'no line outside that batch is repeated',
      );
    } finally {
      await teardown(s);
    }
  });

  test('7. Loki stalls without answering: the client timeout fires, the batch is retried, nothing lost', async t => {
    const s = await setup('stall', { timeout: '2s' });
    try {
      const from = now();
      s.receiver.stall();
      await sleep(7000);
      s.receiver.unstall();
      await sleep(2000);
      await docker(['stop', '-t', '2', s.id]);
      const d = await measure(s.receiver, s.id, [s.name]);
      const all = s.receiver.requests();
      const timedOut = all.filter(r => r.at >= from && r.status === 0);
      const gaps = gapsAfter(all, timedOut);
      const retries = await metricValue(s.agent, 'docktail_push_retries_total', 'reason="network"');
      report(t, d, {
        timed_out_pushes: timedOut.length,
        shortest_gap_ms: Math.min(...gaps).toFixed(0),
        retries_network: retries,
        seq_gaps_in_engine: seqGaps(d.truth),
      });
      assertExactlyOnce(d, s.name);
      assert.ok(timedOut.length >= 2, `${timedOut.length} pushes timed out`);
      assert.ok(
        gaps.every(g => g >= 2000),
        `each try waited for the 2 s timeout: ${gaps.map(g => g.toFixed(0))}`,
      );
      assert.ok(retries >= timedOut.length, `${retries} retries counted`);
      assert.match(s.agent.stderr.join('\n'), /push timed out after 2000 ms/);
    } finally {
      await teardown(s);
    }
  });

  test('8. a 400 for a batch with one bad entry: not retried, the drop counted by reason, later lines flow', async t => {
    const receiver = leftovers.receiver(await startLokiReceiver());
    receiver.rejectLinesMatching(/ BAD$/);
    const label = runLabel();
    const config = writeTestConfig({
      dir: tempDir('bad-entry'),
      receiverUrl: receiver.url,
      runLabel: label,
    });
    const agent = leftovers.agent(startAgent({ args: [`-config.file=${config}`] }));
    const name = uniqueName('bad-entry');
    try {
      await agent.waitForLog(/first discovery done/);
      const id = await runContainer(numberedWriter(100, { badAt: 150 }), {
        name,
        labels: { 'docktail.test': label },
      });
      created.push(id);
      await receiver.waitFor(() => entriesFor(receiver, [name]).some(e => e.line === 'seq 400 out'), 20_000);
      await docker(['stop', '-t', '2', id]);
      const d = await measure(receiver, id, [name]);
      const rejected = receiver.requests().filter(r => r.status === 400);
      const dropped = await metricValue(agent, 'docktail_dropped_entries_total', 'reason="ingester_error"');
      report(t, d, {
        answered_400: rejected.length,
        stored_from_that_batch: rejected[0]?.accepted,
        dropped_ingester_error: dropped,
      });
      assert.equal(d.lost, 1, 'only the bad line is missing');
      assert.match(d.lostSample[0] ?? '', / seq 150 out BAD$/);
      assert.equal(d.duplicated, 0, 'the batch was not sent again');
      assert.equal(d.unexpected, 0);
      assert.equal(rejected.length, 1, 'one 400, never retried');
      // Loki stored the other entries of that batch; docktail counts the batch it could not deliver whole.
      assert.equal(dropped, rejected[0]!.accepted + 1, 'the batch counted under reason="ingester_error"');
      assert.ok(d.delivered > 390, 'lines after the bad one keep flowing');
    } finally {
      await agent.stop();
      await leftovers.close(receiver);
    }
  });
});
