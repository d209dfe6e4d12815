// deploy/config.yaml and .env.example: the shipped config loads with docktail's own loader, every
// variable lands where it should, the labels are the ones users expect, and .env.example documents
// exactly the variables the deploy files read, with the same defaults.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseDotenv } from 'dotenv';
import { loadConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { compileRelabelConfigs } from '../../src/relabel/compile.js';
import { applyRelabel, finalizeLabels } from '../../src/relabel/relabel.js';
import { REPO } from '../harness/agent.js';

const read = (path: string): string => readFileSync(join(REPO, path), 'utf8');
const CONFIG = read('deploy/config.yaml');
const EXAMPLE = read('.env.example');
const DEPLOY_FILES = ['deploy/config.yaml', 'deploy/docker-compose.yml', 'deploy/swarm.yml'];

function load(env: Record<string, string>): Config {
  const result = loadConfigText(CONFIG, { expandEnv: true, env });
  assert.deepEqual(result.issues, []);
  assert.ok(result.config);
  return result.config;
}

/** `${NAME}`, `${NAME:-default}`, `${NAME:?message}` references: name → default (undefined if none). */
function references(text: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g)) {
    out.set(m[1]!, m[2]?.endsWith('-') ? m[3] : undefined);
  }
  return out;
}

/** `NAME=value` and `# NAME=value` lines of .env.example: name → value. */
function documented(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

describe('deploy/config.yaml', () => {
  test('loads with no variable set, with the documented defaults', () => {
    const c = load({});
    assert.equal(c.server.http_listen_address, '127.0.0.1');
    assert.equal(c.server.http_listen_port, 9080);
    assert.equal(c.positions.filename, './data/positions.yaml');
    assert.equal(c.clients.length, 1);
    assert.equal(c.clients[0]!.url, 'http://127.0.0.1:3100/loki/api/v1/push');
    assert.equal(c.clients[0]!.tenant_id, '');
    assert.deepEqual(c.clients[0]!.external_labels, { host: 'docker-host' });
    const sd = c.scrape_configs[0]!.docker_sd_configs[0]!;
    assert.equal(sd.host, 'unix:///var/run/docker.sock');
    assert.equal(sd.refresh_interval, 30_000);
    assert.deepEqual(sd.tls_config, { insecure_skip_verify: false });
  });

  const cases: Array<[string, string, (c: Config) => unknown, unknown]> = [
    ['LOKI_URL', 'https://u:p%23w@loki.example/loki/api/v1/push', c => c.clients[0]!.url, undefined],
    ['LOKI_TENANT_ID', 'team-a', c => c.clients[0]!.tenant_id, undefined],
    ['DOCKTAIL_HOST_LABEL', 'node-7', c => c.clients[0]!.external_labels.host, undefined],
    [
      'DOCKTAIL_DOCKER_HOST',
      'tcp://engine.example:2376',
      c => c.scrape_configs[0]!.docker_sd_configs[0]!.host,
      undefined,
    ],
    [
      'DOCKTAIL_DOCKER_TLS_CA',
      '/certs/ca.pem',
      c => c.scrape_configs[0]!.docker_sd_configs[0]!.tls_config.ca_file,
      undefined,
    ],
    [
      'DOCKTAIL_DOCKER_TLS_CERT',
      '/certs/cert.pem',
      c => c.scrape_configs[0]!.docker_sd_configs[0]!.tls_config.cert_file,
      undefined,
    ],
    [
      'DOCKTAIL_DOCKER_TLS_KEY',
      '/certs/key.pem',
      c => c.scrape_configs[0]!.docker_sd_configs[0]!.tls_config.key_file,
      undefined,
    ],
    [
      'DOCKTAIL_REFRESH_INTERVAL',
      '5s',
      c => c.scrape_configs[0]!.docker_sd_configs[0]!.refresh_interval,
      5000,
    ],
    ['DOCKTAIL_POSITIONS', '/var/lib/docktail/positions.yaml', c => c.positions.filename, undefined],
    ['DOCKTAIL_HTTP_ADDRESS', '0.0.0.0', c => c.server.http_listen_address, undefined],
    ['DOCKTAIL_HTTP_PORT', '9100', c => c.server.http_listen_port, 9100],
    ['DOCKTAIL_LOG_LEVEL', 'debug', c => c.server.log_level, undefined],
    ['DOCKTAIL_LOG_FORMAT', 'json', c => c.server.log_format, undefined],
  ];
  for (const [name, value, get, parsed] of cases) {
    test(`${name} sets its key`, () => {
      // The TLS files go together (a certificate needs its key).
      const tls: Record<string, string> = name.startsWith('DOCKTAIL_DOCKER_TLS_')
        ? { DOCKTAIL_DOCKER_TLS_CERT: '/certs/cert.pem', DOCKTAIL_DOCKER_TLS_KEY: '/certs/key.pem' }
        : {};
      assert.equal(get(load({ ...tls, [name]: value })), parsed ?? value);
    });
  }

  test('every variable it reads is in the table above', () => {
    assert.deepEqual([...references(CONFIG).keys()].sort(), cases.map(c => c[0]).sort());
  });

  const relabel = (meta: Record<string, string>) => {
    const { rules, issues } = compileRelabelConfigs(load({}).scrape_configs[0]!.relabel_configs);
    assert.deepEqual(issues, []);
    const out = applyRelabel(meta, rules);
    return out === null ? null : finalizeLabels(out);
  };

  test('labels a compose container with container, stream, compose project and service', () => {
    assert.deepEqual(
      relabel({
        __meta_docker_container_name: '/shop-web-1',
        __meta_docker_container_log_stream: 'stderr',
        __meta_docker_container_label_com_docker_compose_project: 'shop',
        __meta_docker_container_label_com_docker_compose_service: 'web',
        __meta_docker_container_id: 'f00',
      }),
      { compose_project: 'shop', compose_service: 'web', container: 'shop-web-1', stream: 'stderr' },
    );
  });

  test('labels a swarm task with its stack and service, and a plain container with no empty label', () => {
    assert.deepEqual(
      relabel({
        __meta_docker_container_name: '/app_api.1.x2',
        __meta_docker_container_log_stream: 'stdout',
        __meta_docker_container_label_com_docker_stack_namespace: 'app',
        __meta_docker_container_label_com_docker_swarm_service_name: 'app_api',
      }),
      { container: 'app_api.1.x2', stream: 'stdout', swarm_service: 'app_api', swarm_stack: 'app' },
    );
    assert.deepEqual(
      relabel({ __meta_docker_container_name: '/solo', __meta_docker_container_log_stream: 'stdout' }),
      { container: 'solo', stream: 'stdout' },
    );
  });
});

describe('.env.example', () => {
  const docs = documented(EXAMPLE);
  const used = new Map<string, string | undefined>();
  for (const file of DEPLOY_FILES) for (const [k, v] of references(read(file))) used.set(k, used.get(k) ?? v);

  test('documents every variable the deploy files read, and no other', () => {
    assert.deepEqual([...docs.keys()].sort(), [...used.keys()].sort());
  });

  test("gives each variable the deploy files' own default", () => {
    for (const [name, def] of used) assert.equal(docs.get(name), def ?? '', `${name} in .env.example`);
  });

  test('sets only LOKI_URL as it is; docktail reads it and the config loads with it', () => {
    const vars = parseDotenv(EXAMPLE);
    assert.deepEqual(Object.keys(vars), ['LOKI_URL']);
    assert.equal(load(vars).clients[0]!.url, vars.LOKI_URL);
  });
});
