// Fault 13: trouble with the positions file. A write interrupted by a crash (a `.tmp` left behind,
// half-written or complete), a corrupt file (refused with a clear error, or started over only with
// ignore_invalid_yaml), and a file that cannot be written (its parent is a regular file: root ignores
// permission bits, not that): docktail keeps shipping, logs, retries, and shows it on /metrics and /ready.

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import type { AgentProcess } from '../harness/agent.js';
import { startAgent } from '../harness/agent.js';
import { docker, removeContainers, runContainer, uniqueName } from '../harness/docker.js';
import {
  assertExactlyOnce,
  entriesFor,
  measure,
  numberedWriter,
  portOf,
  report,
  sleep,
} from '../harness/faults.js';
import { runLabel, tempDir, writeTestConfig } from '../harness/setup.js';

const created: string[] = [];
after(() => removeContainers(created));

/** A metric without labels from docktail's /metrics. */
async function plainMetric(agent: AgentProcess, name: string): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${portOf(agent)}/metrics`).then(r => r.text());
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

async function ready(agent: AgentProcess): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${portOf(agent)}/ready`);
  return { status: res.status, body: await res.text() };
}

async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('positions file faults', () => {
  test('13a. a write interrupted by a crash (.tmp left behind, half or whole): recovers, 0 lost, 0 duplicated', async t => {
    const receiver = await startLokiReceiver();
    const dir = tempDir('positions-tmp');
    const label = runLabel();
    const config = writeTestConfig({ dir, receiverUrl: receiver.url, runLabel: label });
    const file = join(dir, 'positions.yaml');
    const tmp = `${file}.tmp`;
    const name = uniqueName('pos-tmp');
    const id = await runContainer(numberedWriter(100), { name, labels: { 'docktail.test': label } });
    created.push(id);
    let agent = startAgent({ args: [`-config.file=${config}`] });
    try {
      await agent.waitForLog(/first discovery done/);
      await receiver.waitFor(() => entriesFor(receiver, [name]).length > 50, 10_000);
      assert.equal(await agent.stop('SIGTERM'), 0);

      // Crash in the middle of writing the tmp: half a file next to the last complete one.
      const saved = readFileSync(file, 'utf8');
      writeFileSync(tmp, saved.slice(0, Math.floor(saved.length / 2)));
      agent = startAgent({ args: [`-config.file=${config}`] });
      const ignored = await agent.waitForLog(/ignoring an incomplete temporary file/);
      await agent.waitForLog(/first discovery done/);
      assert.match(ignored, new RegExp(`file=${file}`));
      assert.ok(!existsSync(tmp), 'the half-written tmp is removed');
      await sleep(1500);
      assert.equal(await agent.stop('SIGTERM'), 0);

      // Crash after the tmp was complete but with the main file damaged: the tmp is the newest state.
      copyFileSync(file, tmp);
      writeFileSync(file, '{"version":1,"containers":{"');
      agent = startAgent({ args: [`-config.file=${config}`] });
      await agent.waitForLog(/positions file is invalid; using the complete leftover temporary file/);
      await agent.waitForLog(/first discovery done/);
      await sleep(1500);
      await docker(['stop', '-t', '2', id]);
      const d = await measure(receiver, id, [name]);
      report(t, d, { restarts: 2 });
      assertExactlyOnce(d, name);
      assert.equal(await agent.stop('SIGTERM'), 0);
      assert.equal(JSON.parse(readFileSync(file, 'utf8')).version, 1, 'a valid file again');
    } finally {
      await agent.stop();
      await receiver.close();
    }
  });

  test('13b. a corrupt file: exit ≠ 0 with an error naming the file; ignore_invalid_yaml starts over and says so', async t => {
    const receiver = await startLokiReceiver();
    const dir = tempDir('positions-corrupt');
    const label = runLabel();
    const config = writeTestConfig({ dir, receiverUrl: receiver.url, runLabel: label });
    const file = join(dir, 'positions.yaml');
    const corrupt = '{"version":1,"containers":{"abc":{"ts":"17952';
    writeFileSync(file, corrupt);
    const refused = startAgent({ args: [`-config.file=${config}`] });
    const code = await refused.exited;
    const error = refused.stderr.find(l => /invalid positions file/.test(l)) ?? '';
    t.diagnostic(`exit=${code} ${error}`);
    assert.notEqual(code, 0);
    assert.ok(error.includes(file), `the error names ${file}: ${refused.stderr.join('\n')}`);
    assert.match(error, /ignore_invalid_yaml/);
    assert.equal(readFileSync(file, 'utf8'), corrupt, 'the file is left as it was');

    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(/^( {2}sync_period: .*)$/m, '$1\n  ignore_invalid_yaml: true'),
    );
    const name = uniqueName('pos-corrupt');
    const id = await runContainer('for i in 1 2 3; do echo "line $i"; done', {
      name,
      labels: { 'docktail.test': label },
    });
    created.push(id);
    const agent = startAgent({ args: [`-config.file=${config}`] });
    try {
      const warned = await agent.waitForLog(/ignore_invalid_yaml is set, so starting with no positions/);
      assert.ok(warned.includes(file));
      const d = await measure(receiver, id, [name]);
      report(t, d);
      assertExactlyOnce(d, name);
      assert.equal(await agent.stop('SIGTERM'), 0);
      assert.ok(JSON.parse(readFileSync(file, 'utf8')).containers[id], 'the file is written anew');
    } finally {
      await agent.stop();
      await receiver.close();
    }
  });

  test('13c. a positions file that cannot be written: keeps shipping, logs, retries, /metrics and /ready say so', async t => {
    const receiver = await startLokiReceiver();
    const dir = tempDir('positions-unwritable');
    const label = runLabel();
    const config = writeTestConfig({ dir, receiverUrl: receiver.url, runLabel: label });
    // The parent of the positions file is a regular file: mkdir and open fail even for root.
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'not a directory\n');
    const file = join(blocker, 'positions.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/^( {2}filename: ).*$/m, `$1${file}`));
    const name = uniqueName('pos-unwritable');
    const id = await runContainer(numberedWriter(100), { name, labels: { 'docktail.test': label } });
    created.push(id);
    const agent = startAgent({ args: [`-config.file=${config}`] });
    try {
      const logged = await agent.waitForLog(/cannot write positions file/);
      assert.ok(logged.includes(file), logged);
      await receiver.waitFor(() => entriesFor(receiver, [name]).length > 100, 15_000);
      const errors1 = await plainMetric(agent, 'docktail_positions_write_errors_total');
      await sleep(1500);
      const errors2 = await plainMetric(agent, 'docktail_positions_write_errors_total');
      const notReady = await ready(agent);
      assert.ok(
        errors1 >= 1 && errors2 > errors1,
        `write errors ${errors1} → ${errors2}: retried every period`,
      );
      assert.equal(notReady.status, 503);
      assert.match(notReady.body, /positions file not writable: .*(ENOTDIR|EEXIST|not a directory)/);
      assert.equal(
        agent.stderr.filter(l => /cannot write positions file/.test(l)).length,
        1,
        'logged once, not at every retry',
      );

      // Fixed: the next period writes the file, and docktail is ready again.
      rmSync(blocker);
      await agent.waitForLog(/positions file written again/, 10_000);
      await until(async () => (await ready(agent)).status === 200, 10_000, '/ready 200');
      assert.ok(JSON.parse(readFileSync(file, 'utf8')).containers[id], 'the position is saved');
      await docker(['stop', '-t', '2', id]);
      const d = await measure(receiver, id, [name]);
      report(t, d, {
        write_errors: await plainMetric(agent, 'docktail_positions_write_errors_total'),
        ready_while_failing: notReady.status,
      });
      assertExactlyOnce(d, name);
    } finally {
      await agent.stop();
      await receiver.close();
    }
  });
});
