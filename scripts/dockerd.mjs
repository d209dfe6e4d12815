// Starts and stops a private Docker engine for the tests and the benchmark: its own socket, data root,
// exec root and pid file under one directory, no bridge and no iptables, so it touches nothing else on the
// host. Also builds the tiny test image from Debian's busybox-static (no image can be pulled here).

import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const TEST_IMAGE = 'docktail-test/busybox:1';
const BUSYBOX = '/bin/busybox';
const APPLETS = [
  'sh',
  'echo',
  'sleep',
  'printf',
  'cat',
  'seq',
  'yes',
  'head',
  'true',
  'date',
  'trap',
  'kill',
  'usleep',
];

/** @returns {Promise<{host: string, dir: string, pid: number}>} */
export async function startDockerd(dir) {
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'docker.sock');
  const pidfile = join(dir, 'docker.pid');
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const child = spawn(
    'dockerd',
    [
      `--host=unix://${sock}`,
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `--pidfile=${pidfile}`,
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
    ],
    { stdio: ['ignore', log, log], detached: true },
  );
  child.unref();
  const host = `unix://${sock}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`dockerd exited with ${child.exitCode}; see ${dir}/dockerd.log`);
    if (existsSync(sock)) {
      try {
        await run('docker', ['-H', host, 'version', '--format', '{{.Server.APIVersion}}']);
        break;
      } catch {}
    }
    if (Date.now() > deadline) throw new Error(`dockerd did not answer within 60 s; see ${dir}/dockerd.log`);
    await sleep(200);
  }
  return { host, dir, pid: child.pid };
}

/**
 * Stops the engine by its pid: SIGTERM, then SIGKILL after 20 s. Given the engine's folder, it then
 * detaches what the engine left mounted there (the network namespace under its exec root stays
 * mounted after it exits), so that the folder can be removed.
 */
export async function stopDockerd(pid, dir) {
  await endProcess(pid);
  if (dir) await unmountUnder(dir);
}

async function endProcess(pid) {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

/** Lazily unmounts every mount point at or below `dir`, deepest first. */
async function unmountUnder(dir) {
  const root = resolve(dir);
  const points = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    // The mount point is the second field; /proc/mounts writes a space inside it as \040.
    .map(line =>
      line.split(' ')[1]?.replace(/\\([0-7]{3})/g, (_, oct) => String.fromCharCode(Number.parseInt(oct, 8))),
    )
    .filter(point => point !== undefined && (point === root || point.startsWith(`${root}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of points) {
    try {
      await run('umount', ['-l', point]);
    } catch (err) {
      console.error(`# could not unmount ${point}: ${err instanceof Error ? err.message : err}`);
    }
  }
}

/** Reads the pid file an engine wrote (to stop one started by another process). */
export function readPid(dir) {
  return Number(readFileSync(join(dir, 'docker.pid'), 'utf8').trim());
}

/** Imports a busybox root filesystem as the test image, once per engine. */
export async function buildTestImage(host, workDir) {
  try {
    await run('docker', ['-H', host, 'image', 'inspect', TEST_IMAGE]);
    return;
  } catch {}
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: install Debian's busybox-static`);
  const root = join(workDir, 'busybox-root');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'tmp'), { recursive: true });
  copyFileSync(BUSYBOX, join(root, 'bin', 'busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', join(root, 'bin', applet));
  const tar = join(workDir, 'busybox.tar');
  await run('tar', ['-C', root, '-cf', tar, '.']);
  await run('docker', ['-H', host, 'import', '--change', 'ENV PATH=/bin', tar, TEST_IMAGE]);
}
