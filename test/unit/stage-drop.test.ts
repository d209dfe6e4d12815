import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, StageContext, StageIssue } from '../../src/pipeline/stage.js';
import { parseDatasize, parseGoDuration } from '../../src/pipeline/stages/config-values.js';
import { createDropStage } from '../../src/pipeline/stages/drop.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(line: string, extracted: Record<string, unknown> = {}, ms = Date.now()): PipelineEntry {
  const sec = Math.floor(ms / 1000);
  return {
    labels: {},
    extracted,
    line,
    sec,
    nsec: Math.round((ms - sec * 1000) * 1e6),
    metadata: undefined,
    tenant: undefined,
  };
}

const HOUR = 3_600_000;

interface Case {
  name: string;
  config: Record<string, unknown>;
  line?: string;
  extracted?: Record<string, unknown>;
  /** Entry time relative to now, in ms. */
  age?: number;
  drop: boolean;
}

// Promtail drop_test.go: Test_dropStage_Process, every vector.
const promtailCases: Case[] = [
  { name: 'Longer Than Should Drop', config: { longer_than: '10b' }, line: '12345678901', drop: true },
  {
    name: 'Longer Than Should Not Drop When Equal',
    config: { longer_than: '10b' },
    line: '1234567890',
    drop: false,
  },
  {
    name: 'Longer Than Should Not Drop When Less',
    config: { longer_than: '10b' },
    line: '123456789',
    drop: false,
  },
  { name: 'Older than Should Drop', config: { older_than: '1h' }, age: 2 * HOUR, drop: true },
  { name: 'Older than Should Not Drop', config: { older_than: '1h' }, age: 5 * 60_000, drop: false },
  { name: 'Matched Source', config: { source: 'key' }, extracted: { key: '' }, drop: true },
  { name: 'Did not match Source', config: { source: 'key1' }, extracted: { key: 'val1' }, drop: false },
  {
    name: 'Matched Source and Value',
    config: { source: 'key', value: 'val1' },
    extracted: { key: 'val1' },
    drop: true,
  },
  {
    name: 'Did not match Source and Value',
    config: { source: 'key', value: 'val1' },
    extracted: { key: 'VALRUE1' },
    drop: false,
  },
  {
    name: 'Matched Source(int) and Value(string)',
    config: { source: 'level', value: '50' },
    extracted: { level: 50 },
    drop: true,
  },
  {
    name: 'Matched Source(string) and Value(string)',
    config: { source: 'level', value: '50' },
    extracted: { level: '50' },
    drop: true,
  },
  {
    name: 'Did not match Source(int) and Value(string)',
    config: { source: 'level', value: '50' },
    extracted: { level: 100 },
    drop: false,
  },
  {
    name: 'Did not match Source(string) and Value(string)',
    config: { source: 'level', value: '50' },
    extracted: { level: '100' },
    drop: false,
  },
  {
    name: 'Matched Source and Value with multiple sources',
    config: { source: ['key1', 'key2'], value: 'val1;val200.*' },
    extracted: { key1: 'val1', key2: 'val200.*' },
    drop: true,
  },
  {
    name: 'Matched Source and Value with multiple sources and custom separator',
    config: { source: ['key1', 'key2'], separator: '|', value: 'val1|val200[a]' },
    extracted: { key1: 'val1', key2: 'val200[a]' },
    drop: true,
  },
  {
    name: 'Regex Matched Source(int) and Expression',
    config: { source: 'key', expression: '50' },
    extracted: { key: 50 },
    drop: true,
  },
  {
    name: 'Regex Matched Source(string) and Expression',
    config: { source: 'key', expression: '50' },
    extracted: { key: '50' },
    drop: true,
  },
  {
    name: 'Regex Matched Source and Expression with multiple sources',
    config: { source: ['key1', 'key2'], expression: 'val\\d{1};val\\d{3}$' },
    extracted: { key1: 'val1', key2: 'val200' },
    drop: true,
  },
  {
    name: 'Regex Matched Source and Expression with multiple sources and custom separator',
    config: { source: ['key1', 'key2'], separator: '#', expression: 'val\\d{1}#val\\d{3}$' },
    extracted: { key1: 'val1', key2: 'val200' },
    drop: true,
  },
  {
    name: 'Regex Did not match Source and Expression',
    config: { source: 'key', expression: '.*val.*' },
    extracted: { key: 'pal1' },
    drop: false,
  },
  {
    name: 'Regex Did not match Source and Expression with multiple sources',
    config: { source: ['key1', 'key2'], expression: 'match\\d+;match\\d+' },
    extracted: { key1: 'match1', key2: 'notmatch2' },
    drop: false,
  },
  {
    name: 'Regex Did not match Source and Expression with multiple sources and custom separator',
    config: { source: ['key1', 'key2'], separator: '#', expression: 'match\\d;match\\d' },
    extracted: { key1: 'match1', key2: 'match2' },
    drop: false,
  },
  {
    name: 'Regex No Matching Source',
    config: { source: 'key', expression: '.*val.*' },
    extracted: { pokey: 'pal1' },
    drop: false,
  },
  {
    name: 'Regex Did Not Match Line',
    config: { expression: '.*val.*' },
    line: 'this is a line which does not match the regex',
    drop: false,
  },
  {
    name: 'Regex Matched Line',
    config: { expression: '.*val.*' },
    line: 'this is a line with the word value in it',
    drop: true,
  },
  {
    name: 'Match Source and Length Both Match',
    config: { source: 'key', longer_than: '10b' },
    extracted: { key: 'pal1' },
    line: '12345678901',
    drop: true,
  },
  {
    name: 'Match Source and Length Only First Matches',
    config: { source: 'key', longer_than: '10b' },
    extracted: { key: 'pal1' },
    line: '123456789',
    drop: false,
  },
  {
    name: 'Match Source and Length Only Second Matches',
    config: { source: 'key', longer_than: '10b' },
    extracted: { WOOOOOOOOOOOOOO: 'pal1' },
    line: '123456789012',
    drop: false,
  },
  {
    name: 'Everything Must Match',
    config: { source: 'key', expression: '.*val.*', older_than: '1h', longer_than: '10b' },
    extracted: { key: 'must contain value to match' },
    age: 2 * HOUR,
    line: '12345678901',
    drop: true,
  },
];

const errorLine = `{"time":"2019-01-01T01:00:00.000000001Z", "level": "error", "msg":"11.11.11.11 - "POST /loki/api/push/ HTTP/1.1" 200 932 "-" "Mozilla/5.0"}`;

// Promtail docs (stages/drop.md) and docktail's own cases.
const moreCases: Case[] = [
  {
    name: 'docs: source list, all present',
    config: { source: ['level', 'msg'] },
    extracted: { level: 'x', msg: 'y' },
    drop: true,
  },
  {
    // The docs say "at least one of"; drop.go requires every source.
    name: 'docs: source list, only one present (the code wins: no drop)',
    config: { source: ['level', 'msg'] },
    extracted: { level: 'x' },
    drop: false,
  },
  { name: 'docs: regex on the line', config: { expression: '.*debug.*' }, line: 'a debug line', drop: true },
  {
    name: 'docs: regex on concatenated sources (error)',
    config: {
      source: ['level', 'msg'],
      separator: '#',
      expression: '(error|ERROR)#.*\\/loki\\/api\\/push.*',
    },
    extracted: { level: 'error', msg: '11.11.11.11 - "POST /loki/api/push/ HTTP/1.1" 200 932' },
    drop: true,
  },
  {
    name: 'docs: regex on concatenated sources (ERROR)',
    config: {
      source: ['level', 'msg'],
      separator: '#',
      expression: '(error|ERROR)#.*\\/loki\\/api\\/push.*',
    },
    extracted: { level: 'ERROR', msg: 'POST /loki/api/push/' },
    drop: true,
  },
  {
    name: 'docs: value match of a source',
    config: { source: 'level', value: 'error' },
    extracted: { level: 'error', msg: errorLine },
    drop: true,
  },
  { name: 'docs: 25h-old line, older_than 24h', config: { older_than: '24h' }, age: 25 * HOUR, drop: true },
  { name: 'docs: 23h-old line, older_than 24h', config: { older_than: '24h' }, age: 23 * HOUR, drop: false },
  {
    name: 'docs: longer_than 8kb drops 8193 bytes',
    config: { longer_than: '8kb' },
    line: 'x'.repeat(8193),
    drop: true,
  },
  {
    name: 'docs: longer_than 8kb keeps 8192 bytes',
    config: { longer_than: '8kb' },
    line: 'x'.repeat(8192),
    drop: false,
  },
  {
    name: 'docs: regex AND length, only the regex matches',
    config: { expression: '.*debug.*', longer_than: '1kb' },
    line: 'debug',
    drop: false,
  },
  {
    name: 'longer_than counts UTF-8 bytes: 4 × é = 8 bytes > 7',
    config: { longer_than: 7 },
    line: 'éééé',
    drop: true,
  },
  {
    name: 'longer_than counts UTF-8 bytes: 4 × é = 8 bytes ≤ 8',
    config: { longer_than: 8 },
    line: 'éééé',
    drop: false,
  },
  {
    name: 'longer_than counts UTF-8 bytes: an emoji is 4 bytes',
    config: { longer_than: 3 },
    line: '😀',
    drop: true,
  },
  {
    name: 'an unanchored regex matches a substring',
    config: { expression: 'val' },
    line: 'xxvalxx',
    drop: true,
  },
  {
    name: 'a value is an exact match, not a regex',
    config: { source: 'k', value: 'a.c' },
    extracted: { k: 'abc' },
    drop: false,
  },
  {
    name: 'absent sources are skipped when joining',
    config: { source: ['a', 'b', 'c'], value: '1;3' },
    extracted: { a: '1', c: '3' },
    drop: true,
  },
  {
    name: 'no source present: the regex sees the empty string',
    config: { source: ['a'], expression: '^$' },
    extracted: {},
    drop: true,
  },
  {
    name: 'a present value that cannot be converted means no drop',
    config: { source: ['a', 'b'], expression: '.*' },
    extracted: { a: 'x', b: { nested: 1 } },
    drop: false,
  },
  { name: 'a present null counts as present', config: { source: 'k' }, extracted: { k: null }, drop: true },
  { name: 'a prototype key is not present', config: { source: 'constructor' }, extracted: {}, drop: false },
  {
    name: 'value: true is decoded weakly as "1"',
    config: { source: 'k', value: true },
    extracted: { k: '1' },
    drop: true,
  },
  {
    name: 'a boolean source value is written true/false',
    config: { source: 'k', value: 'true' },
    extracted: { k: true },
    drop: true,
  },
  { name: 'Go (?i) flag', config: { expression: '(?i)ERROR' }, line: 'an error here', drop: true },
  { name: 'longer_than as a number', config: { longer_than: 10000 }, line: 'x'.repeat(10001), drop: true },
  {
    name: 'older_than: a line from the future is kept',
    config: { older_than: '1m' },
    age: -HOUR,
    drop: false,
  },
];

describe('drop stage', () => {
  for (const c of [...promtailCases, ...moreCases]) {
    it(c.name, () => {
      const r = createDropStage(c.config, ctx);
      assert.deepEqual(r.issues, []);
      const e = entry(c.line ?? '', c.extracted, Date.now() - (c.age ?? 0));
      assert.equal(r.stage!.process(e), c.drop ? 'drop' : 'keep');
    });
  }

  it('counts drops under drop_counter_reason, drop_stage by default', () => {
    assert.equal(createDropStage({ expression: 'x' }, ctx).stage!.dropReason, 'drop_stage');
    assert.equal(
      createDropStage({ expression: 'x', drop_counter_reason: '' }, ctx).stage!.dropReason,
      'drop_stage',
    );
    assert.equal(
      createDropStage({ older_than: '24h', drop_counter_reason: 'line_too_old' }, ctx).stage!.dropReason,
      'line_too_old',
    );
    assert.equal(createDropStage({ expression: 'x' }, ctx).stage!.name, 'drop');
  });

  it('drops several stages as an OR (docs: time OR length OR regex)', () => {
    const stages = [
      createDropStage({ older_than: '24h' }, ctx).stage!,
      createDropStage({ longer_than: '8kb' }, ctx).stage!,
      createDropStage({ source: 'msg', expression: '.*trace.*' }, ctx).stage!,
    ];
    const dropped = (e: PipelineEntry) => stages.some(s => s.process(e) === 'drop');
    assert.equal(dropped(entry('short', { msg: 'hello' })), false);
    assert.equal(dropped(entry('short', { msg: 'a trace here' })), true);
    assert.equal(dropped(entry('x'.repeat(9000), { msg: 'hello' })), true);
    assert.equal(dropped(entry('short', { msg: 'hello' }, Date.now() - 25 * HOUR)), true);
  });

  // Promtail drop_test.go: Test_validateDropConfig, and docktail's own.
  const invalid: { name: string; config: unknown; issues: StageIssue[] }[] = [
    {
      name: 'ErrEmpty',
      config: {},
      issues: [
        {
          path: [],
          message:
            'drop stage config must contain at least one of `source`, `expression`, `older_than` or `longer_than`',
        },
      ],
    },
    {
      name: 'null config',
      config: null,
      issues: [
        {
          path: [],
          message:
            'drop stage config must contain at least one of `source`, `expression`, `older_than` or `longer_than`',
        },
      ],
    },
    {
      name: 'Invalid Duration (10y)',
      config: { older_than: '10y' },
      issues: [
        {
          path: ['older_than'],
          message:
            'Invalid `older_than` `10y`: time: unknown unit "y" in duration "10y" (a Go duration such as 90s, 24h or 1h30m)',
        },
      ],
    },
    {
      name: 'Invalid Regex',
      config: { expression: '(?P<ts[0-9]+).*' },
      issues: [
        {
          path: ['expression'],
          message: 'invalid regular expression `(?P<ts[0-9]+).*`: invalid named capture: `(?P<ts[0-9]+).*`',
        },
      ],
    },
    {
      name: 'Invalid Bytesize',
      config: { longer_than: '23QB' },
      issues: [
        {
          path: ['longer_than'],
          message:
            'Invalid `longer_than` `23QB`: strconv.UnmarshalText: parsing "23QB": invalid syntax (whole bytes, or with a unit: 8kb, 1mb)',
        },
      ],
    },
    {
      name: 'Invalid Source Field Type',
      config: { source: 1 },
      issues: [
        {
          path: ['source'],
          message: 'Expected `source` to be an extracted key or a list of them, got `1` (number)',
        },
      ],
    },
    {
      name: 'a source list with a non-string',
      config: { source: ['a', 2] },
      issues: [
        {
          path: ['source', 1],
          message: 'Expected `source[1]` to be an extracted key (a string), got `2` (number)',
        },
      ],
    },
    {
      name: 'value without source',
      config: { value: 'x', longer_than: 5 },
      issues: [
        { path: ['value'], message: 'drop stage config must contain `source` if `value` is specified' },
      ],
    },
    {
      name: 'value and expression',
      config: { source: 'a', value: 'x', expression: 'y' },
      issues: [
        { path: ['value'], message: '`value` and `expression` cannot both be defined: use one of them' },
      ],
    },
    {
      name: 'a misspelt key, and every other mistake at once',
      config: { source: 'a', expresion: 'x', older_than: '1d', longer_than: '1.5kb' },
      issues: [
        { path: ['expresion'], message: 'Unknown key `expresion` (did you mean `expression`?)' },
        {
          path: ['older_than'],
          message:
            'Invalid `older_than` `1d`: time: unknown unit "d" in duration "1d" (a Go duration such as 90s, 24h or 1h30m)',
        },
        {
          path: ['longer_than'],
          message:
            'Invalid `longer_than` `1.5kb`: strconv.UnmarshalText: parsing "1.5KB": invalid syntax (whole bytes, or with a unit: 8kb, 1mb)',
        },
      ],
    },
    {
      name: 'a list for a string field',
      config: { expression: ['a'] },
      issues: [
        { path: ['expression'], message: 'Expected `expression` to be a string, got `["a"]` (array)' },
      ],
    },
  ];
  for (const c of invalid) {
    it(`refuses: ${c.name}`, () => {
      const r = createDropStage(c.config, ctx);
      assert.equal(r.stage, undefined);
      assert.deepEqual(r.issues, c.issues);
    });
  }
});

describe('parseGoDuration (time.ParseDuration)', () => {
  const ok: [string, number][] = [
    ['0', 0],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['-2m', -120_000],
    ['+5ms', 5],
    ['.5s', 500],
    ['1000ns', 0.001],
    ['3µs', 0.003],
    ['3us', 0.003],
  ];
  for (const [text, ms] of ok)
    it(`${text} → ${ms} ms`, () => assert.deepEqual(parseGoDuration(text), { ok: true, ms }));
  const bad: [string, string][] = [
    ['', 'time: invalid duration ""'],
    ['10', 'time: missing unit in duration "10"'],
    ['10y', 'time: unknown unit "y" in duration "10y"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['.s', 'time: invalid duration ".s"'],
    ['h', 'time: invalid duration "h"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${JSON.stringify(text)}`, () =>
      assert.deepEqual(parseGoDuration(text), { ok: false, message }));
  }
});

describe('parseDatasize (flagext.ByteSize)', () => {
  const ok: [string, number][] = [
    ['10000', 10000],
    ['10b', 10],
    ['8kb', 8192],
    ['8KB', 8192],
    ['8k', 8192],
    ['1mb', 1048576],
    ['2 GB', 2 * 2 ** 30],
    ['1 kilobyte', 1024],
    ['3e', 3 * 2 ** 60],
  ];
  for (const [text, bytes] of ok)
    it(`${text} → ${bytes}`, () => assert.deepEqual(parseDatasize(text), { ok: true, bytes }));
  const bad: [string, string][] = [
    ['23QB', 'strconv.UnmarshalText: parsing "23QB": invalid syntax'],
    ['kb', 'strconv.UnmarshalText: parsing "KB": invalid syntax'],
    ['1.5kb', 'strconv.UnmarshalText: parsing "1.5KB": invalid syntax'],
    ['8kib', 'strconv.UnmarshalText: parsing "8KIB": invalid syntax'],
    ['20000eb', 'strconv.UnmarshalText: parsing "20000EB": value out of range'],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${text}`, () => assert.deepEqual(parseDatasize(text), { ok: false, message }));
  }
});
