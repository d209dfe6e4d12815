// The logfmt stage against Promtail's logfmt_test.go vectors and docs examples, and the decoder
// against go-logfmt's rules (quoted values, escapes, bare keys, syntax errors).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { decodeLogfmt } from '../../src/pipeline/logfmt.js';
import type { PipelineEntry, Stage, StageContext } from '../../src/pipeline/stage.js';
import { createLogfmtStage } from '../../src/pipeline/stages/logfmt.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(line: string, extracted: Record<string, unknown> = {}): PipelineEntry {
  return { labels: {}, extracted, line, sec: 1, nsec: 0, metadata: undefined, tenant: undefined };
}

function build(config: unknown): Stage {
  const { stage, issues } = createLogfmtStage(config, ctx);
  assert.deepEqual(issues, []);
  assert.ok(stage);
  return stage;
}

/** Every pair the decoder delivers, and its error. */
function decodeAll(input: string): { pairs: [string, string][]; error: string | undefined } {
  const pairs: [string, string][] = [];
  const error = decodeLogfmt(input, { wanted: () => true, pair: (k, v) => pairs.push([k, v]) });
  return { pairs, error };
}

const pipelineLine = `
		time=2012-11-01T22:08:41+00:00 app=loki	level=WARN duration=125 message="this is a log line" extra="user=foo""
	`;

const fixture = `
	time=2012-11-01T22:08:41+00:00
	app=loki
	level=WARN
	nested="child=value"
	message="this is a log line"
`;

describe('logfmt stage: Promtail vectors', () => {
  it('1 logfmt stage without source (pairs before the stray quote are kept)', () => {
    const e = entry(pipelineLine);
    build({ mapping: { out: 'message', app: null, duration: null, unknown: null } }).process(e);
    assert.deepEqual(e.extracted, { out: 'this is a log line', app: 'loki', duration: '125' });
  });
  it('2 logfmt stages with source', () => {
    const e = entry(pipelineLine);
    build({ mapping: { extra: null } }).process(e);
    build({ mapping: { user: null }, source: 'extra' }).process(e);
    assert.deepEqual(e.extracted, { extra: 'user=foo', user: 'foo' });
  });

  const all = { time: '', app: '', level: '', nested: '', message: '' };
  const decoded = {
    time: '2012-11-01T22:08:41+00:00',
    app: 'loki',
    level: 'WARN',
    nested: 'child=value',
    message: 'this is a log line',
  };
  const cases: [string, unknown, Record<string, unknown>, string, Record<string, unknown>][] = [
    ['decode logfmt on entry (one pair per line)', { mapping: all }, {}, fixture, decoded],
    [
      'decode logfmt on extracted[source]',
      { mapping: all, source: 'log' },
      { log: fixture },
      '{}',
      { ...decoded, log: fixture },
    ],
    ['missing extracted[source]', { mapping: { app: '' }, source: 'log' }, {}, fixture, {}],
    ['invalid logfmt on entry', { mapping: { expr1: '' } }, {}, '{"invalid":"logfmt"}', {}],
    [
      'invalid logfmt on extracted[source]',
      { mapping: { app: '' }, source: 'log' },
      { log: 'not logfmt' },
      fixture,
      { log: 'not logfmt' },
    ],
    ['nil source', { mapping: { app: '' }, source: 'log' }, { log: null }, fixture, { log: null }],
  ];
  for (const [name, config, extracted, line, want] of cases) {
    it(name, () => {
      const e = entry(line, { ...extracted });
      assert.equal(build(config).process(e), 'keep');
      assert.deepEqual(e.extracted, want);
    });
  }
});

describe('logfmt stage: docs examples', () => {
  const line =
    'time=2012-11-01T22:08:41+00:00 app=loki level=WARN duration=125 message="this is a log line" extra="user=foo"';
  it('using log line', () => {
    const e = entry(line);
    build({ mapping: { timestamp: 'time', app: null, duration: null, unknown: null } }).process(e);
    assert.deepEqual(e.extracted, { timestamp: '2012-11-01T22:08:41+00:00', app: 'loki', duration: '125' });
  });
  it('using extracted data', () => {
    const e = entry(line);
    build({ mapping: { extra: null } }).process(e);
    assert.deepEqual(e.extracted, { extra: 'user=foo' });
    build({ mapping: { user: null }, source: 'extra' }).process(e);
    assert.deepEqual(e.extracted, { extra: 'user=foo', user: 'foo' });
  });
  it('a number source is decoded as its text', () => {
    const e = entry('', { n: 125 });
    build({ mapping: { v: '125' }, source: 'n' }).process(e);
    assert.deepEqual(e.extracted, { n: 125, v: '' });
  });
});

describe('logfmt decoder: go-logfmt rules', () => {
  const cases: [string, string, [string, string][], string | undefined][] = [
    [
      'simple pairs',
      'a=1 b=2',
      [
        ['a', '1'],
        ['b', '2'],
      ],
      undefined,
    ],
    [
      'bare key has an empty value',
      'a b=2 c',
      [
        ['a', ''],
        ['b', '2'],
        ['c', ''],
      ],
      undefined,
    ],
    [
      'empty value',
      'a= b=',
      [
        ['a', ''],
        ['b', ''],
      ],
      undefined,
    ],
    [
      'quoted value with spaces',
      'msg="hello world" x=1',
      [
        ['msg', 'hello world'],
        ['x', '1'],
      ],
      undefined,
    ],
    ['empty quoted value', 'a=""', [['a', '']], undefined],
    ['escapes', 'a="q\\"uote\\\\ \\/ \\n\\t\\u00e9"', [['a', 'q"uote\\ / \n\té']], undefined],
    ['surrogate pair escape', 'a="\\ud83d\\ude00"', [['a', '😀']], undefined],
    ['unpaired surrogate becomes U+FFFD', 'a="\\ud83dx"', [['a', '\ufffdx']], undefined],
    ['raw control characters allowed without escapes', 'a="x\ty"', [['a', 'x\ty']], undefined],
    [
      'raw control characters refused with escapes',
      'a="x\ty\\n"',
      [],
      'logfmt syntax error at pos 10 on line 1: invalid quoted value',
    ],
    ['unknown escape', 'a="\\q"', [], 'logfmt syntax error at pos 7 on line 1: invalid quoted value'],
    [
      'unterminated quote',
      'a=1 b="x',
      [['a', '1']],
      'logfmt syntax error at pos 9 on line 1: unterminated quoted value',
    ],
    ['quote in a key', 'a"b=1', [], `logfmt syntax error at pos 2 on line 1: unexpected '"'`],
    ['equals first', '=1', [], `logfmt syntax error at pos 1 on line 1: unexpected '='`],
    ['equals in a value', 'a=b=c', [], `logfmt syntax error at pos 4 on line 1: unexpected '='`],
    ['quote in a value', 'a=b"c', [], `logfmt syntax error at pos 4 on line 1: unexpected '"'`],
    [
      'U+FFFD in a key (positions count characters, Go counts bytes)',
      'k\ufffd=1',
      [],
      'logfmt syntax error at pos 3 on line 1: invalid key',
    ],
    ['other multibyte keys are fine', 'clé=v', [['clé', 'v']], undefined],
    [
      'records are lines; CR before LF dropped',
      'a=1\r\nb=2\n\nc=3',
      [
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ],
      undefined,
    ],
    [
      'error reports its line',
      'a=1\nb="x',
      [['a', '1']],
      'logfmt syntax error at pos 5 on line 2: unterminated quoted value',
    ],
    [
      'garbage bytes below space are separators',
      '\x01a=1\x02b=2',
      [
        ['a', '1'],
        ['b', '2'],
      ],
      undefined,
    ],
    ['empty input', '', [], undefined],
  ];
  for (const [name, input, pairs, error] of cases) {
    it(name, () => {
      assert.deepEqual(decodeAll(input), { pairs, error });
    });
  }
  it('a line of 64 KiB stops the decoder (bufio.Scanner token limit)', () => {
    const long = `a=1\nb=${'x'.repeat(64 * 1024)}\nc=3`;
    assert.deepEqual(decodeAll(long), { pairs: [['a', '1']], error: 'bufio.Scanner: token too long' });
    const fits = `b=${'x'.repeat(64 * 1024 - 3)}`;
    assert.equal(decodeAll(fits).error, undefined);
  });
});

describe('logfmt stage: config issues (TestLogfmtConfig_validate)', () => {
  const cases: [string, unknown, (string | number)[], RegExp][] = [
    ['empty config', null, ['mapping'], /^logfmt mapping is required$/],
    ['no mapping', {}, ['mapping'], /^logfmt mapping is required$/],
    ['empty mapping', { mapping: {} }, ['mapping'], /^logfmt mapping is required$/],
    ['empty source', { mapping: { extr1: 'expr' }, source: '' }, ['source'], /^empty source$/],
    ['mapping not a mapping', { mapping: 'a' }, ['mapping'], /to be a mapping/],
    ['key not a string', { mapping: { a: 1 } }, ['mapping', 'a'], /to be a string/],
    [
      'unknown key',
      { mapping: { a: '' }, sources: 'x' },
      ['sources'],
      /Unknown key `sources` \(did you mean `source`\?\)/,
    ],
  ];
  for (const [name, config, path, message] of cases) {
    it(name, () => {
      const { stage, issues } = createLogfmtStage(config, ctx);
      assert.equal(stage, undefined);
      assert.equal(issues.length, 1, JSON.stringify(issues));
      assert.deepEqual(issues[0]!.path, path);
      assert.match(issues[0]!.message, message);
    });
  }
  it('valid with and without source', () => {
    assert.deepEqual(createLogfmtStage({ mapping: { foo1: 'foo', foo2: '' } }, ctx).issues, []);
    assert.deepEqual(
      createLogfmtStage({ mapping: { foo1: 'foo', foo2: '' }, source: 'log' }, ctx).issues,
      [],
    );
  });
});
