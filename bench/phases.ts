//! The benchmark's phases, each with its own docktail process (so one phase's peak memory is not
//! another's): backlog (and its pipeline variant), fleet, latency, and the optional idle-scale phase.
//! Each returns plain figures; bench/run.ts prints and saves them. Nothing here fails on a number:
//! a phase that cannot finish returns what it measured, with a note.

import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import PQueue from 'p-queue';
import {
  CpuSampler,
  cpuSeconds,
  Docktail,
  type Engine,
  type LoopProbe,
  memoryMb,
  metricValue,
  REPO,
  type Receiver,
  sleep,
  wallMs,
  writeConfig,
} from './harness.js';
import type { ContainerStats } from './receiver.js';

export interface BenchContext {
  engine: Engine;
  receiver: Receiver;
  /** An idle process's event-loop delay over the same windows: the machine's noise floor. */
  probe: LoopProbe;
  /** The command under test: bin/docktail.js beside the build (or its dist/cli/main.js). */
  main: string;
  /** The node binary it runs on. */
  node: string;
  dir: string;
  /** Write a CPU profile of docktail per phase into this directory. */
  profileDir?: string | undefined;
  /** Extra node flags for docktail (`--node-flags`), to try V8 settings. */
  nodeFlags?: readonly string[] | undefined;
  log: (message: string) => void;
}

const FILLER =
  'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A shell script whose output is `lines` lines of 100 bytes (+ `\n`), numbered, as fast as awk goes. */
function plainWriter(lines: number): string {
  return `busybox awk 'BEGIN{p="${FILLER.slice(0, 92)}";for(i=1;i<=${lines};i++)printf "%07d %s\\n",i,p}'`;
}

/** The same, as ~100-byte JSON objects with a level and an RFC3339Nano time, for the pipeline. */
function jsonWriter(lines: number): string {
  const msg = FILLER.slice(0, 22);
  return (
    `busybox awk 'BEGIN{for(i=1;i<=${lines};i++)printf "{\\"n\\":\\"%07d\\",\\"level\\":\\"%s\\",` +
    `\\"ts\\":\\"2026-01-01T00:00:00.%09dZ\\",\\"msg\\":\\"${msg}\\"}\\n",i,(i%10?"info":"warn"),i}'`
  );
}

/** Waits until `/sig/go` exists in the bind-mounted signal directory (sets every writer off at once). */
const WAIT_GO = 'while [ ! -e /sig/go ]; do usleep 50000; done';

/** Polls the receiver until `done(stats)` holds, progress stops for `stallMs`, or `timeoutMs` passes. */
async function until(
  ctx: BenchContext,
  done: (containers: Record<string, ContainerStats>) => boolean,
  progress: (containers: Record<string, ContainerStats>) => number,
  timeoutMs: number,
  stallMs = 30_000,
): Promise<{ containers: Record<string, ContainerStats>; finished: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const { containers } = await ctx.receiver.stats();
    if (done(containers)) return { containers, finished: true };
    const p = progress(containers);
    if (p !== last) {
      last = p;
      lastChange = Date.now();
    }
    if (Date.now() > deadline || Date.now() - lastChange > stallMs) return { containers, finished: false };
    await sleep(100);
  }
}

/** Event-loop delay from prom-client's default metrics (monitorEventLoopDelay, reset at every scrape). */
function loopDelay(metrics: string): { p99Ms: number; maxMs: number } {
  return {
    p99Ms: metricValue(metrics, 'docktail_nodejs_eventloop_lag_p99_seconds') * 1000,
    maxMs: metricValue(metrics, 'docktail_nodejs_eventloop_lag_max_seconds') * 1000,
  };
}

/** The sum of every series of a metric (0 when it has none). */
function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function startDocktail(ctx: BenchContext, config: string, phase: string): Docktail {
  let profileDir: string | undefined;
  if (ctx.profileDir !== undefined) {
    profileDir = join(ctx.profileDir, phase);
    mkdirSync(profileDir, { recursive: true });
  }
  return new Docktail({ main: ctx.main, node: ctx.node, config, profileDir, nodeFlags: ctx.nodeFlags });
}

/** Writes the phase's default config and starts docktail on it; resolves once its HTTP server listens. */
async function startPhaseAgent(ctx: BenchContext, phase: string): Promise<Docktail> {
  const config = writeConfig({
    dir: ctx.dir,
    engineHost: ctx.engine.host,
    receiverUrl: ctx.receiver.url,
    phase,
  });
  const agent = startDocktail(ctx, config, phase);
  await agent.port();
  return agent;
}

// ------------------------------------------------------------------------------------------ backlog

export interface BacklogResult {
  lines: number;
  /** Seconds the writer took to put every line in the json file. */
  writeSeconds: number;
  /** The engine's rate with a minimal reader (lines/s), each read; `engineRate` is their mean. */
  engineReads: number[];
  engineRate: number;
  /** dockerd CPU µs per line while the minimal reader read. */
  engineCpuUsPerLine: number;
  wireBytes: number;
  /** docktail: lines/s between the first and the last push that held this container's lines. */
  rate: number;
  ratio: number;
  /** CPU µs per line over the same interval, and over the whole life (start-up included). */
  cpuUsPerLine: number;
  cpuUsPerLineTotal: number;
  /** dockerd CPU µs per line while docktail read. */
  engineCpuUsPerLineDuringDocktail: number;
  /** The receiver's own CPU µs per line (decoding what docktail sent), while docktail read. */
  receiverCpuUsPerLine: number;
  peakRssMb: number;
  /** Spawn to last line received. */
  wallSeconds: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** The idle probe's event-loop delay over the same window (machine noise). */
  probeDelayP99Ms: number;
  probeDelayMaxMs: number;
  delivered: number;
  duplicates: number;
  /** Label sets seen (the pipeline variant must show its `level` label). */
  labelSets: string[];
  finished: boolean;
  note?: string;
}

export interface BacklogOptions {
  phase: string;
  lines: number;
  json?: boolean;
  pipelineStages?: string;
}

export async function backlog(ctx: BenchContext, o: BacklogOptions): Promise<BacklogResult> {
  const { engine, receiver } = ctx;
  const name = `bench-${o.phase}-${process.pid}`;
  ctx.log(`${o.phase}: writing ${o.lines} lines`);
  const w0 = performance.now();
  const id = await engine.runContainer(
    name,
    { 'docktail.bench': o.phase },
    o.json ? jsonWriter(o.lines) : plainWriter(o.lines),
  );
  await engine.docker(['wait', id], 600_000);
  const writeSeconds = (performance.now() - w0) / 1000;

  const engineReads: number[] = [];
  let engineCpu = 0;
  let wireBytes = 0;
  const readOnce = async () => {
    const r = await engine.readLogs(id);
    engineReads.push(o.lines / (r.ms / 1000));
    engineCpu += r.engineCpu;
    wireBytes = r.bytes;
  };
  await readOnce();
  ctx.log(`${o.phase}: engine read ${Math.round(engineReads[0]!)} lines/s; starting docktail`);

  await receiver.reset();
  const config = writeConfig({
    dir: ctx.dir,
    engineHost: engine.host,
    receiverUrl: receiver.url,
    phase: o.phase,
    // Batches fill by size long before this; a short wait only trims the tail of the last batch.
    batchwait: '100ms',
    pipelineStages: o.pipelineStages,
  });
  const spawnedAt = wallMs();
  const agent = startDocktail(ctx, config, o.phase);
  const sampler = new CpuSampler(agent.pid);
  const engineCpu0 = cpuSeconds(engine.pid);
  const receiverCpu0 = cpuSeconds(receiver.proc.pid!);
  let scrapedAtFirst = false;
  const waited = await until(
    ctx,
    c => {
      const s = c[name];
      if (s !== undefined && !scrapedAtFirst) {
        scrapedAtFirst = true;
        void agent.metrics().catch(() => ''); // resets the event-loop histogram: measure the streaming only
        void ctx.probe.take();
      }
      return s !== undefined && s.unique >= o.lines;
    },
    c => c[name]?.unique ?? 0,
    300_000,
  );
  const engineCpuDuring = cpuSeconds(engine.pid) - engineCpu0;
  const receiverCpu = cpuSeconds(receiver.proc.pid!) - receiverCpu0;
  sampler.sample();
  sampler.stop();
  const metrics = await agent.metrics().catch(() => '');
  const probeDelay = await ctx.probe.take();
  const mem = memoryMb(agent.pid);
  const s = waited.containers[name];
  await agent.stop();
  await readOnce();
  await engine.removeAll([id]);

  const after = s?.unique ?? 0;
  const counted = after - (s?.firstRequestEntries ?? 0);
  const seconds = s === undefined ? Number.NaN : (s.lastAt - s.firstAt) / 1000;
  const cpu = s === undefined ? Number.NaN : sampler.at(s.lastAt) - sampler.at(s.firstAt);
  const rate = counted / seconds;
  const engineRate = engineReads.reduce((a, b) => a + b, 0) / engineReads.length;
  const last = sampler.samples[sampler.samples.length - 1];
  const delay = loopDelay(metrics);
  const result: BacklogResult = {
    lines: o.lines,
    writeSeconds,
    engineReads,
    engineRate,
    engineCpuUsPerLine: (engineCpu / (o.lines * engineReads.length)) * 1e6,
    wireBytes,
    rate,
    ratio: rate / engineRate,
    cpuUsPerLine: (cpu / counted) * 1e6,
    cpuUsPerLineTotal: last === undefined ? Number.NaN : (last.cpu / Math.max(1, after)) * 1e6,
    engineCpuUsPerLineDuringDocktail: (engineCpuDuring / Math.max(1, after)) * 1e6,
    receiverCpuUsPerLine: (receiverCpu / Math.max(1, after)) * 1e6,
    peakRssMb: mem.hwm,
    wallSeconds: s === undefined ? Number.NaN : (s.lastAt - spawnedAt) / 1000,
    loopDelayP99Ms: delay.p99Ms,
    loopDelayMaxMs: delay.maxMs,
    probeDelayP99Ms: probeDelay.p99Ms,
    probeDelayMaxMs: probeDelay.maxMs,
    delivered: after,
    duplicates: s?.duplicates ?? 0,
    labelSets: s?.labelSets ?? [],
    finished: waited.finished,
  };
  if (!waited.finished) result.note = `only ${after} of ${o.lines} lines arrived`;
  return result;
}

/** Runs `docktail -check-syntax` on a config: undefined when it passes, else docktail's complaint. */
export function checkSyntax(ctx: BenchContext, config: string): string | undefined {
  const r = spawnSync(ctx.node, [ctx.main, '-check-syntax', `-config.file=${config}`], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status === 0) return undefined;
  return `${r.stdout}${r.stderr}`.trim().split('\n').slice(0, 6).join(' | ');
}

/** The json + labels + timestamp pipeline of the pipeline variant. */
export const PIPELINE_STAGES = `    pipeline_stages:
      - json:
          expressions:
            level: level
            ts: ts
      - labels:
          level:
      - timestamp:
          source: ts
          format: RFC3339Nano
`;

// -------------------------------------------------------------------------------------------- fleet

export interface FleetResult {
  containers: number;
  linesPerSecond: number;
  seconds: number;
  /** docktail CPU, % of one core, over the steady window (writers running, all followed). */
  cpuPercent: number;
  rssMb: number;
  peakRssMb: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  probeDelayP99Ms: number;
  probeDelayMaxMs: number;
  /** Follow streams reopened during the phase (docktail_follow_reconnects_total): 0 when healthy. */
  reconnects: number;
  /** Follow streams open at the end of the steady window (docktail_follow_streams). */
  followStreams: number;
  expected: number;
  delivered: number;
  duplicates: number;
  /** dockerd CPU, % of one core, over the same window. */
  engineCpuPercent: number;
  /**
   * bench/min-follower.ts alone (docktail stopped) following a fresh fleet of the same shape: what the
   * per-line reads alone cost, the floor under docktail's figure.
   */
  minFollowerCpuPercent: number;
  /**
   * The same reader, each socket paused after a read and all resumed once a second: the floor of the way
   * docktail reads quiet streams (its read tick, with the default batchwait of 1 s).
   */
  minFollowerTickCpuPercent: number;
  finished: boolean;
  note?: string;
}

/**
 * The fleet's floor: bench/min-follower.ts following a fresh fleet of the same shape (same count, same
 * rate), with docktail stopped, over a steady window; % of a core. It cannot run beside docktail: the
 * engine keeps one inotify instance per follow stream, and the two readers' streams together would pass
 * the usual budget of 128, past which the engine polls and batches lines. It once followed a fifth of
 * the streams scaled ×5, which overstated the floor about twofold: the per-wakeup cost is shared by the
 * streams that are ready at one wakeup, so it does not scale with the stream count.
 */
async function fleetFloor(
  ctx: BenchContext,
  o: { containers: number; linesPerSecond: number },
  tickMs = 0,
): Promise<number> {
  const windowSeconds = 15;
  const lines = o.linesPerSecond * (windowSeconds + 8);
  const { ids, go } = await startWaiting(
    ctx,
    'fleet-floor',
    o.containers,
    ticker(lines, Math.round(1e6 / o.linesPerSecond), 'floor'),
  );
  const floor = fork(
    join(REPO, 'bench', 'min-follower.ts'),
    [ctx.engine.socket, await ctx.engine.apiVersion(), ...ids],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, FLOOR_TICK_MS: String(tickMs) },
    },
  );
  try {
    await new Promise(r => floor.once('message', r));
    go();
    ctx.log(
      `fleet: the floor reader follows ${ids.length} fresh containers for ${windowSeconds} s` +
        (tickMs > 0 ? `, reading every ${tickMs} ms` : ''),
    );
    await sleep(5_000);
    const f0 = cpuSeconds(floor.pid!);
    const w0 = wallMs();
    await sleep(windowSeconds * 1000);
    const f1 = cpuSeconds(floor.pid!);
    const w1 = wallMs();
    return ((f1 - f0) / ((w1 - w0) / 1000)) * 100;
  } finally {
    floor.disconnect();
    await ctx.engine.removeAll(ids);
  }
}

/**
 * Runs `count` containers that wait for /sig/go (polling it every 50 ms), then run `body`; returns
 * their ids and names. With `wait` false they run `body` at once (idle containers must not poll).
 */
async function startWaiting(
  ctx: BenchContext,
  phase: string,
  count: number,
  body: string,
  wait = true,
): Promise<{ ids: string[]; names: string[]; go: () => void }> {
  const sig = join(ctx.dir, `sig-${phase}`);
  mkdirSync(sig, { recursive: true });
  const names = Array.from({ length: count }, (_, i) => `bench-${phase}-${process.pid}-${i}`);
  const ids = await new PQueue({ concurrency: 6 }).addAll(
    names.map(
      name => () =>
        ctx.engine.docker([
          'run',
          '-d',
          '--network',
          'none',
          '--name',
          name,
          '--label',
          `docktail.bench=${phase}`,
          '-v',
          `${sig}:/sig:ro`,
          'docktail-test/busybox:1',
          'sh',
          '-c',
          wait ? `${WAIT_GO}; ${body}` : body,
        ]),
    ),
  );
  return { ids, names, go: () => writeFileSync(join(sig, 'go'), '') };
}

/** Waits until docktail follows `count` targets. */
async function followed(agent: Docktail, count: number, timeoutMs = 120_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = await agent.metrics().catch(() => '');
    if (metricValue(text, 'docktail_targets{state="following"}') >= count) return true;
    await sleep(500);
  }
  return false;
}

/** A loop printing `n` numbered lines, one every `usleep` µs, then idling. */
function ticker(n: number, usleep: number, tag: string): string {
  return (
    `i=1; while [ $i -le ${n} ]; do printf '%07d ${tag} ${FILLER.slice(0, 80)}\\n' $i; ` +
    `i=$((i+1)); usleep ${usleep}; done; exec sleep 100000`
  );
}

export async function fleet(
  ctx: BenchContext,
  o: { containers: number; linesPerSecond: number; seconds: number },
): Promise<FleetResult> {
  const phase = 'fleet';
  const perContainer = o.linesPerSecond * o.seconds;
  await ctx.receiver.reset();
  const agent = await startPhaseAgent(ctx, phase);
  ctx.log(`fleet: starting ${o.containers} containers`);
  const { ids, names, go } = await startWaiting(
    ctx,
    phase,
    o.containers,
    ticker(perContainer, Math.round(1e6 / o.linesPerSecond), 'fleet'),
  );
  const all = await followed(agent, o.containers);
  await agent.metrics().catch(() => '');
  await ctx.probe.take();
  go();
  const t0 = wallMs();
  ctx.log(`fleet: writing for ${o.seconds} s (followed all: ${all})`);
  // Steady state: from 5 s after the start (every writer running) to the nominal end.
  await sleep(5_000);
  const c0 = cpuSeconds(agent.pid);
  const e0 = cpuSeconds(ctx.engine.pid);
  const w0 = wallMs();
  await sleep(Math.max(1_000, t0 + o.seconds * 1000 - wallMs()));
  const c1 = cpuSeconds(agent.pid);
  const e1 = cpuSeconds(ctx.engine.pid);
  const w1 = wallMs();
  const mem = memoryMb(agent.pid);
  const metrics = await agent.metrics().catch(() => '');
  const probeDelay = await ctx.probe.take();
  const expected = perContainer * o.containers;
  const waited = await until(
    ctx,
    c => names.every(n => (c[n]?.unique ?? 0) >= perContainer),
    c => names.reduce((sum, n) => sum + (c[n]?.unique ?? 0), 0),
    60_000,
    15_000,
  );
  const peak = memoryMb(agent.pid).hwm;
  await agent.stop();
  await ctx.engine.removeAll(ids);
  const floor = await fleetFloor(ctx, o);
  const tickFloor = await fleetFloor(ctx, o, 1000);
  const delivered = names.reduce((sum, n) => sum + (waited.containers[n]?.unique ?? 0), 0);
  const delay = loopDelay(metrics);
  const result: FleetResult = {
    containers: o.containers,
    linesPerSecond: o.linesPerSecond,
    seconds: o.seconds,
    cpuPercent: ((c1 - c0) / ((w1 - w0) / 1000)) * 100,
    rssMb: mem.rss,
    peakRssMb: peak,
    loopDelayP99Ms: delay.p99Ms,
    loopDelayMaxMs: delay.maxMs,
    probeDelayP99Ms: probeDelay.p99Ms,
    probeDelayMaxMs: probeDelay.maxMs,
    reconnects: sumMetric(metrics, 'docktail_follow_reconnects_total'),
    followStreams: metricValue(metrics, 'docktail_follow_streams'),
    expected,
    delivered,
    duplicates: names.reduce((sum, n) => sum + (waited.containers[n]?.duplicates ?? 0), 0),
    engineCpuPercent: ((e1 - e0) / ((w1 - w0) / 1000)) * 100,
    minFollowerCpuPercent: floor,
    minFollowerTickCpuPercent: tickFloor,
    finished: waited.finished,
  };
  if (!all) result.note = 'docktail did not follow every container before the start';
  return result;
}

// ------------------------------------------------------------------------------------------ latency

export interface LatencyResult {
  linesPerSecond: number;
  lines: number;
  received: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  batchwaitMs: number;
  note?: string;
}

export async function latency(
  ctx: BenchContext,
  o: { linesPerSecond: number; seconds: number },
): Promise<LatencyResult> {
  const phase = 'latency';
  const lines = o.linesPerSecond * o.seconds;
  const agent = await startPhaseAgent(ctx, phase);
  const { ids, names, go } = await startWaiting(
    ctx,
    phase,
    1,
    ticker(lines, Math.round(1e6 / o.linesPerSecond), 'latency'),
  );
  const name = names[0]!;
  await ctx.receiver.reset(name);
  const all = await followed(agent, 1);
  go();
  ctx.log(`latency: ${lines} lines at ${o.linesPerSecond}/s`);
  const waited = await until(
    ctx,
    c => (c[name]?.unique ?? 0) >= lines,
    c => c[name]?.unique ?? 0,
    o.seconds * 1000 + 60_000,
    15_000,
  );
  const stats = await ctx.receiver.stats(name);
  await agent.stop();
  await ctx.engine.removeAll(ids);
  const l = stats.latency;
  const result: LatencyResult = {
    linesPerSecond: o.linesPerSecond,
    lines,
    received: waited.containers[name]?.unique ?? 0,
    p50Ms: l?.p50 ?? Number.NaN,
    p90Ms: l?.p90 ?? Number.NaN,
    p99Ms: l?.p99 ?? Number.NaN,
    maxMs: l?.max ?? Number.NaN,
    batchwaitMs: 1000,
  };
  if (!all || !waited.finished) result.note = `received ${result.received} of ${lines}`;
  return result;
}

// -------------------------------------------------------------------------------------------- scale

export interface ScaleResult {
  containers: number;
  followed: number;
  /** docktail CPU % of a core over an idle window, and its RSS then. */
  cpuPercent: number;
  rssMb: number;
  /** RSS before any container was followed (same process), to show the per-follower cost. */
  baseRssMb: number;
  kbPerFollower: number;
  engineCpuPercent: number;
  engineRssMb: number;
  /** What docktail reports: open follow streams and the inotify budget (NaN before the gauges exist). */
  openFollowStreams: number;
  inotifyBudget: number;
  /** docktail's warning line about the budget, if it logged one. */
  warning?: string | undefined;
  note?: string;
}

export async function scale(
  ctx: BenchContext,
  o: { containers: number; idleSeconds: number },
): Promise<ScaleResult> {
  const phase = 'scale';
  await ctx.receiver.reset();
  const agent = await startPhaseAgent(ctx, phase);
  await sleep(2_000);
  const base = memoryMb(agent.pid).rss;
  ctx.log(`scale: starting ${o.containers} idle containers`);
  const { ids } = await startWaiting(ctx, phase, o.containers, 'exec sleep 100000', false);
  const all = await followed(agent, o.containers, 300_000);
  await sleep(5_000);
  const c0 = cpuSeconds(agent.pid);
  const e0 = cpuSeconds(ctx.engine.pid);
  const w0 = wallMs();
  await sleep(o.idleSeconds * 1000);
  const c1 = cpuSeconds(agent.pid);
  const e1 = cpuSeconds(ctx.engine.pid);
  const w1 = wallMs();
  const rss = memoryMb(agent.pid).rss;
  const metrics = await agent.metrics().catch(() => '');
  const warning = agent.log.find(l => /inotify/.test(l));
  const engineRss = memoryMb(ctx.engine.pid).rss;
  await agent.stop();
  await ctx.engine.removeAll(ids);
  const result: ScaleResult = {
    containers: o.containers,
    followed: metricValue(metrics, 'docktail_targets{state="following"}'),
    cpuPercent: ((c1 - c0) / ((w1 - w0) / 1000)) * 100,
    rssMb: rss,
    baseRssMb: base,
    kbPerFollower: ((rss - base) * 1000) / o.containers,
    engineCpuPercent: ((e1 - e0) / ((w1 - w0) / 1000)) * 100,
    engineRssMb: engineRss,
    openFollowStreams: metricValue(metrics, 'docktail_follow_streams'),
    inotifyBudget: metricValue(metrics, 'docktail_follow_streams_inotify_budget'),
    warning,
  };
  if (!all) result.note = 'docktail did not follow every container';
  return result;
}
