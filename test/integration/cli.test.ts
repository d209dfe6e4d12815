// The docktail command as users run it: flags, config checking and its messages, printing the config,
// .env files, and -dry-run against the real engine.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LokiReceiver } from '../fakes/loki-receiver.js';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import type { AgentProcess } from '../harness/agent.js';
import { REPO, startAgent } from '../harness/agent.js';
import type { TruthLine } from '../harness/docker.js';
import {
  dockerHost,
  groundTruth,
  parseRfc3339Nano,
  removeContainers,
  runContainer,
  uniqueName,
  waitExit,
} from '../harness/docker.js';
import { runLabel, tempDir } from '../harness/setup.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  agent: AgentProcess;
}

/** Runs the command to its exit (these runs never start the agent, or stop on their own). */
async function run(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  const agent = startAgent({ args, ...options });
  const timer = setTimeout(() => agent.proc.kill('SIGKILL'), 30_000);
  const code = await agent.exited;
  clearTimeout(timer);
  // 'exit' can come before the last 'data' of the pipes.
  await new Promise(r => setImmediate(r));
  return { code, stdout: agent.stdout.join('\n'), stderr: agent.stderr.join('\n'), agent };
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** A valid config; `extra` lines are appended under the scrape config. */
function validConfig(dir: string, extra = ''): string {
  return `server:
  http_listen_address: 127.0.0.1
  http_listen_port: 0
positions:
  filename: ${join(dir, 'positions.yaml')}
  sync_period: 500ms
clients:
  - url: http://127.0.0.1:9/loki/api/v1/push
    batchwait: 100ms
scrape_configs:
  - job_name: test
    docker_sd_configs:
      - host: unix:///var/run/docker.sock
        refresh_interval: 1s
    relabel_configs:
      - source_labels: ['__meta_docker_container_name']
        regex: '/(.*)'
        target_label: container
${extra}`;
}

function write(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('-check-syntax and the config errors', () => {
  const dir = tempDir('cli-check');

  test('a valid config (with a `docker: {}` stage): exit 0', async () => {
    const config = write(
      dir,
      'valid.yml',
      validConfig(dir, '    pipeline_stages:\n      - docker: {}\n      - cri: {}\n'),
    );
    const r = await run([`-config.file=${config}`, '-check-syntax']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid configuration/);
    assert.doesNotMatch(r.stderr, /✖/);
  });

  test('several mistakes: exit 1 and every one listed with its path and line', async () => {
    const lines = [
      /* 1 */ 'server:',
      /* 2 */ '  http_listen_port: 0',
      /* 3 */ '  colour: blue',
      /* 4 */ 'positions:',
      /* 5 */ `  filename: ${join(dir, 'positions.yaml')}`,
      /* 6 */ '  sync_period: 10 parsecs',
      /* 7 */ 'clients:',
      /* 8 */ '  - url: http://127.0.0.1:9/loki/api/v1/push',
      /* 9 */ 'scrape_configs:',
      /* 10 */ '  - job_name: test',
      /* 11 */ '    docker_sd_configs:',
      /* 12 */ '      - host: unix:///var/run/docker.sock',
      /* 13 */ '    relabel_configs:',
      /* 14 */ "      - source_labels: ['__meta_docker_container_name']",
      /* 15 */ '        target_label: container',
      /* 16 */ "        regex: '/(?!skip)(.*)'",
      /* 17 */ '      - target_label: env',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax
      /* 18 */ '        replacement: ${DOCKTAIL_TEST_SURELY_UNSET}',
    ];
    const config = write(dir, 'bad.yml', `${lines.join('\n')}\n`);
    const r = await run([`-config.file=${config}`, '-config.expand-env', '-check-syntax']);
    assert.equal(r.code, 1, r.stderr);
    const problems = r.stderr.split('\n').filter(l => l.startsWith('✖'));
    const expected: Array<[RegExp, string, number]> = [
      [/`colour`/, 'server.colour', 3],
      [/`10 parsecs`/, 'positions.sync_period', 6],
      [/\(\?!/, 'scrape_configs[0].relabel_configs[0].regex', 16],
      [/DOCKTAIL_TEST_SURELY_UNSET/, 'scrape_configs[0].relabel_configs[1].replacement', 18],
    ];
    assert.equal(problems.length, expected.length, `every problem, once each:\n${r.stderr}`);
    expected.forEach(([message, path, line], i) => {
      const p = problems[i]!;
      const form = /^✖ (.+) → at (\S+) \((.+):(\d+)\)$/.exec(p);
      assert.ok(form, `not in the form "✖ <message> → at <path> (<file>:<line>)": ${p}`);
      assert.match(form[1]!, message);
      assert.equal(form[2], path, p);
      assert.equal(form[3], config, p);
      assert.equal(Number(form[4]), line, p);
    });
    assert.match(r.stderr, /4 problem/);
    assert.equal(r.stdout, '', 'nothing claims the config is valid');
  });

  test('a pipeline stage other than docker/cri is a startup error naming it', async () => {
    // geoip: a stage this version does not run (it needs a MaxMind database).
    const config = write(
      dir,
      'stage.yml',
      validConfig(
        dir,
        '    pipeline_stages:\n      - docker: {}\n      - geoip:\n          db: /nonexistent/GeoLite2-City.mmdb\n          source: ip\n          db_type: city\n',
      ),
    );
    // Line of `- geoip:` in the file.
    const line = readFileSync(config, 'utf8').split('\n').indexOf('      - geoip:') + 1;
    const r = await run([`-config.file=${config}`]);
    assert.equal(r.code, 1, r.stderr);
    const problems = r.stderr.split('\n').filter(l => l.startsWith('✖'));
    assert.equal(problems.length, 1, r.stderr);
    assert.match(problems[0]!, /`geoip`/);
    assert.match(
      problems[0]!,
      new RegExp(`scrape_configs\\[0\\]\\.pipeline_stages\\[1\\].* \\(.*:${line}\\)$`),
    );
    assert.doesNotMatch(r.stderr, /starting docktail/, 'refused before starting');
    assert.ok(!existsSync(join(dir, 'positions.yaml')));
  });
});

describe('-print-config-stderr', () => {
  test('prints the defaults and masks every secret', async () => {
    const dir = tempDir('cli-print');
    const config = write(
      dir,
      'print.yml',
      `server:
  http_listen_port: 0
positions:
  filename: ${join(dir, 'positions.yaml')}
clients:
  - url: http://alice:url-pass-123@127.0.0.1:9/loki/api/v1/push
  - url: http://127.0.0.1:10/loki/api/v1/push
    basic_auth:
      username: bob
      password: basic-pass-456
  - url: http://127.0.0.1:11/loki/api/v1/push
    bearer_token: bearer-tok-789
scrape_configs:
  - job_name: test
    docker_sd_configs:
      - host: unix:///var/run/docker.sock
`,
    );
    const r = await run([`-config.file=${config}`, '-print-config-stderr', '-check-syntax']);
    assert.equal(r.code, 0, r.stderr);
    const printed = r.stderr;
    for (const secret of ['url-pass-123', 'basic-pass-456', 'bearer-tok-789']) {
      assert.ok(!printed.includes(secret), `${secret} printed:\n${printed}`);
    }
    assert.match(printed, /url: http:\/\/alice:<secret>@127\.0\.0\.1:9\/loki\/api\/v1\/push/);
    assert.match(printed, /username: bob\n\s+password: <secret>/);
    assert.match(printed, /bearer_token: <secret>/);
    // Defaults the file does not set, in Promtail's units.
    for (const line of [
      /sync_period: 10s/,
      /batchwait: 1s/,
      /batchsize: 1048576/,
      /timeout: 10s/,
      /min_period: 500ms/,
      /max_period: 5m/,
      /max_retries: 10/,
      /refresh_interval: 1m/,
      /log_level: info/,
      /max_line_size: 0/,
    ]) {
      assert.match(printed, line);
    }
    assert.equal(printed.match(/batchwait: 1s/g)?.length, 3, 'every client shows its defaults');
  });
});

describe('flags', () => {
  const dir = tempDir('cli-flags');
  const config = write(dir, 'valid.yml', validConfig(dir));

  test('-version prints the package version and exits 0', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const r = await run(['-version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), `docktail ${pkg.version} (node ${process.version})`);
  });

  test('-help lists every flag and exits 0', async () => {
    for (const flag of ['-help', '--help', '-h']) {
      const r = await run([flag]);
      assert.equal(r.code, 0, flag);
      assert.match(r.stdout, /^Usage: docktail -config.file=PATH/);
      for (const name of [
        'config.file',
        'config.expand-env',
        'env-file',
        'dry-run',
        'print-config-stderr',
        'check-syntax',
        'log.level',
        'log.format',
        'version',
      ]) {
        assert.match(r.stdout, new RegExp(`-${name.replace('.', '\\.')}\\b`), `${flag} lists -${name}`);
      }
    }
  });

  test('an unknown flag: exit 2, the flag named', async () => {
    const r = await run([`-config.file=${config}`, '-no-such-flag']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown flag -no-such-flag/);
    const typo = await run([`-config.fiel=${config}`]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /Unknown flag -config\.fiel \(did you mean -config\.file\?\)/);
  });

  test('no -config.file: exit 2', async () => {
    const r = await run([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /-config\.file is required/);
  });

  test('double-dash flags, with = or a separate value', async () => {
    for (const args of [
      [`--config.file=${config}`, '--check-syntax'],
      ['--config.file', config, '--check-syntax=true'],
    ]) {
      const r = await run(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /valid configuration/);
    }
    const off = await run([`--config.file=${config}`, '--check-syntax=false', '--version']);
    assert.equal(off.code, 0);
    assert.match(off.stdout, /^docktail /, '--check-syntax=false turned it off; --version won');
  });
});

describe('.env and -env-file', () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax
  const client = '  - url: http://${LOKI_HOST}/loki/api/v1/push\n    tenant_id: ${TENANT}\n';
  const configText = (dir: string) =>
    validConfig(dir).replace(/ {2}- url: .*\n {4}batchwait: 100ms\n/, client);

  const printed = (r: Run): { url: string; tenant: string } => {
    assert.equal(r.code, 0, r.stderr);
    const url = /url: (\S+)/.exec(r.stderr)?.[1];
    const tenant = /tenant_id: (.*)/.exec(r.stderr)?.[1];
    assert.ok(url !== undefined && tenant !== undefined, r.stderr);
    return { url, tenant };
  };

  test('.env in the working directory provides a variable; a real one of the same name wins', async () => {
    const dir = tempDir('cli-dotenv');
    const config = write(dir, 'config.yml', configText(dir));
    write(dir, '.env', 'LOKI_HOST=dotenv-host:3100\nTENANT=dotenv-tenant\n');
    const args = [`-config.file=${config}`, '-config.expand-env', '-print-config-stderr', '-check-syntax'];
    const both = printed(await run(args, { cwd: dir, env: { TENANT: 'real-tenant' } }));
    assert.equal(both.url, 'http://dotenv-host:3100/loki/api/v1/push');
    assert.equal(both.tenant, 'real-tenant');
    const fileOnly = printed(await run(args, { cwd: dir }));
    assert.equal(fileOnly.tenant, 'dotenv-tenant');
    const empty = printed(await run(args, { cwd: dir, env: { TENANT: '' } }));
    assert.equal(empty.tenant, "''", 'a real variable wins even when empty');
  });

  test('-env-file=PATH is read instead of ./.env', async () => {
    const dir = tempDir('cli-envfile');
    const config = write(dir, 'config.yml', configText(dir));
    write(dir, '.env', 'LOKI_HOST=dotenv-host:3100\nTENANT=dotenv-tenant\n');
    const other = write(dir, 'other.env', 'LOKI_HOST=envfile-host:3100\nTENANT=envfile-tenant\n');
    const r = await run(
      [
        `-config.file=${config}`,
        `-env-file=${other}`,
        '-config.expand-env',
        '-print-config-stderr',
        '-check-syntax',
      ],
      { cwd: dir },
    );
    assert.deepEqual(printed(r), {
      url: 'http://envfile-host:3100/loki/api/v1/push',
      tenant: 'envfile-tenant',
    });
  });

  test('a missing -env-file is an error; a missing ./.env is not', async () => {
    const dir = tempDir('cli-noenv');
    const config = write(dir, 'config.yml', validConfig(dir));
    const missing = join(dir, 'missing.env');
    const r = await run([`-config.file=${config}`, `-env-file=${missing}`, '-check-syntax'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`✖ Cannot read env file ${missing}`));
    const ok = await run([`-config.file=${config}`, '-check-syntax'], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
  });
});

describe('-dry-run', () => {
  const label = runLabel();
  const created: string[] = [];
  const dir = tempDir('cli-dry');
  const positions = join(dir, 'positions.yaml');
  let receiver: LokiReceiver;
  let id: string;
  let name: string;
  let truth: TruthLine[];
  let config: string;

  before(async () => {
    receiver = await startLokiReceiver();
    name = uniqueName('dry');
    id = await runContainer('echo one; echo two >&2; echo "three  spaced"', {
      name,
      labels: { 'docktail.test': label },
    });
    created.push(id);
    await waitExit(id);
    truth = await groundTruth(id);
    truth.sort((a, b) => {
      const x = parseRfc3339Nano(a.ts);
      const y = parseRfc3339Nano(b.ts);
      return x.sec - y.sec || x.nsec - y.nsec;
    });
    config = write(
      dir,
      'config.yml',
      `server:
  http_listen_address: 127.0.0.1
  http_listen_port: 0
positions:
  filename: ${positions}
  sync_period: 200ms
clients:
  - url: ${receiver.url}
    batchwait: 100ms
scrape_configs:
  - job_name: test
    docker_sd_configs:
      - host: ${dockerHost()}
        refresh_interval: 1s
        filters:
          - name: label
            values: ['docktail.test=${label}']
    relabel_configs:
      - source_labels: ['__meta_docker_container_name']
        regex: '/(.*)'
        target_label: container
      - source_labels: ['__meta_docker_container_log_stream']
        target_label: stream
    pipeline_stages:
      - docker: {}
`,
    );
  });

  after(async () => {
    await receiver?.close();
    await removeContainers(created);
  });

  /** Runs a dry run until it has printed `count` lines, a moment more, then stops it. */
  async function dryRun(count: number): Promise<string[]> {
    const agent = startAgent({ args: [`-config.file=${config}`, '-dry-run'] });
    try {
      await agent.waitForLog(/first discovery done/);
      const deadline = Date.now() + 10_000;
      while (agent.stdout.length < count && Date.now() < deadline) await sleep(50);
      await sleep(1500); // more than a refresh and a positions sync period: nothing else comes, nothing is written
      assert.equal(await agent.stop(), 0, agent.stderr.join('\n'));
      return [...agent.stdout];
    } finally {
      await agent.stop('SIGKILL');
    }
  }

  const expectedLine = (t: TruthLine): [{ sec: number; nsec: number }, string, string] => [
    parseRfc3339Nano(t.ts),
    `{container="${name}", stream="${t.stream}"}`,
    t.line,
  ];
  /**
   * The lines of each stream, in order. Across stdout and stderr the engine's order is not the
   * timestamps' (its json-file logger copies the two streams apart: a stderr line stamped 45 µs before a
   * stdout line was seen after it), and the CLI's ground truth has no cross-stream order at all.
   */
  const byStream = (
    lines: ReturnType<typeof expectedLine>[],
  ): Record<string, ReturnType<typeof expectedLine>[]> => {
    const out: Record<string, ReturnType<typeof expectedLine>[]> = {};
    for (const l of lines) {
      const list = out[l[1]] ?? [];
      list.push(l);
      out[l[1]] = list;
    }
    return out;
  };
  const parsedLine = (l: string): [{ sec: number; nsec: number }, string, string] => {
    const [ts, labels, line, ...rest] = l.split('\t');
    assert.equal(rest.length, 0, l);
    return [parseRfc3339Nano(ts!), labels!, line!];
  };

  test('prints each line with its labels to stdout and writes no positions file', async () => {
    const out = await dryRun(3);
    assert.deepEqual(byStream(out.map(parsedLine)), byStream(truth.map(expectedLine)));
    assert.ok(!existsSync(positions), 'no positions file created');
    assert.ok(!existsSync(`${positions}.tmp`), 'no temporary positions file either');
    assert.equal(receiver.requests().length, 0, 'nothing pushed to the client');
  });

  test('reads an existing positions file (resumes after it) and leaves it untouched', async () => {
    const first = parseRfc3339Nano(truth[0]!.ts);
    const text = `{"version":1,"containers":{\n  ${JSON.stringify(id)}:{"ts":"${first.sec}.${String(first.nsec).padStart(9, '0')}","count":1,"name":"/${name}","updated":"2024-01-01T00:00:00.000Z"}\n}}\n`;
    writeFileSync(positions, text);
    const before = statSync(positions);
    const out = await dryRun(2);
    assert.deepEqual(
      byStream(out.map(parsedLine)),
      byStream(truth.slice(1).map(expectedLine)),
      'the line at the cursor is skipped',
    );
    assert.equal(readFileSync(positions, 'utf8'), text, 'the file is unchanged');
    assert.equal(statSync(positions).mtimeMs, before.mtimeMs, 'the file was not rewritten');
    assert.ok(!existsSync(`${positions}.tmp`));
    assert.equal(receiver.requests().length, 0);
  });
});
