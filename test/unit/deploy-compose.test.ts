// deploy/docker-compose.yml, deploy/swarm.yml and the Dockerfile, checked structurally (no `docker
// compose` here): what a user relies on when running docktail as a service.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { load } from 'js-yaml';
import { REPO } from '../harness/agent.js';

type Yaml = Record<string, unknown>;
const yamlOf = (path: string): Yaml => load(readFileSync(join(REPO, path), 'utf8')) as Yaml;
const obj = (v: unknown): Yaml => {
  assert.ok(
    v !== null && typeof v === 'object' && !Array.isArray(v),
    `expected a mapping, got ${JSON.stringify(v)}`,
  );
  return v as Yaml;
};
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Short volume syntax `source:target[:mode]`, where source may be `${VAR:-/path}`. */
function parseVolume(spec: string): { source: string; target: string; mode: string } {
  const m = /^(.+?):(\/[^:]*)(?::(ro|rw))?$/.exec(spec);
  assert.ok(m, `not a volume: ${spec}`);
  return { source: m[1]!, target: m[2]!, mode: m[3] ?? 'rw' };
}

const seconds = (d: unknown): number => {
  const m = /^(\d+)(s|m)$/.exec(String(d));
  assert.ok(m, `not a duration: ${String(d)}`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
};

/** Service keys the compose 3.x schema accepts (docker/cli config_schema_v3.13.json), for stack deploy. */
const STACK_SERVICE_KEYS = new Set(
  `build cap_add cap_drop cgroup_parent cgroupns_mode command configs container_name credential_spec
  depends_on deploy devices dns dns_search domainname entrypoint env_file environment expose external_links
  extra_hosts healthcheck hostname image init ipc isolation labels links logging mac_address network_mode
  networks oom_score_adj pid ports privileged read_only restart secrets security_opt shm_size stdin_open
  stop_grace_period stop_signal sysctls tmpfs tty ulimits user userns_mode volumes working_dir`.split(/\s+/),
);

describe('deploy/docker-compose.yml', () => {
  const file = yamlOf('deploy/docker-compose.yml');
  const svc = obj(obj(file.services).docktail);
  const volumes = list(svc.volumes).map(v => parseVolume(String(v)));

  test('restarts unless stopped and reads .env, which is also where compose reads its variables', () => {
    assert.equal(svc.restart, 'unless-stopped');
    assert.deepEqual(list(svc.env_file), ['.env']);
    assert.match(String(svc.image), /^\$\{DOCKTAIL_IMAGE:-[^}]+\}$/);
    assert.equal(
      svc.build,
      undefined,
      'a build section needs the sources, which the deploy does not check out',
    );
  });

  test('mounts the Docker socket read-only, and adds its group for the non-root user', () => {
    const socket = volumes.find(v => v.target === '/var/run/docker.sock');
    assert.ok(socket);
    assert.equal(socket.mode, 'ro');
    assert.match(socket.source, /^\$\{DOCKER_SOCKET:-\/var\/run\/docker\.sock\}$/);
    assert.deepEqual(
      list(svc.group_add).map(g => String(g).replace(/:\?.*\}$/, '}')),
      [`\${DOCKER_GID}`],
      'group_add must require DOCKER_GID',
    );
  });

  test('keeps positions on a named volume, where DOCKTAIL_POSITIONS points', () => {
    const env = obj(svc.environment);
    const positions = volumes.find(v => String(env.DOCKTAIL_POSITIONS).startsWith(`${v.target}/`));
    assert.ok(positions, `no volume holds ${String(env.DOCKTAIL_POSITIONS)}`);
    assert.ok(
      Object.hasOwn(obj(file.volumes), positions.source),
      `${positions.source} is not a named volume`,
    );
    assert.equal(positions.mode, 'rw');
  });

  test('mounts config.yaml from its own folder read-only at the path the command names', () => {
    assert.deepEqual(list(svc.command), [
      '-config.file=/etc/docktail/config.yaml',
      '-config.expand-env=true',
    ]);
    const config = volumes.find(v => v.target === '/etc/docktail/config.yaml');
    assert.ok(config);
    assert.equal(config.mode, 'ro');
    assert.equal(config.source, './config.yaml');
    assert.ok(existsSync(join(REPO, 'deploy', 'config.yaml')));
  });

  test("publishes the HTTP port on the host's loopback only (or uses the host network)", () => {
    const ports = list(svc.ports).map(String);
    if (svc.network_mode === 'host') assert.deepEqual(ports, []);
    else {
      assert.ok(ports.length > 0);
      for (const p of ports) assert.match(p, /^127\.0\.0\.1:/);
    }
    assert.equal(obj(svc.environment).DOCKTAIL_HTTP_ADDRESS, '0.0.0.0');
  });

  test('gives docktail time to flush on stop, and bounds its own log', () => {
    assert.ok(seconds(svc.stop_grace_period) > 10, 'docktail flushes for up to 10 s on SIGTERM');
    const logging = obj(svc.logging);
    assert.equal(logging.driver, 'json-file');
    assert.ok(obj(logging.options)['max-size']);
  });
});

describe('deploy/swarm.yml', () => {
  const file = yamlOf('deploy/swarm.yml');
  const svc = obj(obj(file.services).docktail);

  test('runs one task per node', () => {
    assert.equal(obj(svc.deploy).mode, 'global');
  });

  test('uses only what `docker stack deploy` accepts (its 3.x schema has no group_add)', () => {
    for (const key of Object.keys(svc)) assert.ok(STACK_SERVICE_KEYS.has(key), `stack deploy rejects ${key}`);
    assert.deepEqual(Object.keys(file).sort(), ['configs', 'services', 'volumes']);
    assert.match(String(svc.user), /^1000:\$\{DOCKER_GID:\?/);
  });

  test('mounts the socket read-only and the config from config.yaml, keeps positions per node', () => {
    const volumes = list(svc.volumes).map(obj);
    const socket = volumes.find(v => v.target === '/var/run/docker.sock');
    assert.equal(socket?.type, 'bind');
    assert.equal(socket?.read_only, true);
    const positions = volumes.find(v => v.target === '/var/lib/docktail');
    assert.equal(positions?.type, 'volume');
    const [config] = list(svc.configs).map(obj);
    assert.equal(config?.target, '/etc/docktail/config.yaml');
    assert.equal(obj(obj(file.configs)[String(config?.source)]).file, './config.yaml');
    assert.deepEqual(list(svc.command), [
      '-config.file=/etc/docktail/config.yaml',
      '-config.expand-env=true',
    ]);
    assert.equal(obj(svc.environment).DOCKTAIL_HOST_LABEL, '{{.Node.Hostname}}');
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const froms = [...text.matchAll(/^FROM (\S+)/gm)].map(m => m[1]);

  test('builds in a stage with dev dependencies and runs on the Node 24 base with a pruned copy', () => {
    assert.match(text, /^ARG NODE_IMAGE=node:24-[a-z]+-slim$/m);
    assert.deepEqual(froms, [`\${NODE_IMAGE}`, `\${NODE_IMAGE}`]);
    assert.match(text, /npm prune --omit=dev/);
    assert.match(text, /COPY --from=build \/app\/node_modules/);
  });

  test('runs `docktail` as a non-root user, with the default config and a health check on /ready', () => {
    assert.match(text, /^ENTRYPOINT \["docktail"\]$/m);
    assert.match(text, /^USER 1000:1000$/m);
    assert.match(text, /^COPY --from=build \/app\/deploy\/config\.yaml \/etc\/docktail\/config\.yaml$/m);
    assert.match(
      text,
      /^CMD \["-config\.file=\/etc\/docktail\/config\.yaml", "-config\.expand-env=true"\]$/m,
    );
    assert.match(text, /^HEALTHCHECK [^\n]*\\\n[^\n]*\/ready/m);
  });

  test('.dockerignore lets in only what the build reads', () => {
    const lines = readFileSync(join(REPO, '.dockerignore'), 'utf8')
      .split('\n')
      .filter(l => l && !l.startsWith('#'));
    assert.equal(lines[0], '*');
    for (const allowed of lines.slice(1)) {
      assert.match(allowed, /^!/);
      assert.ok(existsSync(join(REPO, allowed.slice(1))), `${allowed} names nothing`);
    }
  });
});
