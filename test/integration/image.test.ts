// The container image: built from the real Dockerfile against the private engine with no network
// (base image: a local stand-in, see image-stand-in.ts; dependencies: DEPS=context), inspected, then run
// as users run it (socket mounted read-only, default command) against a receiver on 127.0.0.1.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { LokiReceiver } from '../fakes/loki-receiver.js';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import { REPO } from '../harness/agent.js';
import {
  docker,
  dockerHost,
  removeContainers,
  runContainer,
  TEST_IMAGE,
  uniqueName,
  waitExit,
} from '../harness/docker.js';
import { entriesOf, expectDelivered, tempDir } from '../harness/setup.js';
import { dockerfileBaseImage, importStandIn, offlineContext, STAND_IN_LABEL } from './image-stand-in.js';

const run = promisify(execFile);
const IMAGE = 'docktail-test/image:1';
const BUILD_STAGE = 'docktail-test/image-build:1';
const CANARY = 'http://canary-from-dot-env.invalid';
const PROD_DEPS = Object.keys(
  (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> })
    .dependencies,
);
const DEV_DEPS = [
  'typescript',
  'tsx',
  '@biomejs/biome',
  'fast-check',
  'playwright-core',
  '@action-validator/core',
];

/** A port free on 127.0.0.1 right now, for docktail's HTTP server on the host network. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(res => server.listen(0, '127.0.0.1', res));
  const address = server.address();
  await new Promise(res => server.close(res));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function build(context: string, extra: string[]): Promise<void> {
  try {
    await run(
      'docker',
      ['-H', dockerHost(), 'build', '--network', 'none', '--build-arg', 'DEPS=context', ...extra, context],
      { maxBuffer: 64 * 1024 * 1024, timeout: 240_000 },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `docker build failed: ${e.message}\n${e.stdout?.slice(-4000)}\n${e.stderr?.slice(-4000)}`,
    );
  }
}

async function inspect<T>(ref: string, format = '{{json .}}'): Promise<T> {
  return JSON.parse(await docker(['inspect', '--format', format, ref])) as T;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

interface ImageConfig {
  Size: number;
  Config: {
    User: string;
    Entrypoint: string[];
    Cmd: string[];
    Env: string[];
    Labels: Record<string, string>;
    ExposedPorts: Record<string, unknown>;
    Volumes: Record<string, unknown>;
    Healthcheck: { Test: string[] };
  };
}

describe('the docktail image', () => {
  const base = dockerfileBaseImage(join(REPO, 'Dockerfile'));
  const containers: string[] = [];
  const volume = `docktail-test-positions-${process.pid}`;
  let createdBase = false;
  let socketGid = '';
  let receiver: LokiReceiver;

  before(async () => {
    const dir = tempDir('image');
    const present = await docker(['image', 'inspect', base]).then(
      () => true,
      () => false,
    );
    if (!present) {
      await importStandIn(dockerHost(), join(dir, 'base'), base);
      createdBase = true;
    }
    const context = join(dir, 'context');
    await offlineContext(REPO, context, CANARY);
    await build(context, ['--build-arg', 'VERSION=9.9.9-test', '-t', IMAGE]);
    // The same build up to the first stage (all cached): what the context brought in.
    await build(context, ['--target', 'build', '-t', BUILD_STAGE]);
    socketGid = (await run('stat', ['-c', '%g', dockerHost().replace(/^unix:\/\//, '')])).stdout.trim();
    receiver = await startLokiReceiver();
  });

  after(async () => {
    await removeContainers(containers);
    await docker(['volume', 'rm', '-f', volume]).catch(() => {});
    await receiver?.close();
    await docker(['image', 'rm', '-f', IMAGE, BUILD_STAGE]).catch(() => {});
    if (createdBase) {
      const labels = await inspect<Record<string, string>>(base, '{{json .Config.Labels}}').catch(
        (): Record<string, string> => ({}),
      );
      if (labels?.[STAND_IN_LABEL]) await docker(['image', 'rm', '-f', base]).catch(() => {});
    }
  });

  test('is configured as documented: entrypoint, default config, non-root, health check, OCI labels', async () => {
    const [img] = await inspect<ImageConfig[]>(IMAGE, '{{json .}}').then(i => (Array.isArray(i) ? i : [i]));
    const c = img!.Config;
    assert.deepEqual(c.Entrypoint, ['docktail']);
    assert.deepEqual(c.Cmd, ['-config.file=/etc/docktail/config.yaml', '-config.expand-env=true']);
    assert.equal(c.User, '1000:1000');
    assert.ok(c.Healthcheck.Test.join(' ').includes('/ready'), c.Healthcheck.Test.join(' '));
    assert.ok('9080/tcp' in c.ExposedPorts);
    assert.ok('/var/lib/docktail' in c.Volumes);
    for (const env of ['NODE_ENV=production', 'DOCKTAIL_POSITIONS=/var/lib/docktail/positions.yaml']) {
      assert.ok(c.Env.includes(env), `missing ${env} in ${c.Env.join(' ')}`);
    }
    assert.equal(c.Labels['org.opencontainers.image.title'], 'docktail');
    assert.equal(c.Labels['org.opencontainers.image.version'], '9.9.9-test');
    assert.equal(c.Labels['org.opencontainers.image.base.name'], base);
    assert.ok(c.Labels['org.opencontainers.image.licenses']);
    assert.match(
      await docker(['run', '--rm', '--network', 'none', IMAGE, '-version']),
      /^docktail \S+ \(node v24\./,
    );
    const check = await docker(['run', '--rm', '--network', 'none', IMAGE, ...c.Cmd, '-check-syntax']);
    assert.match(check, /\/etc\/docktail\/config\.yaml: valid configuration/);
  });

  test('holds production dependencies only, and nothing .dockerignore keeps out', async t => {
    const script = `const fs = require('fs');
      const found = m => fs.existsSync('/app/node_modules/' + m + '/package.json');
      console.log(JSON.stringify({ app: fs.readdirSync('/app').sort(),
        prod: ${JSON.stringify(PROD_DEPS)}.filter(found), dev: ${JSON.stringify(DEV_DEPS)}.filter(found),
        maps: fs.readdirSync('/app/dist', { recursive: true }).filter(f => String(f).endsWith('.map')).length,
        uid: process.getuid(), gid: process.getgid() }))`;
    const out = JSON.parse(
      await docker(['run', '--rm', '--network', 'none', '--entrypoint', 'node', IMAGE, '-e', script]),
    ) as { app: string[]; prod: string[]; dev: string[]; maps: number; uid: number; gid: number };
    assert.deepEqual(out.app, ['bin', 'dist', 'node_modules', 'package.json']);
    assert.deepEqual(out.prod, PROD_DEPS, 'production dependencies missing from the image');
    assert.deepEqual(out.dev, [], 'dev dependencies in the image');
    assert.equal(out.maps, 0);
    assert.deepEqual([out.uid, out.gid], [1000, 1000]);

    // The build stage saw only the allowlisted files (and node_modules, which this context adds).
    const ctx = (
      await docker(['run', '--rm', '--network', 'none', '--entrypoint', 'ls', BUILD_STAGE, '-A', '/app'])
    )
      .split(/\s+/)
      .sort();
    assert.deepEqual(ctx, [
      'bin',
      'deploy',
      'dist',
      'node_modules',
      'package-lock.json',
      'package.json',
      'src',
      'tsconfig.build.json',
      'tsconfig.json',
    ]);
    assert.equal(
      await docker(['run', '--rm', '--network', 'none', '--entrypoint', 'ls', BUILD_STAGE, '/app/deploy']),
      'config.yaml',
    );

    const [img] = await inspect<ImageConfig[]>(IMAGE).then(i => (Array.isArray(i) ? i : [i]));
    const [baseImg] = await inspect<ImageConfig[]>(base).then(i => (Array.isArray(i) ? i : [i]));
    const added = img!.Size - baseImg!.Size;
    t.diagnostic(
      `image ${Math.round(img!.Size / 1e6)} MB = base ${Math.round(baseImg!.Size / 1e6)} MB + docktail ${Math.round(added / 1e6)} MB`,
    );
    assert.ok(added < 60e6, `docktail adds ${added} bytes to the base image`);
  });

  /**
   * Starts the image as users do: host network, the socket read-only, the default command. The health
   * check runs every second; its start period is 1 s (0 would mean the image's 30 s, during which
   * failures do not count).
   */
  const startDocktail = async (args: string[]): Promise<string> => {
    const socket = dockerHost().replace(/^unix:\/\//, '');
    const port = await freePort();
    const id = await docker(
      ['run', '-d', '--network', 'host', '-v', `${socket}:/var/run/docker.sock:ro`]
        .concat([
          '-e',
          `DOCKTAIL_HTTP_PORT=${port}`,
          '--health-interval',
          '1s',
          '--health-start-period',
          '1s',
        ])
        .concat(args, [IMAGE]),
    );
    containers.push(id);
    return id;
  };
  const health = (id: string): Promise<string> => docker(['inspect', '-f', '{{.State.Health.Status}}', id]);

  test('without the socket group it cannot read the socket, says so, and is unhealthy', async () => {
    const id = await startDocktail([
      '--health-retries',
      '2',
      '-e',
      'LOKI_URL=http://127.0.0.1:9/loki/api/v1/push',
    ]);
    await waitFor(
      'EACCES in the log',
      async () => (await logsOf(id)).includes('EACCES /var/run/docker.sock'),
      20_000,
    );
    await waitFor('the health check to fail', async () => (await health(id)) === 'unhealthy', 30_000);
    await docker(['rm', '-f', id]);
  });

  test("with group_add, ships a container's lines with container, stream, compose and host labels", async () => {
    const id = await startDocktail(
      [
        '--group-add',
        socketGid,
        '-v',
        `${volume}:/var/lib/docktail`,
        '-e',
        `LOKI_URL=${receiver.url}`,
      ].concat(['-e', 'DOCKTAIL_HOST_LABEL=image-test-host']),
    );
    await waitFor('the container to be healthy', async () => (await health(id)) === 'healthy', 60_000).catch(
      async (err: Error) => {
        throw new Error(`${err.message}\n${await logsOf(id)}`);
      },
    );

    const name = uniqueName('image-web');
    const app = await runContainer('for i in $(seq 1 40); do echo "out $i"; echo "err $i" >&2; done', {
      name,
      labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' },
    });
    containers.push(app);
    await waitExit(app);
    const d = await expectDelivered(receiver, app, name, 30_000);
    assert.equal(d.written, 80);
    const labelSets = new Set(entriesOf(receiver, name).map(e => e.labelsString));
    assert.deepEqual([...labelSets].sort(), [
      `{compose_project="shop", compose_service="web", container="${name}", host="image-test-host", stream="stderr"}`,
      `{compose_project="shop", compose_service="web", container="${name}", host="image-test-host", stream="stdout"}`,
    ]);

    // docker stop sends SIGTERM: docktail flushes, writes its positions to the volume and exits 0.
    await docker(['stop', '-t', '30', id], { timeoutMs: 60_000 });
    assert.equal(await docker(['inspect', '-f', '{{.State.ExitCode}}', id]), '0');
    const positions = await docker([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${volume}:/data`,
      TEST_IMAGE,
      'cat',
      '/data/positions.yaml',
    ]);
    assert.ok(positions.includes(app), `positions on the volume do not name ${app}:\n${positions}`);
  });
});

async function logsOf(id: string): Promise<string> {
  const { stdout, stderr } = await run('docker', ['-H', dockerHost(), 'logs', id], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout + stderr;
}
