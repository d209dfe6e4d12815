// Runs the docktail command as a real child process, as users do. With `paths`, it runs in a private
// mount namespace where /run (so /var/run/docker.sock) and /var/log are the test's own directories:
// that lets a user's config with absolute paths run unchanged against the test engine.

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerHost } from './docker.js';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const MAIN = join(REPO, 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');

export interface AgentProcess {
  readonly proc: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the exit code (or null after a signal). */
  readonly exited: Promise<number | null>;
  /** Waits until a line of stderr (docktail's own log) matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export interface StartAgentOptions {
  args: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /**
   * Bind the test's directories over /run and /var/log in a private mount namespace; /run/docker.sock
   * becomes a link to the test engine's socket.
   */
  namespace?: { runDir: string; logDir: string };
}

export function startAgent(options: StartAgentOptions): AgentProcess {
  const nodeArgs = [
    '--enable-experimental-regexp-engine-on-excessive-backtracks',
    '--import',
    TSX,
    MAIN,
    ...options.args,
  ];
  let command = process.execPath;
  let args = nodeArgs;
  if (options.namespace) {
    const { runDir, logDir } = options.namespace;
    mkdirSync(runDir, { recursive: true });
    mkdirSync(logDir, { recursive: true });
    const sock = join(runDir, 'docker.sock');
    if (!existsSync(sock)) symlinkSync(dockerHost().replace(/^unix:\/\//, ''), sock);
    command = 'unshare';
    args = [
      '-m',
      'sh',
      '-c',
      `mount --bind "$1" /run && mount --bind "$2" /var/log && shift 2 && exec "$@"`,
      'sh',
      runDir,
      logDir,
      process.execPath,
      ...nodeArgs,
    ];
  }
  const proc = spawn(command, args, {
    cwd: options.cwd ?? REPO,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const collect = (stream: NodeJS.ReadableStream, into: string[], notify: boolean) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        into.push(line);
        if (notify) for (const l of listeners) l(line);
      }
    });
  };
  collect(proc.stdout!, stdout, false);
  collect(proc.stderr!, stderr, true);
  if (process.env.DOCKTAIL_TEST_VERBOSE) proc.stderr!.on('data', d => process.stderr.write(d));
  const exited = new Promise<number | null>(res => proc.on('exit', code => res(code)));

  return {
    proc,
    stdout,
    stderr,
    exited,
    waitForLog(pattern, timeoutMs = 30_000) {
      const found = stderr.find(l => pattern.test(l));
      if (found) return Promise.resolve(found);
      return new Promise((res, rej) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          rej(
            new Error(
              `no log line matched ${pattern} within ${timeoutMs} ms:\n${stderr.slice(-30).join('\n')}`,
            ),
          );
        }, timeoutMs);
        const listener = (line: string) => {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          res(line);
        };
        listeners.add(listener);
        void exited.then(() => {
          if (!listeners.has(listener)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          rej(new Error(`docktail exited before logging ${pattern}:\n${stderr.slice(-30).join('\n')}`));
        });
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 30_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
