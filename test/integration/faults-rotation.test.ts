// Fault 14: the engine rotates a container's json-file log (max-size, max-file=2) while docktail is
// stopped, so the saved position is in a file that no longer exists. docktail must ship every line the
// engine still holds, repeat none, and report the gap it can see (the first line after the resume is
// newer than the cursor): a warning naming both ends, and docktail_log_gaps_total.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import { startAgent } from '../harness/agent.js';
import { compareDelivery } from '../harness/compare.js';
import { docker, groundTruth, removeContainers, runContainer, uniqueName } from '../harness/docker.js';
import { entriesFor, metricValue, numberedWriter, report, sleep } from '../harness/faults.js';
import { runLabel, tempDir, writeTestConfig } from '../harness/setup.js';

const created: string[] = [];
after(() => removeContainers(created));

/** The writer's numbers in received stdout lines, in arrival order. */
function seqs(lines: readonly { line: string }[]): number[] {
  const out: number[] = [];
  for (const l of lines) {
    const m = /^seq (\d+) out$/.exec(l.line);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

test('14. json-file rotated past the saved position while docktail is stopped: ships what is left, logs and counts the gap', async t => {
  const receiver = await startLokiReceiver();
  const dir = tempDir('rotation');
  const label = runLabel();
  const config = writeTestConfig({ dir, receiverUrl: receiver.url, runLabel: label });
  const name = uniqueName('rotated');
  // ~80 bytes a line in the json file: a 6 KiB file holds ~75 lines, under a second at 100 lines/s.
  const id = await runContainer(numberedWriter(100), {
    name,
    labels: { 'docktail.test': label },
    logOpts: { 'max-size': '6k', 'max-file': '2' },
  });
  created.push(id);
  let agent = startAgent({ args: [`-config.file=${config}`] });
  try {
    await agent.waitForLog(/first discovery done/);
    await receiver.waitFor(() => entriesFor(receiver, [name]).length > 150, 15_000);
    assert.equal(await agent.stop('SIGTERM'), 0);
    const before = entriesFor(receiver, [name]);
    const lastBefore = Math.max(...seqs(before));
    // Down for 4 s: ~400 lines, of which the engine keeps only the last two files (~150 lines).
    await sleep(4000);
    agent = startAgent({ args: [`-config.file=${config}`] });
    const warning = await agent.waitForLog(/log lines lost/, 20_000);
    await sleep(1500);
    await docker(['stop', '-t', '2', id]);

    const truth = await groundTruth(id);
    await receiver
      .waitFor(() => compareDelivery(truth, entriesFor(receiver, [name])).lost === 0, 20_000)
      .catch(() => {});
    await sleep(500);
    const received = entriesFor(receiver, [name]);
    const held = compareDelivery(truth, received);
    const afterRestart = received.slice(before.length);
    const firstAfter = Math.min(...seqs(afterRestart));
    const maxSeq = Math.max(...seqs(truth));
    const distinct = new Set(seqs(received)).size;
    const rotatedAway = maxSeq - distinct;
    const gapsMetric = await metricValue(agent, 'docktail_log_gaps_total', `container="${name}"`);
    // Following a rotating json-file, dockerd 20.10 sends the line at each rotation twice: shipped once.
    const repeats = await metricValue(agent, 'docktail_engine_repeated_lines_total', `container="${name}"`);
    const cursor = Number(/cursor=(\S+)/.exec(warning)?.[1]);
    const firstAvailable = Number(/first_available=(\S+)/.exec(warning)?.[1]);
    report(t, held, {
      written_stdout: maxSeq,
      rotated_away: rotatedAway,
      last_seq_before_stop: lastBefore,
      first_seq_after_restart: firstAfter,
      gap_seconds: /gap_seconds=(\S+)/.exec(warning)?.[1],
      docktail_log_gaps_total: gapsMetric,
      engine_repeats_dropped: repeats,
    });

    // Everything the engine still holds arrived, once; nothing was received twice at all.
    assert.equal(held.lost, 0, `lost ${held.lost} lines the engine holds: ${held.lostSample.join(' | ')}`);
    assert.equal(held.duplicated, 0, `received twice: ${held.duplicatedSample.join(' | ')}`);
    const keys = received.map(e => `${e.sec}.${e.nsec} ${e.line}`);
    assert.equal(new Set(keys).size, keys.length, 'a line received twice');
    // The rotation really dropped lines past the cursor, and docktail saw the jump.
    assert.ok(firstAfter > lastBefore + 1, `the sequence jumps from ${lastBefore} to ${firstAfter}`);
    assert.ok(rotatedAway > 50, `${rotatedAway} lines rotated away`);
    assert.ok(firstAvailable > cursor, `first available ${firstAvailable} after the cursor ${cursor}`);
    const first = afterRestart[0]!;
    assert.ok(
      Math.abs(firstAvailable - (first.sec + first.nsec / 1e9)) < 1e-6,
      'the gap ends at the first line shipped',
    );
    assert.equal(gapsMetric, 1, 'one gap counted');
    assert.equal(agent.proc.exitCode, null, 'docktail keeps running');
  } finally {
    await agent.stop();
    await receiver.close();
  }
});
