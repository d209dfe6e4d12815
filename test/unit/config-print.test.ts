import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigText } from '../../src/config/load.js';
import { printConfig, SECRET } from '../../src/config/print.js';
import { type Config, PIPELINE_STAGE_NAMES } from '../../src/config/schema.js';
import { maskUrl } from '../../src/config/validate-client.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/config');
// Every known stage is accepted here: this file tests printing, not which stages this version runs.
const opts = { expandEnv: false, env: {}, cwd: fixtures, executableStages: PIPELINE_STAGE_NAMES };

function loaded(text: string): Config {
  const r = loadConfigText(text, opts);
  assert.deepEqual(r.issues, []);
  return r.config!;
}

const full = loaded(readFileSync(join(fixtures, 'full.yml'), 'utf8'));

describe('printConfig', () => {
  const printed = printConfig(full);

  it('prints no secret', () => {
    for (const secret of ['s3cret', 'hunter2', 't0ken-value', 'abc.def']) {
      assert.ok(!printed.includes(secret), `${secret} leaked:\n${printed}`);
    }
  });

  it('masks each kind of secret and keeps the rest', () => {
    const back = loadConfigText(printed, opts);
    assert.deepEqual(back.issues, [], printed);
    const [primary, backup] = back.config!.clients;
    assert.equal(primary!.url, `https://tenant:${SECRET}@loki.example:3100/loki/api/v1/push`);
    assert.deepEqual(primary!.headers, { Authorization: SECRET, 'X-Team': 'search' });
    assert.equal(
      primary!.basic_auth!.password_file,
      './password.txt',
      'the file is named, its content is not printed',
    );
    assert.equal(backup!.bearer_token, SECRET);
    const inline = printConfig(
      loaded('clients:\n  - url: http://l/push\n    basic_auth:\n      username: u\n      password: p4ss\n'),
    );
    assert.ok(!inline.includes('p4ss'));
    assert.match(inline, /password: <secret>/);
  });

  it('round-trips: the printed config loads back into the same config, secrets aside', () => {
    const back = loadConfigText(printed, opts).config!;
    const unmask = (c: Config): Config => ({
      ...c,
      clients: c.clients.map((client, i) => {
        const original = full.clients[i]!;
        const restored = { ...client, url: original.url, headers: original.headers };
        if (original.bearer_token !== undefined) restored.bearer_token = original.bearer_token;
        return restored;
      }),
    });
    assert.deepEqual(unmask(back), full);
  });

  it('fills in defaults, durations in Go form', () => {
    const text = printConfig(loaded('clients:\n  - url: http://l/push\n'));
    for (const line of [
      '  http_listen_port: 80',
      '  sync_period: 10s',
      '    batchwait: 1s',
      '    batchsize: 1048576',
      '    timeout: 10s',
      '      min_period: 500ms',
      '      max_period: 5m',
      '      max_retries: 10',
      '  max_line_size: 0',
    ]) {
      assert.ok(text.split('\n').includes(line), `missing ${JSON.stringify(line)} in\n${text}`);
    }
  });

  it('prints pipeline stages and relabel configs as written', () => {
    const back = loadConfigText(printed, opts).config!;
    assert.deepEqual(
      back.scrape_configs[0]!.pipeline_stages.map(s => s.config),
      full.scrape_configs[0]!.pipeline_stages.map(s => s.config),
    );
    assert.deepEqual(back.scrape_configs[0]!.relabel_configs, full.scrape_configs[0]!.relabel_configs);
  });

  it('never throws', () => {
    const broken = { server: null } as unknown as Config;
    assert.match(printConfig(broken), /^# cannot print the config/);
  });
});

describe('maskUrl', () => {
  const cases: Array<[string, string]> = [
    ['http://loki:3100/push', 'http://loki:3100/push'],
    ['http://user@loki/push', 'http://user@loki/push'],
    ['http://user:pw@loki/push', `http://user:${SECRET}@loki/push`],
    ['https://u:p@ss:w@rd@loki:443/a@b', `https://u:${SECRET}@loki:443/a@b`],
    ['http://:pw@loki', `http://:${SECRET}@loki`],
    ['http://loki/push?a=b:c@d', 'http://loki/push?a=b:c@d'],
    ['loki:3100', 'loki:3100'],
    ['', ''],
  ];
  for (const [input, output] of cases) {
    it(`${input || '(empty)'} → ${output || '(empty)'}`, () => assert.equal(maskUrl(input), output));
  }
});
