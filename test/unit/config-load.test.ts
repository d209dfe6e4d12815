// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text holding ${VAR} references
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig, loadConfigText, mergeEnv } from '../../src/config/load.js';
import { PIPELINE_STAGE_NAMES } from '../../src/config/schema.js';
import { formatIssues, formatPath } from '../../src/core/errors.js';

const here = dirname(fileURLToPath(import.meta.url));
const CODEDANG = join(here, '../fixtures/user-configs/codedang/promtail-config.yml');
const FULL = join(here, '../fixtures/config/full.yml');
const PUSH = '/loki/api/v1/push';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'docktail-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh working directory holding the codedang config and, optionally, a .env. */
function workdir(name: string, dotenv?: string): string {
  const cwd = join(dir, name);
  mkdirSync(cwd);
  copyFileSync(CODEDANG, join(cwd, 'promtail-config.yml'));
  if (dotenv !== undefined) writeFileSync(join(cwd, '.env'), dotenv);
  return cwd;
}

describe('loadConfig: the codedang config', () => {
  it('loads with LOKI_SERVER_URL from the environment', () => {
    const cwd = workdir('env');
    const r = loadConfig({
      file: 'promtail-config.yml',
      expandEnv: true,
      env: { LOKI_SERVER_URL: 'loki:3100' },
      cwd,
    });
    assert.deepEqual(r.issues, []);
    const c = r.config!;
    assert.equal(c.clients[0]!.url, `http://loki:3100${PUSH}`);
    assert.equal(c.server.http_listen_port, 9080);
    assert.equal(c.positions.filename, '/var/log/positions.yaml');
    assert.equal(c.scrape_configs[0]!.job_name, 'codedang-dev');
    assert.equal(c.scrape_configs[0]!.docker_sd_configs[0]!.host, 'unix:///var/run/docker.sock');
    assert.equal(c.scrape_configs[0]!.docker_sd_configs[0]!.refresh_interval, 5_000);
    assert.deepEqual(c.scrape_configs[0]!.relabel_configs, [
      { source_labels: ['__meta_docker_container_name'], regex: '/(.*)', target_label: 'container' },
    ]);
    assert.deepEqual(r.notices, ['server.grpc_listen_port (line 6): ignored: docktail has no gRPC server']);
    assert.equal(r.file, 'promtail-config.yml');
  });

  it('loads with LOKI_SERVER_URL from the default .env', () => {
    const cwd = workdir('dotenv', '# written by the deploy job\nLOKI_SERVER_URL=10.1.2.3:3100\n');
    const r = loadConfig({ file: 'promtail-config.yml', expandEnv: true, env: { PATH: '/bin' }, cwd });
    assert.deepEqual(r.issues, []);
    assert.equal(r.config!.clients[0]!.url, `http://10.1.2.3:3100${PUSH}`);
    assert.deepEqual(r.env, { LOKI_SERVER_URL: '10.1.2.3:3100', PATH: '/bin' });
  });

  it('prefers the real environment over .env, even an empty value', () => {
    const cwd = workdir('both', 'LOKI_SERVER_URL=from-dotenv:3100\nOTHER=x\n');
    const env = { LOKI_SERVER_URL: 'from-env:3100' };
    const r = loadConfig({ file: 'promtail-config.yml', expandEnv: true, env, cwd });
    assert.equal(r.config!.clients[0]!.url, `http://from-env:3100${PUSH}`);
    assert.deepEqual(env, { LOKI_SERVER_URL: 'from-env:3100' }, 'the input is not modified');
    assert.equal(process.env.OTHER, undefined, 'process.env is not modified');
    assert.deepEqual(mergeEnv({ A: 'file', B: 'file' }, { A: '', C: undefined }), { A: '', B: 'file' });
  });

  it('reads an explicit env file', () => {
    const cwd = workdir('explicit');
    writeFileSync(join(cwd, 'prod.env'), 'LOKI_SERVER_URL="loki.prod:443"\n');
    const r = loadConfig({ file: 'promtail-config.yml', expandEnv: true, envFile: 'prod.env', env: {}, cwd });
    assert.deepEqual(r.issues, []);
    assert.equal(r.config!.clients[0]!.url, `http://loki.prod:443${PUSH}`);
  });

  it('reports a missing explicit env file, but not a missing default one', () => {
    const cwd = workdir('missing-env');
    const env = { LOKI_SERVER_URL: 'l:1' };
    const explicit = loadConfig({
      file: 'promtail-config.yml',
      expandEnv: true,
      envFile: 'nope.env',
      env,
      cwd,
    });
    assert.equal(explicit.config, undefined);
    assert.equal(explicit.issues.length, 1);
    assert.match(explicit.issues[0]!.message, /Cannot read env file .*nope\.env: ENOENT/);
    const implicit = loadConfig({ file: 'promtail-config.yml', expandEnv: true, env, cwd });
    assert.deepEqual(implicit.issues, []);
  });

  it('reports the unset variable on its line, once', () => {
    const cwd = workdir('unset');
    const r = loadConfig({ file: 'promtail-config.yml', expandEnv: true, env: {}, cwd });
    assert.equal(r.config, undefined);
    assert.equal(r.issues.length, 1, formatIssues(r.issues));
    assert.equal(r.issues[0]!.line, 12);
    assert.match(r.issues[0]!.message, /`LOKI_SERVER_URL`/);
  });

  it('without -config.expand-env, says how to expand', () => {
    const cwd = workdir('noexpand');
    const r = loadConfig({
      file: 'promtail-config.yml',
      expandEnv: false,
      env: { LOKI_SERVER_URL: 'l:1' },
      cwd,
    });
    assert.equal(r.issues.length, 1);
    assert.equal(formatPath(r.issues[0]!.path), 'clients[0].url');
    assert.equal(r.issues[0]!.line, 12);
    assert.match(r.issues[0]!.message, /-config\.expand-env=true/);
  });
});

describe('loadConfig: files', () => {
  it('takes the first existing file of a comma-separated list, as Promtail does', () => {
    const cwd = workdir('list');
    const r = loadConfig({
      file: 'a.yml, promtail-config.yml',
      expandEnv: true,
      env: { LOKI_SERVER_URL: 'l:1' },
      cwd,
    });
    assert.deepEqual(r.issues, []);
    assert.equal(r.file, 'promtail-config.yml');
  });

  it('reports a missing config file', () => {
    const r = loadConfig({ file: 'missing.yml', expandEnv: false, env: {}, cwd: dir });
    assert.equal(r.config, undefined);
    assert.match(r.issues[0]!.message, /missing\.yml does not exist/);
  });

  it('reports an unreadable config file', () => {
    const r = loadConfig({ file: '.', expandEnv: false, env: {}, cwd: dir });
    assert.match(r.issues[0]!.message, /Cannot read config file \.: EISDIR/);
  });

  it('reads password_file relative to the working directory and trims it', () => {
    const r = loadConfig({
      file: FULL,
      expandEnv: false,
      env: {},
      cwd: join(here, '../fixtures/config'),
      executableStages: PIPELINE_STAGE_NAMES,
    });
    assert.deepEqual(r.issues, []);
    assert.equal(r.config!.clients[0]!.basic_auth!.password, 'hunter2');
  });
});

describe('loadConfigText', () => {
  it('reports a YAML syntax error with its line', () => {
    const r = loadConfigText('server:\n  http_listen_port: 80\n bad: [\n', { expandEnv: false, env: {} });
    assert.equal(r.config, undefined);
    assert.equal(r.issues.length, 1);
    assert.match(r.issues[0]!.message, /^Invalid YAML: /);
    assert.equal(r.issues[0]!.line, 3);
    assert.equal(r.locate(['server']), undefined);
  });

  it('reports a duplicated key', () => {
    const r = loadConfigText('server: {}\nserver: {}\n', { expandEnv: false, env: {} });
    assert.match(r.issues[0]!.message, /duplicated mapping key/);
    assert.equal(r.issues[0]!.line, 2);
  });

  it('refuses several documents', () => {
    const r = loadConfigText('server: {}\n---\nserver: {}\n', { expandEnv: false, env: {} });
    assert.match(r.issues[0]!.message, /one YAML document, found 2/);
  });

  it('refuses a root that is not a mapping', () => {
    const r = loadConfigText('- a\n- b\n', { expandEnv: false, env: {} });
    assert.match(r.issues[0]!.message, /Expected `config` to be a mapping, got `\["a","b"\]` \(array\)/);
  });

  it('gives lines of the file as written when a variable inserts lines', () => {
    const text =
      'clients:\n  - url: http://l/push\n    headers:\n      X-Note: ${NOTE}\n    batchsize: huge\n';
    const r = loadConfigText(text, {
      expandEnv: true,
      env: { NOTE: 'first\n        second\n        third' },
    });
    assert.equal(r.issues.length, 1, formatIssues(r.issues));
    assert.equal(formatPath(r.issues[0]!.path), 'clients[0].batchsize');
    assert.equal(r.issues[0]!.line, 5);
    assert.equal(r.locate(['clients', 0, 'headers', 'X-Note']), 4);
    const broken = loadConfigText(`${text} wrong: 1\n`, { expandEnv: true, env: { NOTE: 'a\n        b' } });
    assert.match(broken.issues[0]!.message, /^Invalid YAML/);
    assert.equal(broken.issues[0]!.line, 6, 'a syntax error is placed on the line as written too');
  });

  it('undoubles backslashes like Promtail when expanding', () => {
    const text =
      "scrape_configs:\n  - job_name: j\n    relabel_configs:\n      - regex: '(\\\\d+)\\\\.log'\n        target_label: n\n";
    const on = loadConfigText(text, { expandEnv: true, env: {} });
    const off = loadConfigText(text, { expandEnv: false, env: {} });
    assert.equal(on.config!.scrape_configs[0]!.relabel_configs[0]!.regex, '(\\d+)\\.log');
    assert.equal(off.config!.scrape_configs[0]!.relabel_configs[0]!.regex, '(\\\\d+)\\\\.log');
  });

  it('leaves bare $VAR and $1 as written, as Promtail does', () => {
    const text =
      'clients:\n  - url: http://l:3100/$LOKI_HOST\nscrape_configs:\n  - job_name: j\n    relabel_configs:\n      - replacement: $1\n        target_label: n\n';
    const r = loadConfigText(text, { expandEnv: true, env: { LOKI_HOST: 'l:3100' } });
    assert.deepEqual(r.issues, []);
    assert.equal(r.config!.clients[0]!.url, 'http://l:3100/$LOKI_HOST');
    assert.equal(r.config!.scrape_configs[0]!.relabel_configs[0]!.replacement, '$1');
  });

  it('never throws, whatever the text', () => {
    const base = readFileSync(FULL, 'utf8');
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const noise = [
      ':',
      '-',
      ' ',
      '\n',
      '  ',
      '[',
      ']',
      '{',
      '}',
      '&a',
      '*a',
      '<<',
      '"',
      "'",
      '#',
      '$',
      '${',
      '!!str',
      '\t',
      'x',
    ];
    for (let n = 0; n < 400; n++) {
      const chars = [...base];
      const edits = 1 + Math.floor(random() * 6);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * chars.length);
        if (random() < 0.5) chars.splice(at, 1 + Math.floor(random() * 5));
        else chars.splice(at, 0, noise[Math.floor(random() * noise.length)]!);
      }
      const text = chars.join('');
      for (const expandEnv of [false, true]) {
        const r = loadConfigText(text, { expandEnv, env: { A: '1' }, cwd: join(here, '../fixtures/config') });
        assert.ok(Array.isArray(r.issues) && Array.isArray(r.notices));
        assert.equal(r.config === undefined, r.issues.length > 0);
        for (const issue of r.issues) {
          assert.equal(typeof issue.message, 'string');
          assert.ok(issue.line === undefined || (Number.isInteger(issue.line) && issue.line >= 1));
        }
      }
    }
  });

  it('never throws on cyclic aliases', () => {
    const text =
      'scrape_configs:\n  - &s\n    job_name: a\n    pipeline_stages:\n      - match:\n          stages: *x\n';
    const r = loadConfigText(text.replace('*x', '[*s]'), { expandEnv: false, env: {} });
    assert.ok(r.issues.length > 0 || r.config !== undefined);
  });
});
