// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text holding ${VAR} references
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type LoadResult, loadConfigText } from '../../src/config/load.js';
import { PIPELINE_STAGE_NAMES } from '../../src/config/schema.js';
import { requireClients } from '../../src/config/validate.js';
import { formatIssues, formatPath } from '../../src/core/errors.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/config');
const read = (name: string) => readFileSync(join(fixtures, name), 'utf8');
const load = (text: string, env: Record<string, string> = {}): LoadResult =>
  loadConfigText(text, { expandEnv: false, env, cwd: fixtures, executableStages: PIPELINE_STAGE_NAMES });

/** `path @line: message` for compact assertions. */
function summary(r: LoadResult): string[] {
  return r.issues.map(i => `${formatPath(i.path)} @${i.line}: ${i.message}`);
}

const MINIMAL = 'clients:\n  - url: http://loki:3100/loki/api/v1/push\n';

describe('validation: defaults', () => {
  it('fills Promtail defaults for an almost empty config', () => {
    const r = load(MINIMAL);
    assert.deepEqual(r.issues, []);
    const c = r.config!;
    assert.deepEqual(c.server, {
      http_listen_address: '',
      http_listen_port: 80,
      log_level: 'info',
      log_format: 'logfmt',
    });
    assert.deepEqual(c.positions, {
      filename: '/var/log/positions.yaml',
      sync_period: 10_000,
      ignore_invalid_yaml: false,
    });
    assert.deepEqual(c.clients[0], {
      url: 'http://loki:3100/loki/api/v1/push',
      name: '',
      tenant_id: '',
      batchwait: 1_000,
      batchsize: 1_048_576,
      timeout: 10_000,
      external_labels: {},
      headers: {},
      tls_config: { insecure_skip_verify: false },
      backoff_config: { min_period: 500, max_period: 300_000, max_retries: 10 },
      drop_rate_limited_batches: false,
    });
    assert.deepEqual(c.scrape_configs, []);
    assert.deepEqual(c.limits_config, { max_line_size: 0, max_line_size_truncate: false });
  });

  for (const text of ['', '# only a comment\n', '---\n', 'server:\n']) {
    it(`accepts ${JSON.stringify(text)} as all defaults, without clients`, () => {
      const r = load(text);
      assert.deepEqual(r.issues, []);
      assert.deepEqual(r.config!.clients, []);
      const missing = requireClients(r.config!, r.locate);
      assert.equal(missing.length, 1);
      assert.deepEqual(missing[0]!.path, ['clients']);
      assert.match(missing[0]!.message, /No client/);
    });
  }

  it('requireClients passes with a client', () => {
    assert.deepEqual(requireClients(load(MINIMAL).config!), []);
  });

  it('docker_sd_configs defaults', () => {
    const r = load(
      `${MINIMAL}scrape_configs:\n  - job_name: d\n    docker_sd_configs:\n      - host: unix:///run/docker.sock\n`,
    );
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.config!.scrape_configs[0], {
      job_name: 'd',
      docker_sd_configs: [
        {
          host: 'unix:///run/docker.sock',
          port: 80,
          refresh_interval: 60_000,
          filters: [],
          host_networking_host: 'localhost',
          match_first_network: true,
          tls_config: { insecure_skip_verify: false },
        },
      ],
      relabel_configs: [],
      pipeline_stages: [],
    });
  });
});

describe('validation: a config using every key', () => {
  const r = load(read('full.yml'));

  it('loads without issues', () => assert.deepEqual(summary(r), []));

  it('parses durations, sizes, YAML 1.1 booleans and numbers written where strings belong', () => {
    const c = r.config!;
    assert.deepEqual(c.server, {
      http_listen_address: '127.0.0.1',
      http_listen_port: 0,
      log_level: 'debug',
      log_format: 'json',
    });
    assert.deepEqual(c.positions, {
      filename: './positions.yaml',
      sync_period: 2_000,
      ignore_invalid_yaml: true,
    });
    const [primary, backup] = c.clients;
    assert.equal(primary!.tenant_id, '007', 'kept as written, not the number 7');
    assert.equal(primary!.batchwait, 500);
    assert.equal(primary!.batchsize, 524_288);
    assert.equal(primary!.timeout, 90_000);
    assert.deepEqual(primary!.basic_auth, {
      username: 'tenant',
      password: 'hunter2',
      password_file: './password.txt',
    });
    assert.deepEqual(primary!.tls_config, {
      ca_file: '/etc/ssl/ca.pem',
      cert_file: '/etc/ssl/client.pem',
      key_file: '/etc/ssl/client.key',
      server_name: 'loki.example',
      insecure_skip_verify: true,
    });
    assert.deepEqual(primary!.backoff_config, { min_period: 1_000, max_period: 60_000, max_retries: 0 });
    assert.equal(primary!.drop_rate_limited_batches, true);
    assert.equal(backup!.bearer_token, 't0ken-value');
    const sd = c.scrape_configs[0]!.docker_sd_configs[0]!;
    assert.equal(sd.refresh_interval, 86_400_000);
    assert.deepEqual(sd.filters, [{ name: 'label', values: ['com.example.logs=true', '7'] }]);
    assert.equal(sd.match_first_network, false);
    assert.deepEqual(c.limits_config, { max_line_size: 256_000, max_line_size_truncate: true });
  });

  it('keeps relabel configs raw', () => {
    assert.deepEqual(r.config!.scrape_configs[0]!.relabel_configs, [
      { source_labels: ['__meta_docker_container_name'], regex: '/(.*)', target_label: 'container' },
      {
        source_labels: ['__meta_docker_container_label_a', '__meta_docker_container_label_b'],
        separator: ';',
        regex: '12',
        modulus: 8,
        target_label: 'shard',
        action: 'hashmod',
      },
      { action: 'labelmap', regex: '__meta_docker_container_label_(.+)', replacement: '$1' },
    ]);
  });

  it('keeps pipeline stages raw, with their paths', () => {
    const stages = r.config!.scrape_configs[0]!.pipeline_stages;
    assert.deepEqual(
      stages.map(s => [s.name, formatPath(s.path)]),
      [
        ['docker', 'scrape_configs[0].pipeline_stages[0]'],
        ['json', 'scrape_configs[0].pipeline_stages[1]'],
        ['match', 'scrape_configs[0].pipeline_stages[2]'],
        ['drop', 'scrape_configs[0].pipeline_stages[3]'],
      ],
    );
    assert.deepEqual(stages[1]!.config, { expressions: { level: 'level' } });
    assert.equal((stages[2]!.config as { stages: unknown[] }).stages.length, 2);
  });
});

describe('validation: unknown keys', () => {
  it('names each unknown key by full path and line, with the likely intended key', () => {
    const r = load(read('unknown-keys.yml'));
    assert.equal(r.config, undefined);
    assert.deepEqual(summary(r), [
      'server.http_listen_prot @4: Unknown key `http_listen_prot` (did you mean `http_listen_port`?)',
      'positions.sync_perid @7: Unknown key `sync_perid` (did you mean `sync_period`?)',
      'clients[0].batch_size @10: Unknown key `batch_size` (did you mean `batchsize`?)',
      'clients[0].basic_auth.pasword @13: Unknown key `pasword` (did you mean `password`?)',
      'scrape_configs[0].docker_sd_configs[0].refresh @18: Unknown key `refresh`',
      'scrape_configs[0].relabel_configs[0].target @21: Unknown key `target`',
      'limit_config @22: Unknown key `limit_config` (did you mean `limits_config`?)',
    ]);
    assert.deepEqual(r.notices, ['server.grpc_listen_port (line 3): ignored: docktail has no gRPC server']);
    assert.match(
      formatIssues(r.issues, 'config.yml').split('\n')[0]!,
      /^✖ Unknown key `http_listen_prot` .* → at server\.http_listen_prot \(config\.yml:4\)$/,
    );
  });

  const cases: Array<[string, string, string]> = [
    ['tracing:\n  enabled: true\n', 'notice', 'tracing (line 1): ignored'],
    ['wal:\n  enabled: true\n', 'notice', 'wal (line 1): ignored'],
    ['global:\n  file_watch_config: {}\n', 'notice', 'global (line 1): ignored'],
    ['target_config:\n  sync_period: 10s\n', 'notice', 'target_config (line 1): ignored'],
    ['options: {}\n', 'notice', 'options (line 1): ignored'],
    [
      'server:\n  register_instrumentation: true\n',
      'notice',
      'server.register_instrumentation (line 2): ignored',
    ],
    [
      'server:\n  graceful_shutdown_timeout: 5s\n',
      'notice',
      'server.graceful_shutdown_timeout (line 2): ignored',
    ],
    [
      'server:\n  http_server_read_timeout: 5s\n',
      'notice',
      'server.http_server_read_timeout (line 2): ignored',
    ],
    ['server:\n  enable_runtime_reload: true\n', 'notice', 'server.enable_runtime_reload (line 2): ignored'],
    ['server:\n  profiling_enabled: true\n', 'notice', 'server.profiling_enabled (line 2): ignored'],
    ['server:\n  health_check_target: false\n', 'notice', 'server.health_check_target (line 2): ignored'],
    ['server:\n  disable: true\n', 'notice', 'server.disable (line 2): ignored'],
    ['server:\n  grpc_listen_address: 0.0.0.0\n', 'notice', 'server.grpc_listen_address (line 2): ignored'],
    [
      'limits_config:\n  readline_rate: 100\n',
      'notice',
      'limits_config.readline_rate (line 2): accepted but not used yet',
    ],
    [
      'limits_config:\n  max_streams: 5\n',
      'notice',
      'limits_config.max_streams (line 2): accepted but not used yet',
    ],
    [
      'server:\n  http_tls_config: {}\n',
      'issue',
      'server.http_tls_config @2: `http_tls_config` is not supported',
    ],
    ['bogus: 1\n', 'issue', 'bogus @1: Unknown key `bogus`'],
    ['server:\n  nested:\n    deeper: 1\n', 'issue', 'server.nested @2: Unknown key `nested`'],
  ];
  for (const [text, kind, expected] of cases) {
    it(`${kind}: ${text.split('\n').join(' ').trim()}`, () => {
      const r = load(text);
      const got = kind === 'notice' ? r.notices : summary(r);
      assert.equal(got.length, 1, JSON.stringify({ issues: summary(r), notices: r.notices }));
      assert.ok(got[0]!.startsWith(expected), `${got[0]} should start with ${expected}`);
      if (kind === 'notice') assert.deepEqual(r.issues, []);
    });
  }
});

describe('validation: wrong values', () => {
  const c0 = 'clients:\n  - url: http://loki:3100/loki/api/v1/push\n';
  const sd =
    'scrape_configs:\n  - job_name: j\n    docker_sd_configs:\n      - host: unix:///var/run/docker.sock\n';
  const cases: Array<[string, string, string]> = [
    [
      'batchsize not a size',
      `${c0}    batchsize: abc\n`,
      'clients[0].batchsize @3: Expected `batchsize` to be a size like 1048576 or 1MiB, got `abc` (string)',
    ],
    [
      'negative batchsize',
      `${c0}    batchsize: -1\n`,
      'clients[0].batchsize @3: Expected `batchsize` to be a size like 1048576 or 1MiB, got `-1` (number)',
    ],
    [
      'duration without unit',
      `${c0}    batchwait: 5\n`,
      'clients[0].batchwait @3: Expected `batchwait` to be a duration like 500ms, 1m30s or 2h, got `5` (number)',
    ],
    [
      'duration as a list',
      `${c0}    timeout: [1s]\n`,
      'clients[0].timeout @3: Expected `timeout` to be a duration like 500ms, 1m30s or 2h, got `["1s"]` (array)',
    ],
    [
      'zero sync_period',
      'positions:\n  sync_period: 0s\n',
      'positions.sync_period @2: Expected `sync_period` to be a duration above 0, like 500ms, 10s or 1m30s, got `0s` (string)',
    ],
    [
      'port out of range',
      'server:\n  http_listen_port: 70000\n',
      'server.http_listen_port @2: Expected `http_listen_port` to be an integer from 0 to 65535, got `70000` (number)',
    ],
    [
      'port as a quoted string',
      'server:\n  http_listen_port: "9080"\n',
      'server.http_listen_port @2: Expected `http_listen_port` to be an integer from 0 to 65535, got `9080` (string)',
    ],
    [
      'log level',
      'server:\n  log_level: verbose\n',
      'server.log_level @2: Expected `log_level` to be one of debug, info, warn, error, got `verbose` (string)',
    ],
    [
      'log format',
      'server:\n  log_format: text\n',
      'server.log_format @2: Expected `log_format` to be logfmt or json, got `text` (string)',
    ],
    [
      'a quoted "yes" is not a boolean',
      `${c0}    drop_rate_limited_batches: "yes"\n`,
      'clients[0].drop_rate_limited_batches @3: Expected `drop_rate_limited_batches` to be true or false, got `yes` (string)',
    ],
    [
      'section not a mapping',
      'server: 5\n',
      'server @1: Expected `server` to be a mapping, got `5` (number)',
    ],
    [
      'clients not a list',
      'clients: http://x\n',
      'clients @1: Expected `clients` to be a list, got `http://x` (string)',
    ],
    [
      'client not a mapping',
      'clients:\n  - http://loki/push\n',
      'clients[0] @2: Expected `clients[0]` to be a mapping, got `http://loki/push` (string)',
    ],
    ['missing url', 'clients:\n  - tenant_id: a\n', 'clients[0].url @2: Missing `url`'],
    [
      'url not http',
      'clients:\n  - url: ftp://loki/push\n',
      'clients[0].url @2: Expected `url` to be an http or https URL, like http://loki:3100/loki/api/v1/push, got `ftp://loki/push` (string)',
    ],
    [
      'url without scheme, password masked',
      'clients:\n  - url: user:pw@loki:3100/push\n',
      'clients[0].url @2: Expected `url` to be an http or https URL',
    ],
    [
      'url with unexpanded variable',
      'clients:\n  - url: http://${LOKI}/push\n',
      'clients[0].url @2: Expected `url` to be an http or https URL, like http://loki:3100/loki/api/v1/push, got `http://${LOKI}/push` (string); to expand environment variables, run with -config.expand-env=true',
    ],
    [
      'password and password_file',
      `${c0}    basic_auth:\n      password: a\n      password_file: ./password.txt\n`,
      'clients[0].basic_auth.password_file @5: Set only one of `password` and `password_file`',
    ],
    [
      'bearer_token and bearer_token_file',
      `${c0}    bearer_token: a\n    bearer_token_file: ./password.txt\n`,
      'clients[0].bearer_token_file @4: Set only one of `bearer_token` and `bearer_token_file`',
    ],
    [
      'basic_auth and bearer_token',
      `${c0}    bearer_token: a\n    basic_auth:\n      username: u\n`,
      'clients[0].basic_auth @4: Set only one of `basic_auth`, `bearer_token` and `bearer_token_file`',
    ],
    [
      'missing password_file',
      `${c0}    basic_auth:\n      password_file: ./nope.txt\n`,
      'clients[0].basic_auth.password_file @4: Cannot read `password_file` ./nope.txt: ENOENT',
    ],
    [
      'missing bearer_token_file',
      `${c0}    bearer_token_file: /nonexistent/token\n`,
      'clients[0].bearer_token_file @3: Cannot read `bearer_token_file` /nonexistent/token',
    ],
    [
      'cert without key',
      `${c0}    tls_config:\n      cert_file: c.pem\n`,
      'clients[0].tls_config.key_file @3: Missing `key_file`',
    ],
    [
      'oauth2',
      `${c0}    oauth2: {}\n`,
      'clients[0].oauth2 @3: `oauth2` is a Promtail setting docktail does not support',
    ],
    [
      'inline tls key',
      `${c0}    tls_config:\n      key: abc\n`,
      'clients[0].tls_config.key @4: `key` is a Promtail setting docktail does not support: put it in a file and use `key_file`',
    ],
    [
      'invalid label name',
      `${c0}    external_labels:\n      my-label: x\n`,
      'clients[0].external_labels.my-label @4: Invalid label name `my-label`',
    ],
    [
      'label value not a string',
      `${c0}    external_labels:\n      a: [1]\n`,
      'clients[0].external_labels.a @4: Expected `a` to be a string, got `[1]` (array)',
    ],
    [
      'secret of the wrong type is not shown',
      `${c0}    bearer_token: {x: hunter2}\n`,
      'clients[0].bearer_token @3: Expected `bearer_token` to be a string, got `<secret>` (object)',
    ],
    [
      'missing job_name',
      'scrape_configs:\n  - docker_sd_configs: []\n',
      'scrape_configs[0].job_name @2: Missing `job_name`',
    ],
    [
      'duplicate job_name',
      'scrape_configs:\n  - job_name: a\n  - job_name: b\n  - job_name: a\n',
      'scrape_configs[2].job_name @4: Duplicate job_name `a`, also used by scrape_configs[0]',
    ],
    [
      'static_configs',
      'scrape_configs:\n  - job_name: a\n    static_configs: []\n',
      'scrape_configs[0].static_configs @3: `static_configs` is not supported: only docker_sd_configs is supported',
    ],
    [
      'kubernetes_sd_configs',
      'scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs: []\n',
      'scrape_configs[0].kubernetes_sd_configs @3: `kubernetes_sd_configs` is not supported: only docker_sd_configs is supported',
    ],
    [
      'journal',
      'scrape_configs:\n  - job_name: a\n    journal: {}\n',
      'scrape_configs[0].journal @3: `journal` is not supported: only docker_sd_configs is supported',
    ],
    [
      'docker host without scheme',
      'scrape_configs:\n  - job_name: a\n    docker_sd_configs:\n      - host: /var/run/docker.sock\n',
      'scrape_configs[0].docker_sd_configs[0].host @4: Expected `host` to be a Docker host like unix:///var/run/docker.sock',
    ],
    [
      'docker host with ssh scheme',
      'scrape_configs:\n  - job_name: a\n    docker_sd_configs:\n      - host: ssh://me@box\n',
      'scrape_configs[0].docker_sd_configs[0].host @4: Expected `host` to be a Docker host',
    ],
    [
      'docker host missing',
      'scrape_configs:\n  - job_name: a\n    docker_sd_configs:\n      - port: 80\n',
      'scrape_configs[0].docker_sd_configs[0].host @4: Missing `host`',
    ],
    [
      'refresh_interval zero',
      `${sd}        refresh_interval: 0\n`,
      'scrape_configs[0].docker_sd_configs[0].refresh_interval @5: Expected `refresh_interval` to be a duration above 0',
    ],
    [
      'filter without name',
      `${sd}        filters:\n          - values: [a]\n`,
      'scrape_configs[0].docker_sd_configs[0].filters[0].name @6: Missing `name` of the filter',
    ],
    [
      'source_labels as a string',
      'scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: __meta_x\n',
      'scrape_configs[0].relabel_configs[0].source_labels @4: Expected `source_labels` to be a list of strings, got `__meta_x` (string)',
    ],
    [
      'modulus negative',
      'scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - modulus: -2\n',
      'scrape_configs[0].relabel_configs[0].modulus @4: Expected `modulus` to be an integer 0 or more, got `-2` (number)',
    ],
    [
      'unknown stage',
      'scrape_configs:\n  - job_name: a\n    pipeline_stages:\n      - jsonn: {}\n',
      'scrape_configs[0].pipeline_stages[0].jsonn @4: Unknown pipeline stage `jsonn` (did you mean `json`?)',
    ],
    [
      'unknown nested stage in match',
      'scrape_configs:\n  - job_name: a\n    pipeline_stages:\n      - match:\n          selector: "{a=\\"b\\"}"\n          stages:\n            - lables: {}\n',
      'scrape_configs[0].pipeline_stages[0].match.stages[0].lables @7: Unknown pipeline stage `lables` (did you mean `labels`?)',
    ],
    [
      'stage as a string',
      'scrape_configs:\n  - job_name: a\n    pipeline_stages:\n      - docker\n',
      'scrape_configs[0].pipeline_stages[0] @4: Expected `pipeline_stages[0]` to be a mapping with exactly one key',
    ],
    [
      'stage with two keys',
      'scrape_configs:\n  - job_name: a\n    pipeline_stages:\n      - json: {}\n        labels: {}\n',
      'scrape_configs[0].pipeline_stages[0] @4: Expected `pipeline_stages[0]` to be a mapping with exactly one key, the stage name (like `- json: {…}`); found 2 keys: `json`, `labels`',
    ],
    [
      'max_line_size not a size',
      'limits_config:\n  max_line_size: big\n',
      'limits_config.max_line_size @2: Expected `max_line_size` to be a size like 1048576 or 1MiB, got `big` (string)',
    ],
    [
      'unused limit of the wrong type',
      'limits_config:\n  readline_rate_enabled: maybe\n',
      'limits_config.readline_rate_enabled @2: Expected `readline_rate_enabled` to be true or false',
    ],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => {
      const r = load(text);
      const got = summary(r);
      assert.equal(got.length, 1, JSON.stringify(got));
      assert.ok(got[0]!.startsWith(expected), `\n${got[0]}\nshould start with\n${expected}`);
      assert.equal(r.config, undefined);
    });
  }

  it('masks the URL password in the issue', () => {
    const r = load('clients:\n  - url: ftp://me:hunter2@loki/push\n');
    assert.equal(r.issues.length, 1);
    assert.ok(!r.issues[0]!.message.includes('hunter2'));
    assert.match(r.issues[0]!.message, /ftp:\/\/me:<secret>@loki\/push/);
  });

  it('treats keys named like Object.prototype members as any other key', () => {
    const r = load(
      '__proto__:\n  server: {}\nserver:\n  constructor: 1\n  toString: 2\nclients:\n  - url: http://l/push\n    headers:\n      __proto__: x\n',
    );
    assert.deepEqual(summary(r), [
      '__proto__ @1: Unknown key `__proto__`',
      'server.constructor @4: Unknown key `constructor`',
      'server.toString @5: Unknown key `toString`',
      'clients[0].headers.__proto__ @9: Invalid name `__proto__`',
    ]);
  });

  it('collects every issue of a config, not just the first', () => {
    const r = load(
      'server:\n  http_listen_port: x\n  log_level: loud\npositions:\n  sync_period: soon\nclients:\n  - {}\n',
    );
    assert.deepEqual(
      r.issues.map(i => formatPath(i.path)),
      ['server.http_listen_port', 'server.log_level', 'positions.sync_period', 'clients[0].url'],
    );
  });

  it('accepts the deprecated single `client` after the `clients` list, with a notice', () => {
    const r = load('clients:\n  - url: http://a/push\nclient:\n  url: http://b/push\n');
    assert.deepEqual(r.issues, []);
    assert.deepEqual(
      r.config!.clients.map(c => c.url),
      ['http://a/push', 'http://b/push'],
    );
    assert.ok(r.notices.some(n => n.startsWith('client (line 3): deprecated')));
  });

  it('notes a scrape config without docker_sd_configs', () => {
    const r = load('scrape_configs:\n  - job_name: a\n');
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.notices, [
      'scrape_configs[0] (line 2): no docker_sd_configs: this job discovers no containers',
    ]);
  });

  it('locates paths through anchors and merge keys at the nearest written ancestor', () => {
    const text = [
      'x-defaults: &defaults',
      '  batchwait: 2s',
      'clients:',
      '  - <<: *defaults',
      '    url: http://loki/push',
      '    batchsize: huge',
    ].join('\n');
    const r = load(text);
    assert.deepEqual(
      summary(r).map(s => s.split(':')[0]),
      ['x-defaults @1', 'clients[0].batchsize @6'],
    );
    assert.equal(r.locate(['clients', 0, 'batchwait']), 4, 'merged key: the mapping that merges it');
    assert.equal(r.locate(['clients', 0, 'url']), 5);
  });

  it('merge keys fill values', () => {
    const r = load(
      'clients:\n  - &c\n    url: http://a/push\n    batchwait: 2s\n  - <<: *c\n    url: http://b/push\n',
    );
    assert.deepEqual(r.issues, []);
    assert.deepEqual(
      r.config!.clients.map(c => [c.url, c.batchwait]),
      [
        ['http://a/push', 2_000],
        ['http://b/push', 2_000],
      ],
    );
  });
});
