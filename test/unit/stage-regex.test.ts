// The regex stage against Promtail's regex_test.go vectors and docs examples.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, Stage, StageContext } from '../../src/pipeline/stage.js';
import { createJsonStage } from '../../src/pipeline/stages/json.js';
import { createRegexStage } from '../../src/pipeline/stages/regex.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(line: string, extracted: Record<string, unknown> = {}): PipelineEntry {
  return { labels: {}, extracted, line, sec: 1, nsec: 0, metadata: undefined, tenant: undefined };
}

function build(config: unknown): Stage {
  const { stage, issues } = createRegexStage(config, ctx);
  assert.deepEqual(issues, []);
  assert.ok(stage);
  return stage;
}

const apacheRegex =
  '^(?P<ip>\\S+) (?P<identd>\\S+) (?P<user>\\S+) \\[(?P<timestamp>[\\w:/]+\\s[+\\-]\\d{4})\\] "(?P<action>\\S+)\\s?(?P<path>\\S+)?\\s?(?P<protocol>\\S+)?" (?P<status>\\d{3}|-) (?P<size>\\d+|-)\\s?"?(?P<referer>[^"]*)"?\\s?"?(?P<useragent>[^"]*)?"?$';
const apacheLine =
  '11.11.11.11 - frank [25/Jan/2000:14:00:01 -0500] "GET /1986.js HTTP/1.1" 200 932 "-" "Mozilla/5.0 (Windows; U; Windows NT 5.1; de; rv:1.9.1.7) Gecko/20091221 Firefox/3.5.7 GTB6"';
const apacheExtracted = {
  ip: '11.11.11.11',
  identd: '-',
  user: 'frank',
  timestamp: '25/Jan/2000:14:00:01 -0500',
  action: 'GET',
  path: '/1986.js',
  protocol: 'HTTP/1.1',
  status: '200',
  size: '932',
  referer: '-',
  useragent: 'Mozilla/5.0 (Windows; U; Windows NT 5.1; de; rv:1.9.1.7) Gecko/20091221 Firefox/3.5.7 GTB6',
};

describe('regex stage: Promtail vectors', () => {
  it('1 regex stage without source (TestPipeline_Regex)', () => {
    const e = entry(apacheLine);
    build({ expression: apacheRegex }).process(e);
    assert.deepEqual(e.extracted, apacheExtracted);
    assert.equal(e.line, apacheLine);
  });
  it('2 regex stages with source', () => {
    const e = entry(apacheLine);
    build({ expression: apacheRegex }).process(e);
    build({ expression: '^HTTP\\/(?P<protocol_version>[0-9\\.]+)$', source: 'protocol' }).process(e);
    assert.deepEqual(e.extracted, { ...apacheExtracted, protocol_version: '1.1' });
  });
  it('source missing from the JSON (TestPipelineWithMissingKey_Regex): null source is left alone', () => {
    const e = entry('{"app":"loki","component":["parser","type"],"level":"WARN"}');
    const json = createJsonStage({ expressions: { time: null } }, ctx).stage!;
    json.process(e);
    build({ expression: '^(?P<year>\\d+)', source: 'time' }).process(e);
    assert.deepEqual(e.extracted, { time: null });
  });

  const cases: [string, unknown, Record<string, unknown>, string, Record<string, unknown>][] = [
    ['match expression on entry', { expression: apacheRegex }, {}, apacheLine, apacheExtracted],
    [
      'match expression on extracted[source]',
      { expression: '^HTTP\\/(?P<protocol_version>.*)$', source: 'protocol' },
      { protocol: 'HTTP/1.1' },
      apacheLine,
      { protocol: 'HTTP/1.1', protocol_version: '1.1' },
    ],
    [
      'failed to match expression on entry',
      { expression: '^(?s)(?P<time>\\S+?) (?P<stream>stdout|stderr) (?P<flags>\\S+?) (?P<message>.*)$' },
      {},
      'blahblahblah',
      {},
    ],
    [
      'failed to match expression on extracted[source]',
      { expression: '^HTTP\\/(?P<protocol_version>.*)$', source: 'protocol' },
      { protocol: 'unknown' },
      'unknown/unknown',
      { protocol: 'unknown' },
    ],
    [
      'case insensitive',
      {
        expression:
          '(?i)(?P<bad>panic:|core_dumped|failure|error|attack| bad |illegal |denied|refused|unauthorized|fatal|failed|Segmentation Fault|Corrupted)',
      },
      {},
      'A Terrible Error has occurred!!!',
      { bad: 'Error' },
    ],
    [
      'missing extracted[source]',
      { expression: '^HTTP\\/(?P<protocol_version>.*)$', source: 'protocol' },
      {},
      'blahblahblah',
      {},
    ],
    [
      'boolean in extracted[source] is matched as its text',
      { expression: '^HTTP\\/(?P<protocol_version>.*)$', source: 'protocol' },
      { protocol: true },
      'unknown/unknown',
      { protocol: true },
    ],
    [
      'number in extracted[source] is matched as Go formats it',
      { expression: '^(?P<int>\\d+)\\.(?P<frac>\\d+)$', source: 'n' },
      { n: 12.5 },
      '',
      { n: 12.5, int: '12', frac: '5' },
    ],
    [
      'group that took no part is set to the empty string',
      { expression: '(?P<a>x)|(?P<b>y)' },
      {},
      'y',
      { a: '', b: 'y' },
    ],
    [
      'unnamed groups are not extracted',
      { expression: '(\\w+) (?P<second>\\w+)' },
      {},
      'one two',
      { second: 'two' },
    ],
    ['a later group with the same name wins', { expression: '(?P<v>a)(?P<v>b)' }, {}, 'ab', { v: 'b' }],
  ];
  for (const [name, config, extracted, line, want] of cases) {
    it(name, () => {
      const e = entry(line, { ...extracted });
      assert.equal(build(config).process(e), 'keep');
      assert.deepEqual(e.extracted, want);
      assert.equal(e.line, line);
    });
  }
});

describe('regex stage: docs examples', () => {
  it('without source', () => {
    const e = entry("2019-01-01T01:00:00.000000001Z stderr P i'm a log message!");
    build({
      expression: '^(?s)(?P<time>\\S+?) (?P<stream>stdout|stderr) (?P<flags>\\S+?) (?P<content>.*)$',
    }).process(e);
    // The docs drop the final `!`; the expression captures it.
    assert.deepEqual(e.extracted, {
      time: '2019-01-01T01:00:00.000000001Z',
      stream: 'stderr',
      flags: 'P',
      content: "i'm a log message!",
    });
  });
  it('with source', () => {
    const e = entry('{"time":"2019-01-01T01:00:00.000000001Z"}');
    createJsonStage({ expressions: { time: null } }, ctx).stage!.process(e);
    build({ expression: '^(?P<year>\\d+)', source: 'time' }).process(e);
    assert.deepEqual(e.extracted, { time: '2019-01-01T01:00:00.000000001Z', year: '2019' });
  });
  it('(?s) lets `.` cross newlines, as in Go', () => {
    const e = entry('a\nb');
    build({ expression: '^(?s)(?P<all>.*)$' }).process(e);
    assert.deepEqual(e.extracted, { all: 'a\nb' });
    const e2 = entry('a\nb');
    build({ expression: '^(?P<all>.*)$' }).process(e2);
    assert.deepEqual(e2.extracted, {});
  });
});

describe('regex stage: config issues (TestRegexConfig_validate)', () => {
  const cases: [string, unknown, (string | number)[], RegExp][] = [
    ['empty config', null, ['expression'], /^expression is required$/],
    ['missing expression', {}, ['expression'], /^expression is required$/],
    [
      'invalid expression',
      { expression: '(?P<ts[0-9]+).*' },
      ['expression'],
      /^could not compile regular expression: .*invalid named capture: `\(\?P<ts\[0-9\]\+\)\.\*`/,
    ],
    ['lookahead (not RE2)', { expression: 'a(?=b)' }, ['expression'], /lookahead/],
    ['empty source', { expression: '(?P<ts>[0-9]+).*', source: '' }, ['source'], /^empty source$/],
    ['expression not a string', { expression: 5 }, ['expression'], /to be a string/],
  ];
  for (const [name, config, path, message] of cases) {
    it(name, () => {
      const { stage, issues } = createRegexStage(config, ctx);
      assert.equal(stage, undefined);
      assert.ok(issues.length >= 1, JSON.stringify(issues));
      assert.deepEqual(issues[0]!.path, path);
      assert.match(issues[0]!.message, message);
    });
  }
  it('valid with and without source', () => {
    assert.deepEqual(createRegexStage({ expression: '(?P<ts>[0-9]+).*' }, ctx).issues, []);
    assert.deepEqual(createRegexStage({ expression: '(?P<ts>[0-9]+).*', source: 'log' }, ctx).issues, []);
  });
});
