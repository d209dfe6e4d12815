// Shared by the fault-injection tests (their config is setup.ts's writeTestConfig): a writer that numbers
// its lines, delivery figures over every name a container had, and the figures printed with the test.

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { LokiReceiver, ReceivedEntry } from '../fakes/loki-receiver.js';
import type { AgentProcess } from './agent.js';
import type { Delivery } from './compare.js';
import { compareDelivery, inOrder } from './compare.js';
import type { TruthLine } from './docker.js';
import { groundTruth } from './docker.js';

/**
 * About `perSecond` numbered lines a second (in ticks of 50 ms): `seq <n> out` on stdout, and every tenth
 * also `seq <n> err` on stderr. The number is kept in the container's filesystem, so it keeps counting
 * across `docker stop`/`start`: every line the container ever writes is unique.
 */
export function numberedWriter(perSecond = 100, options: { badAt?: number } = {}): string {
  const tick = Array.from({ length: Math.max(1, Math.round(perSecond / 20)) }, (_, k) => k + 1).join(' ');
  // Line `badAt` ends in ` BAD`, for a receiver told to reject it.
  const out =
    options.badAt === undefined
      ? 'echo "seq $i out"'
      : `if [ $i = ${options.badAt} ]; then echo "seq $i out BAD"; else echo "seq $i out"; fi`;
  return (
    // TERM ends the loop between ticks, so no number is skipped or reused across a stop.
    'trap "stop=1" TERM; i=$(cat /tmp/seq 2>/dev/null || echo 0); while [ -z "$stop" ]; do ' +
    `for _ in ${tick}; do i=$((i+1)); echo $i > /tmp/seq; ${out}; ` +
    'if [ $((i % 10)) = 0 ]; then echo "seq $i err" >&2; fi; done; usleep 50000; done'
  );
}

export const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

/** Entries whose `container` label is one of `names`. */
export function entriesFor(receiver: LokiReceiver, names: readonly string[]): ReceivedEntry[] {
  return receiver.entries().filter(e => names.includes(e.labels.container ?? ''));
}

/** The sequence numbers missing from the engine's own record (1…max): the writer's side of the story. */
export function seqGaps(truth: readonly TruthLine[]): number {
  const seen = new Set<number>();
  let max = 0;
  for (const t of truth) {
    const m = /^seq (\d+) out/.exec(t.line);
    if (!m) continue;
    const n = Number(m[1]);
    seen.add(n);
    if (n > max) max = n;
  }
  return max - seen.size;
}

export interface Measured extends Delivery {
  truth: TruthLine[];
  received: ReceivedEntry[];
}

/**
 * Waits until the receiver holds every line the engine holds for the container (under any of its
 * names), plus a moment for late duplicates, then compares. Asserts nothing.
 */
export async function measure(
  receiver: LokiReceiver,
  id: string,
  names: readonly string[],
  timeoutMs = 30_000,
): Promise<Measured> {
  const truth = await groundTruth(id);
  await receiver
    .waitFor(() => compareDelivery(truth, entriesFor(receiver, names)).lost === 0, timeoutMs)
    .catch(() => {});
  await sleep(500);
  const received = entriesFor(receiver, names);
  return { ...compareDelivery(truth, received), truth, received };
}

/** Prints the figures with the test and returns them as one line. */
export function report(t: TestContext, d: Delivery, extra: Record<string, unknown> = {}): string {
  let line = `written=${d.written} delivered=${d.delivered} lost=${d.lost} duplicated=${d.duplicated}`;
  for (const [k, v] of Object.entries(extra)) line += ` ${k}=${v}`;
  t.diagnostic(line);
  return line;
}

/** The usual verdict: nothing lost, nothing repeated, nothing foreign, each stream in order. */
export function assertExactlyOnce(d: Measured, what: string): void {
  assert.equal(d.lost, 0, `${what}: lost ${d.lost} of ${d.written}, e.g. ${d.lostSample.join(' | ')}`);
  assert.equal(d.duplicated, 0, `${what}: duplicated ${d.duplicated}: ${d.duplicatedSample.join(' | ')}`);
  assert.equal(d.unexpected, 0, `${what}: ${d.unexpected} lines the engine does not hold`);
  assertInOrder(d.received, what);
}

export function assertInOrder(received: readonly ReceivedEntry[], what: string): void {
  for (const stream of ['stdout', 'stderr']) {
    assert.ok(inOrder(received.filter(e => e.labels.stream === stream)), `${what}: ${stream} out of order`);
  }
}

/** The port docktail logged it listens on. */
export function portOf(agent: AgentProcess): number {
  const line = agent.stderr.find(l => /msg=listening/.test(l));
  const m = line ? /port=(\d+)/.exec(line) : null;
  if (!m) throw new Error('docktail did not log its port');
  return Number(m[1]);
}

/** The value of one sample of docktail's /metrics (0 when absent). */
export async function metricValue(agent: AgentProcess, name: string, labels: string): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${portOf(agent)}/metrics`).then(r => r.text());
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.indexOf('}');
    const set = line.slice(name.length + 1, close);
    if (labels.split(',').every(l => set.includes(l))) return Number(line.slice(close + 2));
  }
  return 0;
}

/**
 * What a test file must not leave running when a test fails half-way (an open receiver or a live
 * docktail would keep the test process alive): closed by `all()` in the file's `after` hook.
 */
export class Leftovers {
  readonly #receivers = new Set<LokiReceiver>();
  readonly #agents = new Set<AgentProcess>();

  receiver(r: LokiReceiver): LokiReceiver {
    this.#receivers.add(r);
    return r;
  }

  agent(a: AgentProcess): AgentProcess {
    this.#agents.add(a);
    return a;
  }

  /** Closes a receiver once, however many times it is asked. */
  async close(r: LokiReceiver): Promise<void> {
    if (this.#receivers.delete(r)) await r.close();
  }

  async all(): Promise<void> {
    for (const a of this.#agents) await a.stop('SIGKILL');
    for (const r of [...this.#receivers]) await this.close(r);
  }
}
