// The replace stage against Promtail's replace_test.go vectors and docs examples.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, Stage, StageContext } from '../../src/pipeline/stage.js';
import { createJsonStage } from '../../src/pipeline/stages/json.js';
import { createReplaceStage } from '../../src/pipeline/stages/replace.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(line: string, extracted: Record<string, unknown> = {}): PipelineEntry {
  return { labels: {}, extracted, line, sec: 1, nsec: 0, metadata: undefined, tenant: undefined };
}

function build(config: unknown): Stage {
  const { stage, issues } = createReplaceStage(config, ctx);
  assert.deepEqual(issues, []);
  assert.ok(stage);
  return stage;
}

const line =
  '11.11.11.11 - frank [25/Jan/2000:14:00:01 -0500] "GET /1986.js HTTP/1.1" 200 932 "-" "Mozilla/5.0 (Windows; U; Windows NT 5.1; de; rv:1.9.1.7) Gecko/20091221 Firefox/3.5.7 GTB6"';
const upperLine =
  '11.11.11.11 - FRANK [25/JAN/2000:14:00:01 -0500] "GET /1986.JS HTTP/1.1" HttpStatusOk 932 "-" "MOZILLA/5.0 (WINDOWS; U; WINDOWS NT 5.1; DE; RV:1.9.1.7) GECKO/20091221 FIREFOX/3.5.7 GTB6"';
const statusTemplate =
  '{{ if eq .Value "200" }}{{ Replace .Value "200" "HttpStatusOk" -1 }}{{ else }}{{ .Value | ToUpper }}{{ end }}';
const jsonLine =
  '{"time":"2019-01-01T01:00:00.000000001Z", "level": "info", "msg": "11.11.11.11 - \\"POST /loki/api/push/ HTTP/1.1\\" 200 932 \\"-\\" \\"Mozilla/5.0 (Windows; U; Windows NT 5.1; de; rv:1.9.1.7) Gecko/20091221 Firefox/3.5.7 GTB6\\""}';
const upperAgent =
  'MOZILLA/5.0 (WINDOWS; U; WINDOWS NT 5.1; DE; RV:1.9.1.7) GECKO/20091221 FIREFOX/3.5.7 GTB6';

describe('replace stage: Promtail pipeline vectors (TestPipeline_Replace)', () => {
  const cases: {
    name: string;
    json?: unknown;
    config: unknown;
    line: string;
    out: string;
    extracted: object;
  }[] = [
    {
      name: '1 regex stage without source',
      config: { expression: '11.11.11.11 - (\\S+) .*', replace: 'dummy' },
      line,
      out: line.replace('frank', 'dummy'),
      extracted: {},
    },
    {
      name: 'multi stage with source',
      json: { expressions: { level: null, msg: null } },
      config: { expression: '\\S+ - "POST (\\S+) .*', source: 'msg', replace: '/loki/api/v1/push/' },
      line: jsonLine,
      out: jsonLine,
      extracted: {
        level: 'info',
        msg: '11.11.11.11 - "POST /loki/api/v1/push/ HTTP/1.1" 200 932 "-" "Mozilla/5.0 (Windows; U; Windows NT 5.1; de; rv:1.9.1.7) Gecko/20091221 Firefox/3.5.7 GTB6"',
      },
    },
    {
      name: 'named captured groups with template',
      config: {
        expression:
          '^(?P<ip>\\S+) (?P<identd>\\S+) (?P<user>\\S+) \\[(?P<timestamp>[\\w:/]+\\s[+\\-]\\d{4})\\] "(?P<action>\\S+)\\s?(?P<path>\\S+)?\\s?(?P<protocol>\\S+)?" (?P<status>\\d{3}|-) (\\d+|-)\\s?"?(?P<referer>[^"]*)"?\\s?"?(?P<useragent>[^"]*)?"?$',
        replace: statusTemplate,
      },
      line,
      out: upperLine,
      extracted: {
        ip: '11.11.11.11',
        identd: '-',
        user: 'FRANK',
        timestamp: '25/JAN/2000:14:00:01 -0500',
        action: 'GET',
        path: '/1986.JS',
        protocol: 'HTTP/1.1',
        status: 'HttpStatusOk',
        referer: '-',
        useragent: upperAgent,
      },
    },
    {
      name: 'nested captured groups with template',
      config: {
        expression:
          '(?P<ip_user>^(?P<ip>\\S+) (?P<identd>\\S+) (?P<user>\\S+)) \\[(?P<timestamp>[\\w:/]+\\s[+\\-]\\d{4})\\] "(?P<action_path>(?P<action>\\S+)\\s?(?P<path>\\S+)?)\\s?(?P<protocol>\\S+)?" (?P<status>\\d{3}|-) (\\d+|-)\\s?"?(?P<referer>[^"]*)"?\\s?"?(?P<useragent>[^"]*)?"?$',
        replace: statusTemplate,
      },
      line,
      out: upperLine,
      extracted: {
        ip_user: '11.11.11.11 - FRANK',
        action_path: 'GET /1986.JS',
        ip: '11.11.11.11',
        identd: '-',
        user: 'FRANK',
        timestamp: '25/JAN/2000:14:00:01 -0500',
        action: 'GET',
        path: '/1986.JS',
        protocol: 'HTTP/1.1',
        status: 'HttpStatusOk',
        referer: '-',
        useragent: upperAgent,
      },
    },
    {
      name: 'template without source, unnamed groups',
      config: {
        expression:
          '^(\\S+) (\\S+) (\\S+) \\[([\\w:/]+\\s[+\\-]\\d{4})\\] "(\\S+)\\s?(\\S+)?\\s?(\\S+)?" (\\d{3}|-) (\\d+|-)\\s?"?([^"]*)"?\\s?"?([^"]*)?"?$',
        replace: statusTemplate,
      },
      line,
      out: upperLine,
      extracted: {},
    },
    {
      name: 'empty replace value',
      config: { expression: '11.11.11.11 - (\\S+\\s)', replace: '' },
      line,
      out: line.replace('frank ', ''),
      extracted: {},
    },
    {
      name: 'adjacent capture groups',
      config: { expression: '(a|b|c)', replace: '' },
      line: 'abc',
      out: '',
      extracted: {},
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = entry(c.line);
      if (c.json !== undefined) createJsonStage(c.json, ctx).stage!.process(e);
      assert.equal(build(c.config).process(e), 'keep');
      assert.equal(e.line, c.out);
      assert.deepEqual(e.extracted, c.extracted);
    });
  }
});

describe('replace stage: docs examples', () => {
  it('without source', () => {
    const e = entry(
      "2019-01-01T01:00:00.000000001Z stderr P i'm a log message who has sensitive information with password xyz!",
    );
    build({ expression: 'password (\\S+)', replace: '****' }).process(e);
    assert.equal(
      e.line,
      "2019-01-01T01:00:00.000000001Z stderr P i'm a log message who has sensitive information with password ****",
    );
  });
  it('named groups with ToUpper; the size group is named too', () => {
    const e = entry(line);
    build({
      expression:
        '^(?P<ip>\\S+) (?P<identd>\\S+) (?P<user>\\S+) \\[(?P<timestamp>[\\w:/]+\\s[+\\-]\\d{4})\\] "(?P<action>\\S+)\\s?(?P<path>\\S+)?\\s?(?P<protocol>\\S+)?" (?P<status>\\d{3}|-) (?P<size>\\d+|-)\\s?"?(?P<referer>[^"]*)"?\\s?"?(?P<useragent>[^"]*)?"?$',
      replace: '{{ .Value | ToUpper }}',
    }).process(e);
    assert.equal(e.line, upperLine.replace('HttpStatusOk', '200'));
    assert.deepEqual(e.extracted, {
      ip: '11.11.11.11',
      identd: '-',
      user: 'FRANK',
      timestamp: '25/JAN/2000:14:00:01 -0500',
      action: 'GET',
      path: '/1986.JS',
      protocol: 'HTTP/1.1',
      status: '200',
      size: '932',
      referer: '-',
      useragent: upperAgent,
    });
  });
  it('named and unnamed groups: the unnamed user is replaced but not extracted', () => {
    const e = entry(line);
    build({
      expression:
        '^(?P<ip>\\S+) (?P<identd>\\S+) (\\S+) \\[(?P<timestamp>[\\w:/]+\\s[+\\-]\\d{4})\\] "(?P<action>\\S+)\\s?(?P<path>\\S+)?\\s?(?P<protocol>\\S+)?" (?P<status>\\d{3}|-) (?P<size>\\d+|-)\\s?"?(?P<referer>[^"]*)"?\\s?"?(?P<useragent>[^"]*)?"?$',
      replace: '{{ .Value | ToUpper }}',
    }).process(e);
    assert.equal(e.line, upperLine.replace('HttpStatusOk', '200'));
    assert.equal(e.extracted.user, undefined);
    assert.equal(e.extracted.path, '/1986.JS');
  });
  it('hashing for obfuscation: every match of every stage', () => {
    const hash = (v: string) => createHash('sha3-256').update(`salt${v}`).digest('hex');
    const e = entry('ssn 123-45-6789 from 10.0.0.1 by bob.smith@example.com card 4111 1111 1111 1111');
    for (const [expression, tag] of [
      ['([0-9]{3}-[0-9]{2}-[0-9]{4})', 'SSN'],
      ['(\\d{1,3}[.]\\d{1,3}[.]\\d{1,3}[.]\\d{1,3})', 'IP4'],
      ['([\\w\\.=-]+@[\\w\\.-]+\\.[\\w]{2,64})', 'email'],
      ['((?:\\d[ -]*?){13,16})', 'creditcard'],
    ] as const) {
      build({ expression, replace: `*${tag}*{{ .Value | Hash "salt" }}*` }).process(e);
    }
    assert.equal(
      e.line,
      `ssn *SSN*${hash('123-45-6789')}* from *IP4*${hash('10.0.0.1')}* by *email*${hash('bob.smith@example.com')}* card *creditcard*${hash('4111 1111 1111 1111')}*`,
    );
  });
});

describe('replace stage: matching rules', () => {
  const cases: [string, unknown, string, string, Record<string, unknown>][] = [
    ['every match is replaced', { expression: '(\\d+)', replace: '#' }, 'a1b22c333', 'a#b#c#', {}],
    ['no match leaves the line', { expression: '(x)', replace: '#' }, 'abc', 'abc', {}],
    [
      'whole-match text outside groups is kept',
      { expression: 'k=(\\w+);', replace: 'v' },
      'k=a;k=b;',
      'k=v;k=v;',
      {},
    ],
    [
      'other extracted values are template fields',
      { expression: '(\\w+)@', replace: '{{ .user }}' },
      'bob@host',
      'alice@host',
      { user: 'alice' },
    ],
    [
      'a missing field prints <no value>',
      { expression: '(\\w+)@', replace: '{{ .nobody }}' },
      'bob@host',
      '<no value>@host',
      {},
    ],
    [
      'a failing template leaves the entry unchanged',
      { expression: '(?P<u>\\w+)@', replace: '{{ .nobody | ToUpper }}' },
      'bob@host',
      'bob@host',
      {},
    ],
    [
      'empty matches next to a match are skipped (Go FindAll)',
      { expression: '(a*)', replace: '[{{ .Value }}]' },
      'baac',
      '[]b[aa]c[]',
      {},
    ],
    [
      'empty group at offset 0 (Promtail keeps replacing from the start)',
      { expression: '^(x*)(y)', replace: '[{{ .Value }}]' },
      'yz',
      '[][y]z',
      {},
    ],
    [
      'named group of the first match gets its replacement',
      { expression: '(?P<n>\\d)', replace: '<{{ .Value }}>' },
      '1 2',
      '<1> <2>',
      { n: '<1>' },
    ],
    [
      'astral characters advance whole (empty matches)',
      { expression: '(x?)', replace: '.' },
      '😀',
      '.😀.',
      {},
    ],
  ];
  for (const [name, config, input, out, extracted] of cases) {
    it(name, () => {
      const e = entry(input, name.startsWith('other') ? { user: 'alice' } : {});
      build(config).process(e);
      assert.equal(e.line, out);
      assert.deepEqual(e.extracted, name.startsWith('other') ? { user: 'alice' } : extracted);
    });
  }
  it('with source, the result is written back to the source', () => {
    const e = entry('line', { msg: 'pass=abc' });
    build({ expression: 'pass=(\\w+)', source: 'msg', replace: 'xxx' }).process(e);
    assert.deepEqual(e.extracted, { msg: 'pass=xxx' });
    assert.equal(e.line, 'line');
  });
  it('a missing source leaves everything as it is', () => {
    const e = entry('pass=abc');
    build({ expression: 'pass=(\\w+)', source: 'msg', replace: 'xxx' }).process(e);
    assert.deepEqual(e.extracted, {});
    assert.equal(e.line, 'pass=abc');
  });
});

describe('replace stage: config issues (TestReplaceConfig_validate)', () => {
  const cases: [string, unknown, (string | number)[], RegExp][] = [
    ['empty config', null, ['expression'], /^expression is required$/],
    ['missing expression', {}, ['expression'], /^expression is required$/],
    [
      'invalid expression',
      { expression: '(?P<ts[0-9]+).*', replace: 'test' },
      ['expression'],
      /^could not compile regular expression: .*invalid named capture/,
    ],
    [
      'empty source',
      { expression: '(?P<ts>[0-9]+).*', source: '' },
      ['source'],
      /^empty source in replace stage$/,
    ],
    [
      'template with an unknown function',
      { expression: '(a)', replace: '{{ .Value | sprintf }}' },
      ['replace'],
      /^invalid template: function "sprintf" is not supported/,
    ],
    [
      'template syntax error',
      { expression: '(a)', replace: '{{ .Value ' },
      ['replace'],
      /^invalid template: unclosed action/,
    ],
  ];
  for (const [name, config, path, message] of cases) {
    it(name, () => {
      const { stage, issues } = createReplaceStage(config, ctx);
      assert.equal(stage, undefined);
      assert.ok(issues.length >= 1);
      assert.deepEqual(issues[0]!.path, path);
      assert.match(issues[0]!.message, message);
    });
  }
  it('valid with and without source', () => {
    assert.deepEqual(createReplaceStage({ expression: '(?P<ts>[0-9]+).*', replace: 'test' }, ctx).issues, []);
    assert.deepEqual(
      createReplaceStage({ expression: '(?P<ts>[0-9]+).*', source: 'log', replace: 'test' }, ctx).issues,
      [],
    );
  });
});
