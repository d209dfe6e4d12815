// Fault 12: memory stays bounded while Loki is down. The receiver answers 503 for 60 s while 10
// containers write ~1,000 lines/s each (~100-byte lines). Each client holds at most
// max(4 × batchsize, 4 MiB) of line bytes and then pauses the readers, so docktail's resident memory must
// stay under its bound while the engine keeps the backlog; once Loki is back, every line arrives, once.
//
// The bound, above the RSS measured just before the outage (the Node baseline with 10 followers):
//   held data  = per client max(4 × batchsize, 4 MiB) of line bytes × 1.5 (held encoded: per 100-byte line
//                18 bytes of protobuf fields and a 16-byte settle slot, in arrays that grow by doubling)
//              + followers × (one 64 KiB socket chunk decoded past "full" + a 4 KiB and a 64 KiB segment
//                partly used) + the body buffer of one batch (≤ 1.4 × batchsize: the compressed bound of a
//                request of ≤ 1.2 × batchsize) + the 64 KiB fragment it is compressed from and its output
//   outage     = held data + 32 MiB of young-generation garbage (two 16 MiB semi-spaces)
//   catch-up   = held data + 160 MiB: reading the backlog at full speed, V8 grows its heap with the
//                allocation rate and collects the old space late; the live data stays the same few MiB.
//                `--max-old-space-size` caps this part (see README, "Memory bound").

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import { startAgent } from '../harness/agent.js';
import { docker, removeContainers, runContainer, uniqueName } from '../harness/docker.js';
import {
  assertExactlyOnce,
  entriesFor,
  type Measured,
  measure,
  metricValue,
  portOf,
  report,
  sleep,
} from '../harness/faults.js';
import { memoryBytes } from '../harness/proc.js';
import { runLabel, tempDir, writeTestConfig } from '../harness/setup.js';

const created: string[] = [];
after(() => removeContainers(created));

const CONTAINERS = 10;
const OUTAGE_MS = 60_000;
const MiB = 1024 * 1024;
/** Promtail's default batchsize, which the test config keeps. */
const BATCH_SIZE = MiB;
const CLIENT_LINE_BYTES = Math.max(4 * BATCH_SIZE, 4 * MiB);
const ENCODED_FACTOR = 1.5;
const PER_FOLLOWER = 64 * 1024 + 4 * 1024 + 64 * 1024;
const ENCODE_BYTES = 1.4 * BATCH_SIZE + 64 * 1024 + 75 * 1024;
const HELD = CLIENT_LINE_BYTES * ENCODED_FACTOR + CONTAINERS * PER_FOLLOWER + ENCODE_BYTES;
const YOUNG_GENERATION = 32 * MiB;
const OLD_SPACE_GROWTH = 160 * MiB;

/** ~1,000 lines/s of 100 bytes: 500 numbered lines every half second. */
function fastWriter(tag: string): string {
  const pad = 'x'.repeat(84);
  return (
    'trap "exit 0" TERM; i=0; while true; do ' +
    `printf "${tag} %08d ${pad}\\n" $(seq $i $((i+499))); i=$((i+500)); usleep 500000; done`
  );
}

const mb = (n: number) => Math.round((n / MiB) * 10) / 10;

test('12. Loki down (503) for 60 s while 10 containers write 1,000 lines/s each: RSS bounded, then 0 lost, 0 duplicated', async t => {
  const receiver = await startLokiReceiver();
  const dir = tempDir('memory');
  const label = runLabel();
  const config = writeTestConfig({ dir, receiverUrl: receiver.url, runLabel: label });
  const names = Array.from({ length: CONTAINERS }, (_, i) => uniqueName(`mem${i}`));
  const agent = startAgent({ args: [`-config.file=${config}`] });
  // Without `namespace`, startAgent runs node itself: this pid is docktail's own process.
  const pid = agent.proc.pid!;
  try {
    await agent.waitForLog(/first discovery done/);
    const ids: string[] = [];
    const writeStart = Date.now();
    for (const [i, name] of names.entries()) {
      const id = await runContainer(fastWriter(`c${i}`), { name, labels: { 'docktail.test': label } });
      created.push(id);
      ids.push(id);
    }
    await receiver.waitFor(() => entriesFor(receiver, names).length > 20_000, 30_000);
    await sleep(2000);
    const baseline = memoryBytes(pid).rss;

    receiver.failWith(503, { untilMs: OUTAGE_MS });
    const outageStart = Date.now();
    const during: number[] = [];
    let pendingMax = 0;
    while (Date.now() - outageStart < OUTAGE_MS) {
      await sleep(1000);
      assert.equal(agent.proc.exitCode, null, `docktail exited:\n${agent.stderr.slice(-20).join('\n')}`);
      during.push(memoryBytes(pid).rss);
      pendingMax = Math.max(pendingMax, await metricValue(agent, 'docktail_pending_bytes', 'client='));
    }
    const refused = receiver.requests().filter(r => r.status === 503).length;
    const outagePeak = Math.max(...during);

    // Loki is back: the backlog the engine kept is read and shipped; memory is sampled while it catches up.
    const recoverStart = Date.now();
    const catchUp: number[] = [];
    let heapUsedMax = 0;
    const sampler = setInterval(() => {
      catchUp.push(memoryBytes(pid).rss);
      void fetch(`http://127.0.0.1:${portOf(agent)}/metrics`)
        .then(r => r.text())
        .then(text => {
          const used = Number(/^docktail_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1]);
          if (used > heapUsedMax) heapUsedMax = used;
        })
        .catch(() => {});
    }, 1000);
    await sleep(5000);
    for (const id of ids) await docker(['stop', '-t', '2', id]);
    const writeSeconds = (Date.now() - writeStart) / 1000;
    const results: Measured[] = [];
    for (const [i, id] of ids.entries()) results.push(await measure(receiver, id, [names[i]!], 90_000));
    const recoverSeconds = (Date.now() - recoverStart) / 1000;
    clearInterval(sampler);
    const { hwm } = memoryBytes(pid);
    const sum = (f: (d: Measured) => number) => results.reduce((n, d) => n + f(d), 0);
    const written = sum(d => d.written);
    const outageBound = baseline + HELD + YOUNG_GENERATION;
    const bound = baseline + HELD + OLD_SPACE_GROWTH;
    report(
      t,
      {
        written,
        delivered: sum(d => d.delivered),
        lost: sum(d => d.lost),
        duplicated: sum(d => d.duplicated),
        lostSample: [],
        duplicatedSample: [],
        unexpected: sum(d => d.unexpected),
      },
      {
        lines_per_s_per_container: Math.round(written / CONTAINERS / writeSeconds),
        refused_pushes: refused,
        pending_bytes_max_mib: mb(pendingMax),
        rss_baseline_mib: mb(baseline),
        rss_outage_peak_mib: mb(outagePeak),
        outage_bound_mib: mb(outageBound),
        rss_catch_up_peak_mib: mb(Math.max(...catchUp)),
        heap_used_max_catch_up_mib: mb(heapUsedMax),
        vm_hwm_mib: mb(hwm),
        bound_mib: mb(bound),
        recovery_s: recoverSeconds,
      },
    );
    for (const [i, d] of results.entries()) assertExactlyOnce(d, names[i]!);
    assert.ok(refused >= 10, `${refused} pushes refused during the outage`);
    assert.ok(pendingMax <= CLIENT_LINE_BYTES * 1.1, `the client held ${mb(pendingMax)} MiB of lines`);
    assert.ok(outagePeak <= outageBound, `RSS ${mb(outagePeak)} MiB in the outage, bound ${mb(outageBound)}`);
    assert.ok(hwm <= bound, `peak RSS ${mb(hwm)} MiB, bound ${mb(bound)} MiB`);
  } finally {
    await agent.stop();
    await receiver.close();
  }
});
