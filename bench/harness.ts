//! What the benchmark phases share: the private engine's docker CLI and raw logs endpoint, the receiver
//! child process (bench/receiver.ts), docktail as a child process built from src/ (so /proc shows its
//! CPU and memory alone), and /proc readers.

import { type ChildProcess, execFile, fork, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import PQueue from 'p-queue';
import { cpuSeconds, memoryBytes } from '../test/harness/proc.js';
import type { ReceiverStats } from './receiver.js';

const run = promisify(execFile);

export const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const IMAGE = 'docktail-test/busybox:1';

export const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));
export const wallMs = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------- /proc

// The readers themselves are test/harness/proc.ts, shared with the tests that measure docktail.
export { cpuSeconds };

/** VmRSS and VmHWM (peak RSS) of a process in MB (10^6 bytes), NaN once it is gone. */
export function memoryMb(pid: number): { rss: number; hwm: number } {
  const m = memoryBytes(pid);
  return { rss: m.rss / 1e6, hwm: m.hwm / 1e6 };
}

/** One CPU reading of a process at a wall-clock time. */
export interface CpuSample {
  at: number;
  cpu: number;
}

/** Samples a process's CPU every `everyMs` until stopped; `at(t)` interpolates between samples. */
export class CpuSampler {
  readonly samples: CpuSample[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #pid: number;

  constructor(pid: number, everyMs = 50) {
    this.#pid = pid;
    this.sample();
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): CpuSample {
    const s = { at: wallMs(), cpu: cpuSeconds(this.#pid) };
    if (!Number.isNaN(s.cpu)) this.samples.push(s);
    return s;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** CPU seconds at wall time `t`, interpolated linearly between the samples around it. */
  at(t: number): number {
    const s = this.samples;
    if (s.length === 0) return Number.NaN;
    if (t <= s[0]!.at) return s[0]!.cpu;
    for (let i = 1; i < s.length; i++) {
      const b = s[i]!;
      if (b.at >= t) {
        const a = s[i - 1]!;
        return a.cpu + ((b.cpu - a.cpu) * (t - a.at)) / (b.at - a.at);
      }
    }
    return s[s.length - 1]!.cpu;
  }
}

// -------------------------------------------------------------------------------------------- engine

export class Engine {
  readonly host: string;
  readonly socket: string;
  readonly pid: number;
  #api = '';

  constructor(host: string, pid: number) {
    this.host = host;
    this.socket = host.replace(/^unix:\/\//, '');
    this.pid = pid;
  }

  async docker(args: string[], timeoutMs = 120_000): Promise<string> {
    const { stdout } = await run('docker', ['-H', this.host, ...args], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: timeoutMs,
    });
    return stdout.trim();
  }

  /** `docker run -d --network none` of `sh -c script` with labels; returns the id. */
  async runContainer(name: string, labels: Record<string, string>, script: string): Promise<string> {
    const args = ['run', '-d', '--network', 'none', '--name', name];
    for (const [k, v] of Object.entries(labels)) args.push('--label', `${k}=${v}`);
    return this.docker([...args, IMAGE, 'sh', '-c', script]);
  }

  async removeAll(ids: readonly string[]): Promise<void> {
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += 50) batches.push(ids.slice(i, i + 50));
    await new PQueue({ concurrency: 4 }).addAll(
      batches.map(b => () => this.docker(['rm', '-f', ...b], 300_000).catch(() => '')),
    );
  }

  async apiVersion(): Promise<string> {
    this.#api ||= await this.docker(['version', '--format', '{{.Server.APIVersion}}']);
    return this.#api;
  }

  /**
   * The engine's own rate: reads the whole log of a container once (`follow=0`, timestamps on, as
   * docktail asks) on a plain socket into one reused buffer, discarding the bytes: the cheapest reader
   * there is, so the engine (not the reader) sets the pace. Returns wall ms, bytes and dockerd CPU s.
   */
  async readLogs(id: string): Promise<{ ms: number; bytes: number; engineCpu: number }> {
    const path = `/v${await this.apiVersion()}/containers/${id}/logs?stdout=1&stderr=1&timestamps=1&follow=0`;
    const cpu0 = cpuSeconds(this.pid);
    const t0 = performance.now();
    const buffer = Buffer.allocUnsafe(64 * 1024);
    let bytes = 0;
    await new Promise<void>((done, fail) => {
      const socket = net.connect({
        path: this.socket,
        onread: {
          buffer,
          callback: (n: number) => {
            bytes += n;
            return true;
          },
        },
      });
      socket.on('error', fail);
      socket.on('end', () => done());
      socket.write(`GET ${path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n`);
    });
    return { ms: performance.now() - t0, bytes, engineCpu: cpuSeconds(this.pid) - cpu0 };
  }
}

// ------------------------------------------------------------------------------------------ receiver

/** The receiver child process, driven over IPC. */
export class Receiver {
  readonly url: string;
  readonly proc: ChildProcess;
  #next = 0;
  readonly #pending = new Map<number, (value: unknown) => void>();

  private constructor(proc: ChildProcess, url: string) {
    this.proc = proc;
    this.url = url;
    proc.on('message', (msg: { id?: number }) => {
      if (msg.id === undefined) return;
      const resolveIt = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      resolveIt?.(msg);
    });
  }

  static async start(): Promise<Receiver> {
    const proc = fork(join(REPO, 'bench', 'receiver.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const url = await new Promise<string>((res, rej) => {
      proc.once('message', (msg: { url?: string }) => (msg.url ? res(msg.url) : rej(new Error('receiver'))));
      proc.once('exit', code => rej(new Error(`receiver exited with ${code}`)));
    });
    return new Receiver(proc, url);
  }

  #ask<T>(msg: Record<string, unknown>): Promise<T> {
    const id = this.#next++;
    return new Promise<T>(res => {
      this.#pending.set(id, res as (v: unknown) => void);
      this.proc.send({ id, ...msg });
    });
  }

  async stats(latency?: string): Promise<ReceiverStats> {
    const r = await this.#ask<{ stats: ReceiverStats }>(
      latency === undefined ? { cmd: 'stats' } : { cmd: 'stats', latency },
    );
    return r.stats;
  }

  async reset(latency?: string): Promise<void> {
    await this.#ask(latency === undefined ? { cmd: 'reset' } : { cmd: 'reset', latency });
  }

  async close(): Promise<void> {
    await Promise.race([this.#ask({ cmd: 'close' }), sleep(3000)]);
    if (this.proc.exitCode === null) this.proc.kill();
  }
}

/** bench/loop-probe.ts: an idle process's event-loop delay, the machine's noise floor. */
export class LoopProbe {
  readonly proc: ChildProcess;
  #next = 0;

  private constructor(proc: ChildProcess) {
    this.proc = proc;
  }

  static async start(): Promise<LoopProbe> {
    const proc = fork(join(REPO, 'bench', 'loop-probe.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((res, rej) => {
      proc.once('message', () => res());
      proc.once('exit', code => rej(new Error(`loop probe exited with ${code}`)));
    });
    return new LoopProbe(proc);
  }

  /** The delay since the last call (p99 and max, ms, one timer interval included); starts a new window. */
  take(): Promise<{ p99Ms: number; maxMs: number }> {
    const id = this.#next++;
    return new Promise(res => {
      const onMessage = (msg: { id?: number; p99Ms: number; maxMs: number }) => {
        if (msg.id !== id) return;
        this.proc.off('message', onMessage);
        res({ p99Ms: msg.p99Ms, maxMs: msg.maxMs });
      };
      this.proc.on('message', onMessage);
      this.proc.send({ id });
    });
  }

  close(): void {
    if (this.proc.connected) this.proc.disconnect();
  }
}

// ------------------------------------------------------------------------------------------ docktail

/**
 * Compiles src/ with tsc into `dir/dist`, beside a copy of package.json and a link to node_modules: the
 * same JavaScript the installed command runs (`bin/docktail.js` → `dist/cli/main.js`), without tsx's loader
 * in the measured process. tsc emits even when another file has a type error.
 */
export async function buildDocktail(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const tsc = join(REPO, 'node_modules', '.bin', 'tsc');
  try {
    await run(
      tsc,
      ['-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(dir, 'dist'), '--sourceMap', 'false'],
      {
        cwd: REPO,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  } catch (err) {
    // Type errors still emit; only a missing output is fatal.
    process.stderr.write(
      `note: tsc reported errors (output still emitted): ${String((err as { stdout?: string }).stdout ?? err).slice(0, 500)}\n`,
    );
  }
  writeFileSync(join(dir, 'package.json'), readFileSync(join(REPO, 'package.json')));
  // The installed command itself, so its V8 settings are measured too.
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'bin', 'docktail.js'), readFileSync(join(REPO, 'bin', 'docktail.js')));
  try {
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  } catch {}
  return join(dir, 'bin', 'docktail.js');
}

/**
 * The node options the image runs docktail with (the Dockerfile's `NODE_OPTIONS`), so that the process
 * measured runs as it does in production.
 */
export function imageNodeOptions(): string[] {
  const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const m = /^\s*NODE_OPTIONS=(\S+)/m.exec(dockerfile) ?? /^\s*NODE_OPTIONS="([^"]*)"/m.exec(dockerfile);
  return m === null ? [] : m[1]!.split(/\s+/).filter(f => f !== '');
}

export interface DocktailOptions {
  main: string;
  /** The node binary. @default this process's */
  node?: string;
  config: string;
  /** Directory for `--cpu-prof` output; no profile when undefined. */
  profileDir?: string | undefined;
  /** `--heapsnapshot-signal=SIGUSR2` so a snapshot can be taken. */
  heapSignal?: boolean;
  /** More node flags, e.g. `--max-semi-space-size=2`. */
  nodeFlags?: readonly string[] | undefined;
}

/** docktail as a child process; its own log lines are kept (for the port and for warnings). */
export class Docktail {
  readonly proc: ChildProcess;
  readonly log: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(o: DocktailOptions) {
    const args: string[] = [...imageNodeOptions()];
    if (o.profileDir !== undefined) args.push('--cpu-prof', `--cpu-prof-dir=${o.profileDir}`);
    if (o.heapSignal) args.push('--heapsnapshot-signal=SIGUSR2');
    args.push(...(o.nodeFlags ?? []));
    args.push(o.main, `-config.file=${o.config}`);
    this.proc = spawn(o.node ?? process.execPath, args, {
      cwd: REPO,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let rest = '';
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      this.log.push(...lines);
      if (process.env.BENCH_VERBOSE) for (const l of lines) process.stderr.write(`  docktail: ${l}\n`);
    });
    this.exited = new Promise(res => this.proc.on('exit', code => res(code)));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  async waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.log.find(l => pattern.test(l));
      if (found !== undefined) return found;
      if (this.proc.exitCode !== null)
        throw new Error(`docktail exited with ${this.proc.exitCode}:\n${this.log.slice(-20).join('\n')}`);
      if (Date.now() > deadline)
        throw new Error(`docktail never logged ${pattern}:\n${this.log.slice(-20).join('\n')}`);
      await sleep(20);
    }
  }

  /** The HTTP port from the `listening` line. */
  async port(): Promise<number> {
    const line = await this.waitForLog(/msg=listening/);
    return Number(/ port=(\d+)/.exec(line)?.[1]);
  }

  /** GET /metrics as text. */
  async metrics(): Promise<string> {
    const port = await this.port();
    return new Promise((res, rej) => {
      http
        .get({ host: '127.0.0.1', port, path: '/metrics' }, r => {
          let body = '';
          r.setEncoding('utf8');
          r.on('data', c => {
            body += c;
          });
          r.on('end', () => res(body));
        })
        .on('error', rej);
    });
  }

  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A metric's value from Prometheus text (first series whose line starts with `name`), NaN if absent. */
export function metricValue(text: string, name: string): number {
  const line = text.split('\n').find(l => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

export interface BenchConfigOptions {
  dir: string;
  engineHost: string;
  receiverUrl: string;
  /** Containers with label docktail.bench=<phase> are followed. */
  phase: string;
  batchwait?: string;
  pipelineStages?: string;
}

/** A docktail config for one phase: container and stream labels, as the tests use. */
export function writeConfig(o: BenchConfigOptions): string {
  const file = join(o.dir, `config-${o.phase}.yml`);
  writeFileSync(
    file,
    `server:
  http_listen_address: 127.0.0.1
  http_listen_port: 0
positions:
  filename: ${join(o.dir, `positions-${o.phase}.yaml`)}
clients:
  - url: ${o.receiverUrl}
    batchwait: ${o.batchwait ?? '1s'}
scrape_configs:
  - job_name: bench
    docker_sd_configs:
      - host: ${o.engineHost}
        refresh_interval: 60s
        filters:
          - name: label
            values: ['docktail.bench=${o.phase}']
    relabel_configs:
      - source_labels: ['__meta_docker_container_name']
        regex: '/(.*)'
        target_label: 'container'
      - source_labels: ['__meta_docker_container_log_stream']
        target_label: 'stream'
${o.pipelineStages ?? ''}`,
  );
  return file;
}
