// The read tick (src/targets/read-tick.ts) against the real engine, with the default batchwait of 1 s:
// quiet streams are read once per batch wait and their lines still arrive within it; a quiet stream
// that turns busy, a restart of its container, and a restart of docktail while streams wait for the
// tick lose and repeat nothing.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LokiReceiver } from '../fakes/loki-receiver.js';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import type { AgentProcess } from '../harness/agent.js';
import { startAgent } from '../harness/agent.js';
import { docker, removeContainers, runContainer, uniqueName, waitExit } from '../harness/docker.js';
import { Leftovers, metricValue, sleep } from '../harness/faults.js';
import { entriesOf, expectDelivered, runLabel, tempDir, writeTestConfig } from '../harness/setup.js';

/** `count` numbered lines, one every `gapMs` ms. */
const quiet = (tag: string, count: number, gapMs = 100): string =>
  `i=1; while [ $i -le ${count} ]; do echo "${tag} $i"; i=$((i+1)); usleep ${gapMs * 1000}; done`;

describe('the read tick (batchwait 1s)', () => {
  const label = runLabel();
  const created: string[] = [];
  const leftovers = new Leftovers();
  let receiver: LokiReceiver;
  let config: string;

  const run = async (script: string, name: string): Promise<string> => {
    const id = await runContainer(script, { name, labels: { 'docktail.test': label } });
    created.push(id);
    return id;
  };
  const start = async (): Promise<AgentProcess> => {
    const agent = leftovers.agent(startAgent({ args: [`-config.file=${config}`] }));
    await agent.waitForLog(/first discovery done/);
    return agent;
  };
  const reads = (agent: AgentProcess) => metricValue(agent, 'docktail_follow_reads_total', 'host=');

  before(async () => {
    receiver = leftovers.receiver(await startLokiReceiver());
    config = writeTestConfig({
      dir: tempDir('read-tick'),
      receiverUrl: receiver.url,
      runLabel: label,
      batchwait: '1s',
    });
  });

  after(async () => {
    await leftovers.all();
    await removeContainers(created);
  });

  test('quiet containers are read about once a second; every line arrives once, in order, within the batch wait', async t => {
    const agent = await start();
    try {
      const names = Array.from({ length: 5 }, () => uniqueName('quiet'));
      const reads0 = await reads(agent);
      const ids = await Promise.all(names.map(name => run(quiet('q', 80), name)));
      for (const id of ids) await waitExit(id);
      let lines = 0;
      for (let i = 0; i < ids.length; i++)
        lines += (await expectDelivered(receiver, ids[i]!, names[i]!)).written;
      assert.equal(lines, 400);
      const readCount = (await reads(agent)) - reads0;
      // Read as they come, 400 lines take ~400 reads (each line is its own engine write); at the tick,
      // each stream reads ~10 lines at a time after its first second.
      assert.ok(readCount > 0 && readCount < lines / 3, `${readCount} reads for ${lines} lines`);
      const delays = names
        .flatMap(n => entriesOf(receiver, n))
        .map(e => e.receivedAt - (e.sec * 1000 + e.nsec / 1e6))
        .sort((a, b) => a - b);
      const median = delays[Math.floor(delays.length / 2)]!;
      const max = delays[delays.length - 1]!;
      // A line waits up to one tick in its socket and is then sent at once: about 0.5 s on average and
      // under the batch wait, where a line that waited for the tick and then for a batch would take
      // ~1.5 s on average and up to 2 s. The bounds leave room for a busy machine.
      t.diagnostic(`${readCount} reads, delay median ${median.toFixed(0)} ms, longest ${max.toFixed(0)} ms`);
      assert.ok(median < 1000, `median delay ${median.toFixed(0)} ms`);
      assert.ok(max < 1800, `longest delay ${max.toFixed(0)} ms`);
    } finally {
      await agent.stop();
    }
  });

  test('a quiet container that turns busy and quiet again: nothing lost or repeated', async () => {
    const agent = await start();
    try {
      const name = uniqueName('burst');
      const id = await run(
        `${quiet('before', 15, 200)}; i=1; while [ $i -le 20000 ]; do echo "burst $i"; i=$((i+1)); done; ${quiet('after', 10, 200)}`,
        name,
      );
      await waitExit(id);
      const d = await expectDelivered(receiver, id, name, 60_000);
      assert.equal(d.written, 20_025);
    } finally {
      await agent.stop();
    }
  });

  test('a container restarted and stopped while its stream waits for the tick: nothing lost or repeated', async () => {
    const agent = await start();
    try {
      const name = uniqueName('restart');
      const id = await run(quiet('r', 1_000_000), name);
      await sleep(3_000); // past the stream's first second: it reads at the tick now
      await docker(['restart', '-t', '1', id]);
      await sleep(3_000);
      await docker(['stop', '-t', '1', id]);
      const d = await expectDelivered(receiver, id, name);
      assert.ok(d.written >= 40, `${d.written} lines written`);
    } finally {
      await agent.stop();
    }
  });

  test('docktail restarted while quiet streams wait for the tick: the next one reads the rest, once', async () => {
    const names = Array.from({ length: 3 }, () => uniqueName('handover'));
    let agent = await start();
    const ids = await Promise.all(names.map(name => run(quiet('h', 60), name)));
    await sleep(3_000);
    assert.equal(await agent.stop(), 0);
    agent = await start();
    try {
      for (const id of ids) await waitExit(id);
      for (let i = 0; i < ids.length; i++)
        assert.equal((await expectDelivered(receiver, ids[i]!, names[i]!)).written, 60);
    } finally {
      await agent.stop();
    }
  });
});
