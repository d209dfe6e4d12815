// Test helpers for the private engine that scripts/test.mjs starts: run containers (always with
// --network none), wait for them, and read the ground truth of their logs from the engine itself.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const TEST_IMAGE = 'docktail-test/busybox:1';

/** The engine under test; the suite refuses to run against the host's own engine by accident. */
export function dockerHost(): string {
  const host = process.env.DOCKTAIL_TEST_DOCKER_HOST;
  if (!host) throw new Error('DOCKTAIL_TEST_DOCKER_HOST is not set: run the tests through `npm test`');
  return host;
}

/** Runs the docker CLI against the test engine and returns its stdout, trimmed. */
export async function docker(args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
  const { stdout } = await run('docker', ['-H', dockerHost(), ...args], {
    maxBuffer: 512 * 1024 * 1024,
    timeout: options.timeoutMs ?? 60_000,
  });
  return stdout.trim();
}

export interface RunOptions {
  name?: string;
  tty?: boolean;
  labels?: Record<string, string>;
  restart?: string;
  logOpts?: Record<string, string>;
  logDriver?: string;
  /** Create without starting. */
  createOnly?: boolean;
}

let counter = 0;
/** A container name unique to this test process. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Date.now() % 100000}`;
}

/** Starts (or creates) a detached container running `sh -c script`; returns its id. */
export async function runContainer(script: string, options: RunOptions = {}): Promise<string> {
  const args = [
    options.createOnly ? 'create' : 'run',
    ...(options.createOnly ? [] : ['-d']),
    '--network',
    'none',
  ];
  if (options.name) args.push('--name', options.name);
  if (options.tty) args.push('-t');
  if (options.restart) args.push('--restart', options.restart);
  if (options.logDriver) args.push('--log-driver', options.logDriver);
  for (const [k, v] of Object.entries(options.labels ?? {})) args.push('--label', `${k}=${v}`);
  for (const [k, v] of Object.entries(options.logOpts ?? {})) args.push('--log-opt', `${k}=${v}`);
  args.push(TEST_IMAGE, 'sh', '-c', script);
  return docker(args);
}

/** Waits until the container has exited; returns its exit code. */
export async function waitExit(id: string): Promise<number> {
  return Number(await docker(['wait', id], { timeoutMs: 300_000 }));
}

export async function removeContainers(ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await docker(['rm', '-f', ...ids]).catch(() => {});
}

export interface TruthLine {
  stream: 'stdout' | 'stderr';
  /** The engine's RFC3339Nano timestamp, as printed by `docker logs -t`. */
  ts: string;
  line: string;
}

/** What the engine holds for a container: every line with its stream and timestamp. */
export async function groundTruth(id: string): Promise<TruthLine[]> {
  const { stdout, stderr } = await run('docker', ['-H', dockerHost(), 'logs', '-t', id], {
    maxBuffer: 512 * 1024 * 1024,
  });
  const parse = (text: string, stream: 'stdout' | 'stderr'): TruthLine[] =>
    text
      .split('\n')
      .filter((l, i, all) => !(l === '' && i === all.length - 1))
      .map(l => {
        const space = l.indexOf(' ');
        const ts = l.slice(0, space);
        // The CLI repeats the timestamp before every 16 KiB part of a long line (docker/cli #4941).
        const line = l
          .slice(space + 1)
          .split(`${ts} `)
          .join('')
          .replace(/\r$/, '');
        return { stream, ts, line };
      });
  return [...parse(stdout, 'stdout'), ...parse(stderr, 'stderr')];
}

/** `2026-11-21T06:06:17.583329550Z` → seconds and nanoseconds. */
export function parseRfc3339Nano(ts: string): { sec: number; nsec: number } {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) throw new Error(`not a timestamp: ${ts}`);
  const sec = Date.parse(`${m[1]}${m[3]}`) / 1000;
  const nsec = Number((m[2] ?? '').padEnd(9, '0'));
  return { sec, nsec };
}
