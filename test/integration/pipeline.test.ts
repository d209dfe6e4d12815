// End to end through pipeline_stages: a container printing Java-like stack traces goes through a
// multiline stage and reaches Loki as one entry per exception; docktail stopped (gracefully, or killed)
// while a trace is held loses nothing of it.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { LokiReceiver, ReceivedEntry } from '../fakes/loki-receiver.js';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import { startAgent } from '../harness/agent.js';
import type { TruthLine } from '../harness/docker.js';
import {
  dockerHost,
  groundTruth,
  parseRfc3339Nano,
  removeContainers,
  runContainer,
  uniqueName,
  waitExit,
} from '../harness/docker.js';
import { entriesOf, runLabel, tempDir } from '../harness/setup.js';

const created: string[] = [];
after(() => removeContainers(created));

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const FIRSTLINE = /^\d{4}-\d{2}-\d{2} /;

/** A config following this test's containers, with a multiline stage. */
function writeConfig(dir: string, receiverUrl: string, label: string, maxWait: string): string {
  const file = join(dir, 'config.yml');
  writeFileSync(
    file,
    `server:
  http_listen_address: 127.0.0.1
  http_listen_port: 0
positions:
  filename: ${join(dir, 'positions.yaml')}
  sync_period: 200ms
clients:
  - url: ${receiverUrl}
    batchwait: 100ms
    timeout: 2s
scrape_configs:
  - job_name: java
    docker_sd_configs:
      - host: ${dockerHost()}
        refresh_interval: 2s
        filters:
          - name: label
            values: ['docktail.test=${label}']
    relabel_configs:
      - source_labels: ['__meta_docker_container_name']
        regex: '/(.*)'
        target_label: 'container'
    pipeline_stages:
      - docker: {}
      - multiline:
          firstline: '^\\d{4}-\\d{2}-\\d{2} '
          max_wait_time: ${maxWait}
      - metrics:
          exceptions_total:
            type: Counter
            description: entries after multiline
            config:
              match_all: true
              action: inc
`,
  );
  return file;
}

/** What the engine holds, grouped as the multiline stage groups it: [first line's ts, joined text]. */
function blocksOf(truth: readonly TruthLine[]): { sec: number; nsec: number; text: string }[] {
  const blocks: { sec: number; nsec: number; text: string }[] = [];
  for (const t of truth) {
    const last = blocks.at(-1);
    if (FIRSTLINE.test(t.line) || last === undefined)
      blocks.push({ ...parseRfc3339Nano(t.ts), text: t.line });
    else last.text += `\n${t.line}`;
  }
  return blocks;
}

/** Every line received, entries split at their `\n`, sorted. */
function receivedLines(entries: readonly ReceivedEntry[]): string[] {
  return entries.flatMap(e => e.line.split('\n')).sort();
}

async function waitForLine(receiver: LokiReceiver, name: string, pattern: RegExp, timeoutMs = 15_000) {
  await receiver.waitFor(() => entriesOf(receiver, name).some(e => pattern.test(e.line)), timeoutMs);
}

test('a Java stack trace arrives as one entry per exception, stamped with its first line', async () => {
  const receiver = await startLokiReceiver();
  const dir = tempDir('pipeline-java');
  const label = runLabel();
  const config = writeConfig(dir, receiver.url, label, '1s');
  const name = uniqueName('java');
  const agent = startAgent({ args: [`-config.file=${config}`] });
  try {
    await agent.waitForLog(/first discovery done/);
    const script = [
      'for i in 1 2 3 4 5; do',
      '  echo "2024-01-0$i 10:00:00.123 ERROR [main] request $i failed";',
      '  echo "java.lang.IllegalStateException: boom $i";',
      "  printf '\\tat com.example.Service.handle(Service.java:4%s)\\n' $i;",
      "  printf '\\tat com.example.Controller.get(Controller.java:12)\\n';",
      '  echo "Caused by: java.io.IOException: disk $i";',
      "  printf '\\t... 12 more\\n';",
      '  usleep 50000;',
      'done;',
      'echo "2024-01-09 10:00:00.000 INFO [main] done"',
    ].join('\n');
    const id = await runContainer(script, { name, labels: { 'docktail.test': label } });
    created.push(id);
    await waitExit(id);
    const want = blocksOf(await groundTruth(id));
    assert.equal(want.length, 6);
    // The last block goes on after max_wait_time (1s) with no new line.
    await receiver.waitFor(() => entriesOf(receiver, name).length >= want.length, 15_000);
    await sleep(300);
    const got = entriesOf(receiver, name);
    assert.deepEqual(
      got.map(e => ({ sec: e.sec, nsec: e.nsec, text: e.line })),
      want,
      'one entry per exception, in order, with the timestamp of its first line',
    );
    assert.match(got[0]!.line, /^2024-01-01 .*\njava.lang.IllegalStateException: boom 1\n\tat com.example/);
    assert.deepEqual(got[0]!.labels, { container: name });
    const port = Number(/port=(\d+)/.exec(agent.stderr.find(l => /msg=listening/.test(l)) ?? '')?.[1]);
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then(r => r.text());
    assert.match(metrics, new RegExp(`promtail_custom_exceptions_total\\{container="${name}"\\} 6`));
  } finally {
    await agent.stop();
    await receiver.close();
  }
});

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`docktail stopped by ${signal} while a trace is held: nothing lost, nothing repeated`, async () => {
    const receiver = await startLokiReceiver();
    const dir = tempDir(`pipeline-${signal.toLowerCase()}`);
    const label = runLabel();
    // A long max_wait_time: the trace stays held until the next first line (or the stop).
    const config = writeConfig(dir, receiver.url, label, '30s');
    const name = uniqueName(`held-${signal.toLowerCase()}`);
    const script = [
      'echo "2024-01-01 10:00:00.000 INFO [main] started"',
      'echo "2024-01-01 10:00:01.000 ERROR [main] first failure"',
      'echo "java.lang.NullPointerException"',
      "printf '\\tat a.A.one(A.java:1)\\n'",
      'sleep 8',
      "printf '\\tat a.A.two(A.java:2)\\n'",
      'echo "Caused by: java.io.IOException: gone"',
      "printf '\\t... 3 more\\n'",
      'echo "2024-01-01 10:00:02.000 INFO [main] after"',
    ].join('\n');
    let agent = startAgent({ args: [`-config.file=${config}`] });
    try {
      await agent.waitForLog(/first discovery done/);
      const id = await runContainer(script, { name, labels: { 'docktail.test': label } });
      created.push(id);
      // `started` goes on once the ERROR line begins the next block; the trace is then held.
      await waitForLine(receiver, name, /INFO \[main\] started/);
      await sleep(1500); // the positions file catches up (sync_period 200ms)
      assert.ok(!entriesOf(receiver, name).some(e => /first failure/.test(e.line)), 'the trace is held');
      await agent.stop(signal);
      if (signal === 'SIGTERM') {
        // A graceful stop hands the held part of the trace on.
        const flushed = entriesOf(receiver, name).find(e => /first failure/.test(e.line));
        assert.equal(
          flushed?.line,
          '2024-01-01 10:00:01.000 ERROR [main] first failure\njava.lang.NullPointerException\n\tat a.A.one(A.java:1)',
        );
      }
      agent = startAgent({ args: [`-config.file=${config}`] });
      await agent.waitForLog(/first discovery done/);
      await waitExit(id);
      await sleep(500);
      assert.equal(await agent.stop('SIGTERM'), 0); // hands on the last block
      const truth = await groundTruth(id);
      const got = entriesOf(receiver, name);
      assert.deepEqual(receivedLines(got), truth.map(t => t.line).sort(), 'every line once, no more');
      if (signal === 'SIGKILL') {
        // Killed, the held lines were never acknowledged: read again, they make the whole trace at once.
        assert.ok(
          got.some(
            e =>
              e.line ===
              [
                '2024-01-01 10:00:01.000 ERROR [main] first failure',
                'java.lang.NullPointerException',
                '\tat a.A.one(A.java:1)',
                '\tat a.A.two(A.java:2)',
                'Caused by: java.io.IOException: gone',
                '\t... 3 more',
              ].join('\n'),
          ),
          got.map(e => e.line).join('\n---\n'),
        );
      }
    } finally {
      await agent.stop('SIGKILL');
      await receiver.close();
    }
  });
}
