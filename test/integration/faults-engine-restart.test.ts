// Fault 9: the Docker engine stops and starts again while containers run with `--restart always`.
// The shared test engine serves the other test files, so this file starts an engine of its own (same
// data root across the restart, so the containers come back) and points the harness at it.
// docktail must reconnect by itself, ship what was written after the restart, and repeat nothing.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
// @ts-expect-error: a plain .mjs script without types
import { buildTestImage, startDockerd, stopDockerd } from '../../scripts/dockerd.mjs';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import { startAgent } from '../harness/agent.js';
import { docker, removeContainers, runContainer, uniqueName } from '../harness/docker.js';
import {
  assertExactlyOnce,
  measure,
  metricValue,
  numberedWriter,
  report,
  seqGaps,
  sleep,
} from '../harness/faults.js';
import { runLabel, tempDir, writeTestConfig } from '../harness/setup.js';

interface Engine {
  host: string;
  dir: string;
  pid: number;
}

let engineDir: string;
let engine: Engine | undefined;
const created: string[] = [];

before(async () => {
  engineDir = tempDir('own-engine');
  engine = (await startDockerd(engineDir)) as Engine;
  // Every harness helper (docker, groundTruth, the config) now talks to this engine.
  process.env.DOCKTAIL_TEST_DOCKER_HOST = engine.host;
  await buildTestImage(engine.host, engineDir);
});

after(async () => {
  await removeContainers(created);
  if (engine) await stopDockerd(engine.pid, engineDir);
  rmSync(engineDir, { recursive: true, force: true, maxRetries: 3 });
});

test('9. engine restart with --restart always containers: docktail reconnects by itself, 0 lost, 0 duplicated', async t => {
  const receiver = await startLokiReceiver();
  const dir = tempDir('engine-restart');
  const label = runLabel();
  const config = writeTestConfig({ dir, receiverUrl: receiver.url, runLabel: label });
  const names = [uniqueName('always-a'), uniqueName('always-b')];
  const ids: string[] = [];
  for (const name of names) {
    const id = await runContainer(numberedWriter(100), {
      name,
      restart: 'always',
      labels: { 'docktail.test': label },
    });
    created.push(id);
    ids.push(id);
  }
  const agent = startAgent({ args: [`-config.file=${config}`] });
  try {
    await agent.waitForLog(/first discovery done/);
    await sleep(1500);
    const startedBefore = await docker(['inspect', '-f', '{{.State.StartedAt}}', ids[0]!]);

    // The engine goes away (its containers get SIGTERM and exit) and comes back on the same data root.
    const down = Date.now();
    await stopDockerd(engine!.pid);
    await sleep(1000);
    engine = (await startDockerd(engineDir)) as Engine;
    const downMs = Date.now() - down;
    const startedAfter = await docker(['inspect', '-f', '{{.State.StartedAt}}', ids[0]!]);
    assert.notEqual(startedAfter, startedBefore, 'the restart policy started the container again');

    // docktail notices on its own: no signal, no restart of the process.
    await agent.waitForLog(/docker events stream reconnected/, 40_000);
    await sleep(3000);
    for (const id of ids) await docker(['stop', '-t', '2', id]);

    for (let i = 0; i < ids.length; i++) {
      const d = await measure(receiver, ids[i]!, [names[i]!], 40_000);
      const afterRestart = d.truth.filter(l => Date.parse(l.ts) > down + downMs).length;
      report(t, d, {
        container: names[i],
        written_after_restart: afterRestart,
        engine_down_ms: downMs,
        seq_gaps_in_engine: seqGaps(d.truth),
      });
      assert.ok(afterRestart > 100, `${afterRestart} lines written after the restart`);
      assertExactlyOnce(d, names[i]!);
    }
    // The containers stopped before the engine did, so each follower saw its container exit and was
    // woken by the start the restarted engine reported; discovery lost the engine and came back.
    const apiErrors = await metricValue(agent, 'docktail_discovery_errors_total', 'host=');
    const streamLost = agent.stderr.filter(l => /docker events stream lost/.test(l)).length;
    t.diagnostic(`engine_api_errors=${apiErrors} events_stream_lost=${streamLost}`);
    assert.ok(apiErrors >= 1, 'failed engine calls were counted');
    assert.ok(streamLost >= 1, 'the lost events stream was logged');
    assert.ok(!agent.stderr.some(l => /position removed/.test(l)), 'the containers were not taken for gone');
    assert.equal(agent.proc.exitCode, null, 'docktail kept running');
  } finally {
    await agent.stop();
    await receiver.close();
  }
});
