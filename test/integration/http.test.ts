// The HTTP surface of a running agent: /metrics, /ready, / and /targets, including a container whose
// log driver cannot be read. (/ready turning 503 for a failing client is checked in
// test/unit/agent-ready.test.ts: the real threshold is a minute.)

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { formatTimestamp } from '../../src/core/types.js';
import { DROP_REASONS } from '../../src/metrics/metrics.js';
import type { LokiReceiver } from '../fakes/loki-receiver.js';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import type { AgentProcess } from '../harness/agent.js';
import { startAgent } from '../harness/agent.js';
import {
  docker,
  groundTruth,
  parseRfc3339Nano,
  removeContainers,
  runContainer,
  uniqueName,
} from '../harness/docker.js';
import { entriesOf, expectDelivered, runLabel, tempDir, writeTestConfig } from '../harness/setup.js';

interface TargetJson {
  job: string;
  id: string;
  name: string;
  labels: { stdout?: Record<string, string>; stderr?: Record<string, string> };
  discoveredLabels: Record<string, string>;
  state: string;
  cursor?: string;
  lines: number;
  bytes: number;
  lastError?: string;
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('HTTP surface', () => {
  const label = runLabel();
  const created: string[] = [];
  let receiver: LokiReceiver;
  let agent: AgentProcess;
  let base: string;

  const run = async (script: string, name: string, logDriver?: string): Promise<string> => {
    const id = await runContainer(script, {
      name,
      labels: { 'docktail.test': label },
      ...(logDriver === undefined ? {} : { logDriver }),
    });
    created.push(id);
    return id;
  };
  const targets = async (): Promise<TargetJson[]> => {
    const res = await fetch(`${base}/targets`, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    return ((await res.json()) as { targets: TargetJson[] }).targets;
  };
  const target = async (id: string): Promise<TargetJson | undefined> =>
    (await targets()).find(t => t.id === id);
  const metrics = async (): Promise<string> => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  /** Polls until `check` returns a value (not undefined), or fails with the last value seen. */
  const eventually = async <T>(
    what: string,
    check: () => Promise<T | undefined>,
    timeoutMs = 10_000,
  ): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await sleep(100);
    }
  };

  before(async () => {
    receiver = await startLokiReceiver();
    const dir = tempDir('http');
    const config = writeTestConfig({ dir, receiverUrl: receiver.url, runLabel: label, batchwait: '100ms' });
    agent = startAgent({ args: [`-config.file=${config}`] });
    const listening = await agent.waitForLog(/msg=listening/);
    const port = Number(/ port=(\d+)/.exec(listening)?.[1]);
    assert.ok(port > 0, listening);
    base = `http://127.0.0.1:${port}`;
    await agent.waitForLog(/first discovery done/);
  });

  after(async () => {
    await agent?.stop();
    await receiver?.close();
    await removeContainers(created);
  });

  test('/metrics: Prometheus text with every docktail metric, drop reasons exported at 0', async () => {
    const text = await metrics();
    for (const name of [
      'docktail_read_entries_total',
      'docktail_sent_entries_total',
      'docktail_dropped_entries_total',
      'docktail_targets',
      'docktail_cursor_lag_seconds',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} (counter|gauge)$`, 'm'), name);
    }
    const client = reEscape(receiver.url);
    assert.match(text, new RegExp(`^docktail_sent_entries_total\\{client="${client}"\\} 0$`, 'm'));
    for (const reason of DROP_REASONS) {
      assert.match(
        text,
        new RegExp(`^docktail_dropped_entries_total\\{client="${client}",reason="${reason}"\\} 0$`, 'm'),
        `reason ${reason} pre-initialised`,
      );
    }
  });

  test('/ready is 200 after the first discovery; / redirects to /targets; others are 404/405', async () => {
    const ready = await fetch(`${base}/ready`);
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), 'Ready\n');
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/targets');
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/targets`, { method: 'POST' })).status, 405);
  });

  test('/targets lists a running container: labels, state, cursor after shipping, lines', async () => {
    const name = uniqueName('http-run');
    const id = await run(
      // stderr first, well before the last line: the engine's stdout and stderr copiers race, so a stderr
      // line written close to a stdout line can reach the log stamped earlier but after it (the cursor
      // would then count two lines at the highest timestamp).
      'trap "exit 0" TERM; echo err >&2; usleep 200000; for i in 1 2 3 4; do echo out $i; done; while true; do usleep 50000; done',
      name,
    );
    await receiver.waitFor(() => entriesOf(receiver, name).length === 5, 10_000);
    const truth = await groundTruth(id);
    const last = truth
      .map(t => parseRfc3339Nano(t.ts))
      .sort((a, b) => a.sec - b.sec || a.nsec - b.nsec)
      .at(-1)!;
    const cursor = `${formatTimestamp(last.sec, last.nsec)}#1`;
    // The cursor moves once the clients' acknowledgements are in: poll for it.
    const t = await eventually('the cursor at the last line', async () => {
      const found = await target(id);
      return found?.cursor === cursor ? found : undefined;
    });
    assert.equal(t.job, 'test');
    assert.equal(t.name, name);
    assert.equal(t.state, 'following');
    assert.deepEqual(t.labels, {
      stdout: { container: name, stream: 'stdout' },
      stderr: { container: name, stream: 'stderr' },
    });
    assert.equal(t.discoveredLabels.__meta_docker_container_name, `/${name}`);
    assert.equal(t.discoveredLabels.__meta_docker_container_label_docktail_test, label);
    assert.equal(t.lines, 5);
    assert.equal(t.bytes, 'out 1'.length * 4 + 'err'.length);

    const text = await metrics();
    assert.match(text, new RegExp(`^docktail_read_entries_total\\{container="${reEscape(name)}"\\} 5$`, 'm'));
    const sent = Number(
      new RegExp(`^docktail_sent_entries_total\\{client="${reEscape(receiver.url)}"\\} (\\d+)$`, 'm').exec(
        text,
      )?.[1],
    );
    assert.ok(sent >= 5, `sent ${sent}`);
    assert.match(text, /^docktail_targets\{state="following"\} [1-9]\d*$/m);
    assert.match(text, new RegExp(`^docktail_cursor_lag_seconds\\{container="${reEscape(name)}"\\} 0$`, 'm'));
    await docker(['stop', '-t', '1', id]);
  });

  test('a container with --log-driver none: unsupported, warned about once, others still shipped', async () => {
    const none = uniqueName('http-none');
    const noneId = await run(
      'trap "exit 0" TERM; echo invisible; while true; do usleep 50000; done',
      none,
      'none',
    );
    const t = await eventually('the unsupported target', async () => {
      const found = await target(noneId);
      return found?.state === 'unsupported' ? found : undefined;
    });
    assert.equal(t.name, none);
    assert.equal(t.lines, 0);
    assert.ok(t.lastError, 'the reason is shown');

    // Several refresh intervals (2 s) and a container start later, the warning is still a single line.
    const name = uniqueName('http-after');
    const id = await run('for i in $(seq 1 20); do echo after $i; done', name);
    await sleep(5000);
    const warnings = agent.stderr.filter(
      l => l.includes(`container=${none} `) && /level=(warn|error)/.test(l),
    );
    assert.equal(warnings.length, 1, `one warning, not a loop:\n${warnings.join('\n')}`);
    assert.equal((await target(noneId))?.state, 'unsupported');
    await expectDelivered(receiver, id, name);
    assert.equal(
      receiver.entries().filter(e => e.labels.container === none).length,
      0,
      'nothing shipped from the unreadable container',
    );
    await docker(['stop', '-t', '1', noneId]);
  });
});
