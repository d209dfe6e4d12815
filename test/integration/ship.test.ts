// End to end: the docktail command against the real engine and a strict Loki-compatible receiver.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LokiReceiver } from '../fakes/loki-receiver.js';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import type { AgentProcess } from '../harness/agent.js';
import { startAgent } from '../harness/agent.js';
import { docker, removeContainers, runContainer, uniqueName, waitExit } from '../harness/docker.js';
import { entriesOf, expectDelivered, runLabel, tempDir, writeTestConfig } from '../harness/setup.js';

describe('shipping containers of every kind', () => {
  const label = runLabel();
  const created: string[] = [];
  let receiver: LokiReceiver;
  let agent: AgentProcess;

  const run = async (script: string, name: string, tty = false): Promise<string> => {
    const id = await runContainer(script, { name, tty, labels: { 'docktail.test': label } });
    created.push(id);
    return id;
  };

  before(async () => {
    receiver = await startLokiReceiver();
    const dir = tempDir('ship');
    const config = writeTestConfig({ dir, receiverUrl: receiver.url, runLabel: label });
    agent = startAgent({ args: [`-config.file=${config}`] });
    await agent.waitForLog(/first discovery done/);
  });

  after(async () => {
    await agent?.stop();
    await receiver?.close();
    await removeContainers(created);
  });

  test('stdout and stderr lines arrive once, in order, with container and stream labels', async () => {
    const name = uniqueName('both');
    const id = await run('for i in $(seq 1 50); do echo out $i; echo err $i >&2; done', name);
    await waitExit(id);
    const d = await expectDelivered(receiver, id, name);
    assert.equal(d.written, 100);
    const labels = new Set(entriesOf(receiver, name).map(e => e.labelsString));
    assert.deepEqual([...labels].sort(), [
      `{container="${name}", stream="stderr"}`,
      `{container="${name}", stream="stdout"}`,
    ]);
  });

  test('a container that lives 50 ms is shipped completely', async () => {
    const name = uniqueName('blink');
    const id = await run('echo one; echo two; echo three', name);
    await waitExit(id);
    const d = await expectDelivered(receiver, id, name);
    assert.equal(d.written, 3);
  });

  test('a 40 KiB line arrives whole, with no timestamp inside it', async () => {
    const name = uniqueName('long');
    // 40,960 characters then a newline: the engine splits it into 16 KiB parts.
    const id = await run("head -c 40960 /dev/zero | tr '\\0' x; echo; echo after", name);
    await waitExit(id);
    await expectDelivered(receiver, id, name);
    const lines = entriesOf(receiver, name).map(e => e.line);
    assert.deepEqual(
      lines.map(l => l.length),
      [40960, 5],
    );
    assert.match(lines[0]!, /^x+$/);
  });

  test('a TTY container: raw stream, no \\r, labelled stdout', async () => {
    const name = uniqueName('tty');
    const id = await run('echo hello; echo err >&2; printf no-newline', name, true);
    await waitExit(id);
    await expectDelivered(receiver, id, name);
    const got = entriesOf(receiver, name);
    assert.deepEqual(
      got.map(e => e.line),
      ['hello', 'err', 'no-newline'],
    );
    assert.ok(got.every(e => e.labels.stream === 'stdout'));
  });

  // The engine ends a follow stream when the container stops, before the log driver has written the
  // output still held (a last line without `\n` is flushed at the stop, stamped after the exit).
  for (const tty of [false, true]) {
    test(`a container followed live: its last line without a newline arrives (tty ${tty})`, async () => {
      const name = uniqueName(tty ? 'lasttty' : 'last');
      const id = await run('echo first; sleep 2; echo second; printf last-without-newline', name, tty);
      await receiver.waitFor(() => entriesOf(receiver, name).length >= 1, 10_000);
      await waitExit(id);
      await expectDelivered(receiver, id, name);
      assert.deepEqual(
        entriesOf(receiver, name).map(e => e.line),
        ['first', 'second', 'last-without-newline'],
      );
    });
  }

  test('docker stop / start and docker restart of the same container lose and repeat nothing', async () => {
    const name = uniqueName('cycle');
    const id = await run(
      'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo tick $i; usleep 20000; done',
      name,
    );
    await new Promise(r => setTimeout(r, 700));
    await docker(['stop', '-t', '2', id]);
    await new Promise(r => setTimeout(r, 500));
    await docker(['start', id]);
    await new Promise(r => setTimeout(r, 700));
    await docker(['restart', '-t', '2', id]);
    await new Promise(r => setTimeout(r, 700));
    await docker(['stop', '-t', '2', id]);
    const d = await expectDelivered(receiver, id, name);
    assert.ok(d.written > 40, `only ${d.written} lines written`);
  });

  test('a rename relabels the following lines', async () => {
    const name = uniqueName('before');
    const renamed = uniqueName('after');
    const id = await run('trap "exit 0" TERM; echo first; while true; do usleep 50000; done', name);
    await receiver.waitFor(() => entriesOf(receiver, name).length === 1, 10_000);
    await docker(['rename', id, renamed]);
    await new Promise(r => setTimeout(r, 500));
    await docker(['stop', '-t', '1', id]);
    await docker(['start', id]);
    await receiver.waitFor(() => entriesOf(receiver, renamed).length >= 1, 10_000);
    assert.deepEqual(
      entriesOf(receiver, renamed).map(e => e.line),
      ['first'],
    );
    assert.equal(entriesOf(receiver, name).length, 1, 'the first line is not sent again under the old name');
    await docker(['stop', '-t', '1', id]);
  });
});
