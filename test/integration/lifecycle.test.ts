// End to end across docktail's own lifecycle and Loki outages: a user's config run unchanged, a
// SIGTERM and restart while a container writes, and Loki answering 503 for a while.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import { REPO, startAgent } from '../harness/agent.js';
import { docker, removeContainers, runContainer, uniqueName } from '../harness/docker.js';
import { entriesOf, expectDelivered, runLabel, tempDir, writeTestConfig } from '../harness/setup.js';

const created: string[] = [];
after(() => removeContainers(created));

const WRITER =
  'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo "seq $i"; echo "err $i" >&2; usleep 10000; done';
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** A receiver, and a test config in a fresh directory that follows the containers of one run label. */
async function setUp(prefix: string) {
  const receiver = await startLokiReceiver();
  const dir = tempDir(prefix);
  const label = runLabel();
  const config = writeTestConfig({ dir, receiverUrl: receiver.url, runLabel: label });
  return { receiver, dir, label, config };
}

test('the codedang Promtail config runs unchanged, with LOKI_SERVER_URL from .env', async () => {
  const receiver = await startLokiReceiver();
  const dir = tempDir('codedang');
  const runDir = join(dir, 'run');
  const logDir = join(dir, 'log');
  // The config as the team runs it, byte for byte; only the engine and /var/log are the test's own.
  const config = join(REPO, 'test/fixtures/user-configs/codedang/promtail-config.yml');
  writeFileSync(join(dir, '.env'), `LOKI_SERVER_URL=${new URL(receiver.url).host}\n`);
  const names = [uniqueName('codedang-api'), uniqueName('codedang-web')];
  const early = await runContainer('echo started; echo warn >&2', { name: names[0] });
  created.push(early);
  const agent = startAgent({
    args: [`-config.file=${config}`, '-config.expand-env=true'],
    cwd: dir,
    namespace: { runDir, logDir },
  });
  try {
    await agent.waitForLog(/first discovery done/);
    const late = await runContainer('for i in 1 2 3; do echo line $i; done; echo oops >&2', {
      name: names[1],
    });
    created.push(late);
    await expectDelivered(receiver, early, names[0]!);
    await expectDelivered(receiver, late, names[1]!);
    // Promtail's labels for this config: the container name only, stdout and stderr in one stream.
    for (const name of names) {
      const labelSets = new Set(entriesOf(receiver, name).map(e => e.labelsString));
      assert.deepEqual([...labelSets], [`{container="${name}"}`]);
    }
    assert.equal(await agent.stop('SIGTERM'), 0);
    const positions = JSON.parse(readFileSync(join(logDir, 'positions.yaml'), 'utf8'));
    assert.equal(positions.version, 1);
    assert.ok(
      positions.containers[early],
      'position of the first container written at /var/log/positions.yaml',
    );
  } finally {
    await agent.stop('SIGKILL');
    await receiver.close();
  }
});

test('the positions file follows a rename and forgets a container once it is removed', async () => {
  const { receiver, dir, label, config } = await setUp('positions-life');
  const name = uniqueName('pos');
  const renamed = uniqueName('pos-renamed');
  const id = await runContainer(
    'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo tick $i; usleep 50000; done',
    {
      name,
      labels: { 'docktail.test': label },
    },
  );
  created.push(id);
  const entry = (): { name?: string; ts?: string } | undefined => {
    try {
      return JSON.parse(readFileSync(join(dir, 'positions.yaml'), 'utf8')).containers?.[id];
    } catch {
      return undefined; // not written yet
    }
  };
  const eventually = async (what: string, check: () => boolean): Promise<void> => {
    const until = Date.now() + 15_000;
    while (!check()) {
      if (Date.now() > until) throw new Error(`${what}: not within 15 s (entry ${JSON.stringify(entry())})`);
      await sleep(100);
    }
  };
  const agent = startAgent({ args: [`-config.file=${config}`] });
  try {
    await agent.waitForLog(/first discovery done/);
    await eventually('the position under the first name', () => entry()?.name === name);
    await docker(['rename', id, renamed]);
    await eventually('the position under the new name', () => entry()?.name === renamed);
    // Shipping goes on under the new name (so acknowledgements are still arriving at the removal).
    await receiver.waitFor(() => entriesOf(receiver, renamed).length > 0, 10_000);
    await docker(['rm', '-f', id]);
    await eventually('the position removed', () => {
      const e = entry();
      return e === undefined && existsSync(join(dir, 'positions.yaml'));
    });
    // Acknowledgements that arrive after the removal must not bring it back.
    await sleep(1500);
    assert.equal(entry(), undefined, 'the removed container stays out of the positions file');
  } finally {
    await agent.stop();
    await receiver.close();
  }
});

test('SIGTERM then restart while a container writes: nothing lost, nothing repeated', async () => {
  const { receiver, label, config } = await setUp('restart');
  const name = uniqueName('writer');
  const id = await runContainer(WRITER, { name, labels: { 'docktail.test': label } });
  created.push(id);
  let agent = startAgent({ args: [`-config.file=${config}`] });
  await agent.waitForLog(/first discovery done/);
  await sleep(1500);
  assert.equal(await agent.stop('SIGTERM'), 0, 'a graceful stop exits 0');
  const before = entriesOf(receiver, name).length;
  assert.ok(before > 50, `only ${before} lines shipped before the stop`);
  await sleep(1000); // the container keeps writing while docktail is down
  agent = startAgent({ args: [`-config.file=${config}`] });
  try {
    await agent.waitForLog(/first discovery done/);
    await sleep(1500);
    await docker(['stop', '-t', '2', id]);
    const d = await expectDelivered(receiver, id, name);
    assert.ok(d.written > before + 100, 'lines written while docktail was down are counted in');
  } finally {
    await agent.stop();
    await receiver.close();
  }
});

test('Loki answering 503 for a while: nothing lost once it recovers, nothing repeated', async () => {
  const { receiver, label, config } = await setUp('outage');
  const name = uniqueName('outage');
  const agent = startAgent({ args: [`-config.file=${config}`] });
  try {
    await agent.waitForLog(/first discovery done/);
    const id = await runContainer(WRITER, { name, labels: { 'docktail.test': label } });
    created.push(id);
    await receiver.waitFor(() => entriesOf(receiver, name).length > 20, 10_000);
    receiver.failWith(503, { untilMs: 4000 });
    await sleep(4500);
    const refused = receiver.requests().filter(r => r.status === 503).length;
    assert.ok(refused >= 2, `the client retried during the outage (${refused} refused pushes)`);
    await sleep(1000);
    await docker(['stop', '-t', '2', id]);
    await expectDelivered(receiver, id, name);
    const metrics = await fetch(`http://127.0.0.1:${await portOf(agent.stderr)}/metrics`).then(r => r.text());
    assert.match(metrics, /docktail_push_retries_total\{[^}]*\} [1-9]/);
  } finally {
    await agent.stop();
    await receiver.close();
  }
});

async function portOf(stderr: string[]): Promise<number> {
  const line = stderr.find(l => /msg=listening/.test(l));
  const m = line ? /port=(\d+)/.exec(line) : null;
  if (!m) throw new Error('docktail did not log its port');
  return Number(m[1]);
}
