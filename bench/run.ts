//! `npm run bench`: docktail end to end against a private Docker engine (scripts/dockerd.mjs) and a
//! counting Loki receiver in its own process (bench/receiver.ts), printed as one table and saved to
//! bench/results/latest.json. Figures are reported, never judged fatal: the exit code is 0 whatever they
//! are (non-zero only when the set-up itself fails).
//!
//!   node --import tsx bench/run.ts [--only backlog,pipeline,fleet,latency,scale] [--lines N]
//!        [--fleet N] [--fleet-seconds S] [--scale N] [--profile] [--node-flags='--x --y']
//!        [--dist DIR (a dist/ built already, e.g. a variant to compare)] [--out FILE]
//!        [--node BIN (the node binary docktail runs on, e.g. the image's Node 24)]
//!
//! BENCH_ENGINE_DIR=<dir> keeps (or reuses) the engine in <dir> between runs instead of a fresh one.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDocktail, Engine, imageNodeOptions, LoopProbe, REPO, Receiver } from './harness.js';
import {
  type BacklogResult,
  type BenchContext,
  backlog,
  checkSyntax,
  type FleetResult,
  fleet,
  type LatencyResult,
  latency,
  PIPELINE_STAGES,
  type ScaleResult,
  scale,
} from './phases.js';
import { renderTable } from './table.js';

interface DockerdModule {
  startDockerd(dir: string): Promise<{ host: string; dir: string; pid: number }>;
  stopDockerd(pid: number, dir?: string): Promise<void>;
  readPid(dir: string): number;
  buildTestImage(host: string, workDir: string): Promise<void>;
}

export interface BenchResults {
  startedAt: string;
  node: string;
  cpus: number;
  loadAverageAtStart: number[];
  engineApi: string;
  inotifyMaxUserInstances: number;
  /** Extra node flags docktail ran with (none in a normal run). */
  nodeFlags?: string[];
  /** The image's NODE_OPTIONS (from the Dockerfile), which docktail runs with in every phase. */
  imageNodeOptions?: string[];
  backlog?: BacklogResult;
  pipeline?: BacklogResult | { skipped: string };
  fleet?: FleetResult;
  latency?: LatencyResult;
  scale?: ScaleResult;
  errors: string[];
}

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    lines: { type: 'string', default: '1000000' },
    fleet: { type: 'string', default: '100' },
    'fleet-seconds': { type: 'string', default: '30' },
    scale: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'node-flags': { type: 'string' },
    node: { type: 'string' },
    dist: { type: 'string' },
    out: { type: 'string', default: join(REPO, 'bench', 'results', 'latest.json') },
  },
});
const only = new Set((values.only ?? 'backlog,fleet,latency,pipeline').split(','));
if (values.scale !== undefined) only.add('scale');
const lines = Number(values.lines);

const log = (message: string) => process.stderr.write(`# ${message}\n`);
const dockerd = (await import(new URL('../scripts/dockerd.mjs', import.meta.url).href)) as DockerdModule;

const work = mkdtempSync(join(tmpdir(), 'docktail-bench-'));
const results: BenchResults = {
  startedAt: new Date().toISOString(),
  node: execFileSync(values.node ?? process.execPath, ['--version'], { encoding: 'utf8' }).trim(),
  cpus: cpus().length,
  loadAverageAtStart: loadavg().map(l => Math.round(l * 100) / 100),
  engineApi: '',
  inotifyMaxUserInstances: Number(readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8').trim()),
  errors: [],
};

let owned: { pid: number; dir: string } | undefined;
let receiver: Receiver | undefined;
let probe: LoopProbe | undefined;
try {
  const kept = process.env.BENCH_ENGINE_DIR;
  let host: string;
  let pid: number;
  if (kept !== undefined && existsSync(join(kept, 'docker.sock'))) {
    host = `unix://${join(kept, 'docker.sock')}`;
    pid = dockerd.readPid(kept);
    log(`reusing engine pid ${pid} in ${kept}`);
  } else {
    const started = await dockerd.startDockerd(kept ?? join(work, 'engine'));
    host = started.host;
    pid = started.pid;
    if (kept === undefined) owned = started;
    log(`private dockerd pid ${pid} on ${host}`);
  }
  await dockerd.buildTestImage(host, work);
  const engine = new Engine(host, pid);
  results.engineApi = await engine.apiVersion();
  let main: string;
  if (values.dist !== undefined) {
    // Its installed command when it sits beside it (a checkout), so the command's V8 settings count.
    const bin = join(values.dist, '..', 'bin', 'docktail.js');
    main = existsSync(bin) ? bin : join(values.dist, 'cli', 'main.js');
    log(`using the build in ${values.dist}`);
  } else {
    log('building docktail (tsc → dist)');
    main = await buildDocktail(join(work, 'build'));
  }
  receiver = await Receiver.start();
  probe = await LoopProbe.start();
  let profileDir: string | undefined;
  if (values.profile) {
    profileDir = join(REPO, 'bench', 'results', `profile-${Date.now()}`);
    mkdirSync(profileDir, { recursive: true });
    log(`CPU profiles in ${profileDir}`);
  }
  const nodeFlags = values['node-flags']?.split(' ').filter(f => f !== '');
  results.nodeFlags = nodeFlags ?? [];
  results.imageNodeOptions = imageNodeOptions();
  const node = values.node ?? process.execPath;
  const ctx: BenchContext = { engine, receiver, probe, main, node, dir: work, profileDir, nodeFlags, log };

  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    if (!only.has(name)) return undefined;
    try {
      return await fn();
    } catch (err) {
      const message = `${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
      results.errors.push(message);
      log(message);
      return undefined;
    }
  };

  results.backlog = await phase('backlog', () => backlog(ctx, { phase: 'backlog', lines }));
  results.pipeline = await phase('pipeline', async () => {
    const config = join(work, 'pipeline-check.yml');
    writeFileSync(
      config,
      `clients:\n  - url: ${receiver!.url}\nscrape_configs:\n  - job_name: bench\n    docker_sd_configs:\n      - host: ${host}\n${PIPELINE_STAGES}`,
    );
    const refused = checkSyntax(ctx, config);
    if (refused !== undefined) return { skipped: `docktail refuses the pipeline config: ${refused}` };
    return backlog(ctx, { phase: 'pipeline', lines, json: true, pipelineStages: PIPELINE_STAGES });
  });
  results.fleet = await phase('fleet', () =>
    fleet(ctx, {
      containers: Number(values.fleet),
      linesPerSecond: 10,
      seconds: Number(values['fleet-seconds']),
    }),
  );
  results.latency = await phase('latency', () => latency(ctx, { linesPerSecond: 100, seconds: 20 }));
  results.scale = await phase('scale', () =>
    scale(ctx, { containers: Number(values.scale ?? 1000), idleSeconds: 20 }),
  );
} catch (err) {
  results.errors.push(`setup: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  await receiver?.close();
  probe?.close();
  if (owned !== undefined) await dockerd.stopDockerd(owned.pid, owned.dir);
}

process.stdout.write(renderTable(results));
mkdirSync(join(REPO, 'bench', 'results'), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
log(`figures written to ${values.out}`);
try {
  rmSync(work, { recursive: true, force: true, maxRetries: 3 });
} catch (err) {
  // An engine's leftover mount (netns) can refuse removal for a moment; the figures are already out.
  log(`could not remove ${work}: ${err instanceof Error ? err.message : String(err)}`);
}
