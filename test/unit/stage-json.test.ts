// The json stage against Promtail's json_test.go vectors and docs examples
// (docs/sources/send-data/promtail/stages/json.md).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type {
  PipelineEntry,
  Stage,
  StageContext,
  StageFactory,
  StageResult,
} from '../../src/pipeline/stage.js';
import { createJsonStage } from '../../src/pipeline/stages/json.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(line: string, extracted: Record<string, unknown> = {}): PipelineEntry {
  return { labels: {}, extracted, line, sec: 1, nsec: 0, metadata: undefined, tenant: undefined };
}

function build(factory: StageFactory, config: unknown): Stage {
  const { stage, issues } = factory(config, ctx);
  assert.deepEqual(issues, []);
  assert.ok(stage);
  return stage;
}

function run(stages: Stage[], e: PipelineEntry): StageResult {
  for (const s of stages) if (s.process(e) === 'drop') return 'drop';
  return 'keep';
}

const testJSONLogLine = `
{
	"time":"2012-11-01T22:08:41+00:00",
	"app":"loki",
	"component": ["parser","type"],
	"level" : "WARN",
	"nested" : {"child":"value"},
    "duration" : 125,
	"message" : "this is a log line",
	"extra": "{\\"user\\":\\"marco\\"}"
}
`;

const logFixture = `
{
	"time":"2012-11-01T22:08:41+00:00",
	"app":"loki",
	"component": ["parser","type"],
	"level" : "WARN",
	"numeric": {
		"float": 12.34,
		"integer": 123,
		"string": "123"
	},
	"nested" : {"child":"value"},
	"message" : "this is a log line",
	"complex" : {
		"log" : {"array":[{"test1":"test2"},{"test3":"test4"}],"prop":"value","prop2":"val2"}
	}
}
`;

const fixtureExpressions = {
  time: '',
  app: '',
  component: '',
  level: '',
  float: 'numeric.float',
  integer: 'numeric.integer',
  string: 'numeric.string',
  nested: '',
  message: '',
  complex: 'complex.log.array[1].test3',
};

const fixtureExtracted = {
  time: '2012-11-01T22:08:41+00:00',
  app: 'loki',
  component: '["parser","type"]',
  level: 'WARN',
  float: 12.34,
  integer: 123,
  string: '123',
  nested: '{"child":"value"}',
  message: 'this is a log line',
  complex: 'test4',
};

describe('json stage: Promtail pipeline vectors (TestPipeline_JSON)', () => {
  const cases: { name: string; configs: unknown[]; line: string; extracted: Record<string, unknown> }[] = [
    {
      name: '1 json stage without source',
      configs: [{ expressions: { out: 'message', app: null, nested: null, duration: null, unknown: null } }],
      line: testJSONLogLine,
      extracted: {
        out: 'this is a log line',
        app: 'loki',
        nested: '{"child":"value"}',
        duration: 125,
        unknown: null,
      },
    },
    {
      name: '2 json stages with source',
      configs: [{ expressions: { extra: null } }, { expressions: { user: null }, source: 'extra' }],
      line: testJSONLogLine,
      extracted: { extra: '{"user":"marco"}', user: 'marco' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = entry(c.line);
      assert.equal(
        run(
          c.configs.map(cfg => build(createJsonStage, cfg)),
          e,
        ),
        'keep',
      );
      assert.deepEqual(e.extracted, c.extracted);
      assert.equal(e.line, c.line);
    });
  }
});

describe('json stage: TestJSONParser_Parse vectors', () => {
  const cases: {
    name: string;
    config: unknown;
    extracted: Record<string, unknown>;
    line: string;
    expected: Record<string, unknown>;
  }[] = [
    {
      name: 'decode json on entry',
      config: { expressions: fixtureExpressions },
      extracted: {},
      line: logFixture,
      expected: fixtureExtracted,
    },
    {
      name: 'decode json on extracted[source]',
      config: { expressions: fixtureExpressions, source: 'log' },
      extracted: { log: logFixture },
      line: '{}',
      expected: { ...fixtureExtracted, log: logFixture },
    },
    {
      name: 'missing extracted[source]',
      config: { expressions: { app: '' }, source: 'log' },
      extracted: {},
      line: logFixture,
      expected: {},
    },
    {
      name: 'invalid json on entry',
      config: { expressions: { expr1: '' } },
      extracted: {},
      line: 'ts=now log=notjson',
      expected: {},
    },
    {
      name: 'invalid json on extracted[source]',
      config: { expressions: { app: '' }, source: 'log' },
      extracted: { log: 'not a json' },
      line: logFixture,
      expected: { log: 'not a json' },
    },
    {
      name: 'nil source',
      config: { expressions: { app: '' }, source: 'log' },
      extracted: { log: null },
      line: logFixture,
      expected: { log: null },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = entry(c.line, { ...c.extracted });
      assert.equal(build(createJsonStage, c.config).process(e), 'keep');
      assert.deepEqual(e.extracted, c.expected);
    });
  }
});

describe('json stage: drop_malformed (TestValidateJSONDrop)', () => {
  const stage = build(createJsonStage, { drop_malformed: true, expressions: { page: 'page' } });
  const cases: [string, string, StageResult][] = [
    ['valid object', '{"page": 1, "fruits": ["apple", "peach"]}', 'keep'],
    ['malformed object', '{"page": 1, fruits": ["apple", "peach"]}', 'drop'],
    ['top-level array (Go cannot unmarshal it into a map)', '[1,2]', 'drop'],
    ['top-level string', '"text"', 'drop'],
    ['empty line', '', 'drop'],
    ['null (an empty map in Go)', 'null', 'keep'],
  ];
  for (const [name, line, result] of cases) {
    it(name, () => {
      const e = entry(line, { test_label: 'unimportant value' });
      assert.equal(stage.process(e), result);
    });
  }
  it('without drop_malformed a malformed line is kept and nothing is extracted', () => {
    const e = entry('{"page": 1, fruits"');
    assert.equal(build(createJsonStage, { expressions: { page: '' } }).process(e), 'keep');
    assert.deepEqual(e.extracted, {});
  });
  it('a missing source is not malformed (kept even with drop_malformed)', () => {
    const e = entry('not json');
    assert.equal(
      build(createJsonStage, { drop_malformed: true, expressions: { a: '' }, source: 'x' }).process(e),
      'keep',
    );
  });
  it('`null` sets every expression to null', () => {
    const e = entry('null');
    build(createJsonStage, { expressions: { a: '', b: 'x.y', c: 'length(@)' } }).process(e);
    assert.deepEqual(e.extracted, { a: null, b: null });
  });
});

describe('json stage: docs examples', () => {
  it('using log line', () => {
    const e = entry('{"log":"log message\\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z"}');
    build(createJsonStage, { expressions: { output: 'log', stream: 'stream', timestamp: 'time' } }).process(
      e,
    );
    // The docs drop the `Z`; Promtail keeps the value as it is.
    assert.deepEqual(e.extracted, {
      output: 'log message\n',
      stream: 'stderr',
      timestamp: '2019-04-30T02:12:41.8443515Z',
    });
  });
  it('using extracted data', () => {
    const e = entry(
      '{"log":"log message\\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z","extra":"{\\"user\\":\\"marco\\"}"}',
    );
    run(
      [
        build(createJsonStage, {
          expressions: { output: 'log', stream: 'stream', timestamp: 'time', extra: null },
        }),
        build(createJsonStage, { expressions: { user: null }, source: 'extra' }),
      ],
      e,
    );
    assert.deepEqual(e.extracted, {
      output: 'log message\n',
      stream: 'stderr',
      timestamp: '2019-04-30T02:12:41.8443515Z',
      extra: '{"user":"marco"}',
      user: 'marco',
    });
  });
  it('using a JMESPath literal for a key with a dot', () => {
    const e = entry('{"log":"log message\\n","grpc.stream":"stderr","time":"2019-04-30T02:12:41.8443515Z"}');
    build(createJsonStage, {
      expressions: { output: 'log', stream: '"grpc.stream"', timestamp: 'time' },
    }).process(e);
    assert.deepEqual(e.extracted, {
      output: 'log message\n',
      stream: 'stderr',
      timestamp: '2019-04-30T02:12:41.8443515Z',
    });
  });
});

describe('json stage: values and expressions', () => {
  const line =
    '{"a":{"b":{"c":"deep"}},"n":1.5e3,"t":true,"f":false,"z":null,"arr":[1,"<x>",{"k":"&"}],"s":"a\\u0008b","__proto__":"p","constructor":{"x":1}}';
  const cases: [string, string, unknown][] = [
    ['dotted path', 'a.b.c', 'deep'],
    ['path through a non-object is null', 'a.b.c.d', null],
    ['missing key is null', 'missing', null],
    ['number stays a number', 'n', 1500],
    ['true stays a boolean', 't', true],
    ['false stays a boolean', 'f', false],
    ['null stays null', 'z', null],
    ['object re-marshalled', 'a.b', '{"c":"deep"}'],
    ['array re-marshalled with Go HTML escaping', 'arr', '[1,"\\u003cx\\u003e",{"k":"\\u0026"}]'],
    ['index expression (JMESPath interpreter)', 'arr[2].k', '&'],
    ['function expression', 'length(arr)', 3],
    ['projection', 'arr[?k].k', '["\\u0026"]'],
    ['__proto__ is an ordinary key', '"__proto__"', 'p'],
    ['inherited names are not keys', 'toString', null],
    ['own key named like an inherited one', 'constructor', '{"x":1}'],
    ['control characters kept in strings', 's', 'a\bb'],
  ];
  for (const [name, expression, value] of cases) {
    it(name, () => {
      const e = entry(line);
      build(createJsonStage, { expressions: { out: expression } }).process(e);
      assert.deepEqual(e.extracted, { out: value });
    });
  }
  it('a number source is read as its text: `42` is not an object, so it is malformed', () => {
    const e = entry('', { src: 42 });
    const stage = build(createJsonStage, { drop_malformed: true, expressions: { x: '' }, source: 'src' });
    assert.equal(stage.process(e), 'drop');
    assert.deepEqual(e.extracted, { src: 42 });
  });
  it('a failing JMESPath search sets nothing', () => {
    const e = entry('{"a":"text"}');
    build(createJsonStage, { expressions: { out: 'abs(a)', ok: 'a' } }).process(e);
    assert.deepEqual(e.extracted, { ok: 'text' });
  });
});

describe('json stage: config issues (TestJSONConfig_validate)', () => {
  const cases: [string, unknown, { path: (string | number)[]; message: RegExp }[]][] = [
    ['empty config', null, [{ path: ['expressions'], message: /^JMES expression is required$/ }]],
    ['no expressions', {}, [{ path: ['expressions'], message: /^JMES expression is required$/ }]],
    [
      'empty expressions',
      { expressions: {} },
      [{ path: ['expressions'], message: /^JMES expression is required$/ }],
    ],
    [
      'invalid expression',
      { expressions: { extr1: '3##@$#33' } },
      [
        {
          path: ['expressions', 'extr1'],
          message: /^could not compile JMES expression: .*unknown character: #/,
        },
      ],
    ],
    [
      'empty source',
      { expressions: { extr1: 'expr' }, source: '' },
      [{ path: ['source'], message: /^empty source$/ }],
    ],
    [
      'expression not a string',
      { expressions: { a: 5 } },
      [{ path: ['expressions', 'a'], message: /Expected `expressions.a` to be a string/ }],
    ],
    [
      'expressions not a mapping',
      { expressions: ['a'] },
      [{ path: ['expressions'], message: /to be a mapping/ }],
    ],
    [
      'a dashed name read as a subtraction (go-jmespath refuses it)',
      { expressions: { 'my-field': null } },
      [
        {
          path: ['expressions', 'my-field'],
          message:
            /arithmetic is not supported by Promtail's JMESPath; a key with a dash must be quoted: '"my-field"'/,
        },
      ],
    ],
    [
      'community-only syntax',
      { expressions: { a: '$.x', b: 'x ? y : z', c: 'upper(x)' } },
      [
        { path: ['expressions', 'a'], message: /the `\$` root reference is not supported/ },
        { path: ['expressions', 'b'], message: /the `\?:` operator is not supported/ },
        { path: ['expressions', 'c'], message: /unknown function: upper\(\)/ },
      ],
    ],
    [
      'drop_malformed not a boolean',
      { expressions: { a: '' }, drop_malformed: 'sure' },
      [{ path: ['drop_malformed'], message: /to be a boolean/ }],
    ],
    [
      'misspelt key',
      { expressions: { a: '' }, sorce: 'x' },
      [{ path: ['sorce'], message: /Unknown key `sorce`/ }],
    ],
  ];
  for (const [name, config, want] of cases) {
    it(name, () => {
      const { stage, issues } = createJsonStage(config, ctx);
      assert.equal(stage, undefined);
      assert.equal(issues.length, want.length, JSON.stringify(issues));
      want.forEach((w, i) => {
        assert.deepEqual(issues[i]!.path, w.path);
        assert.match(issues[i]!.message, w.message);
      });
    });
  }
  it('valid with and without source; YAML `yes` is a boolean', () => {
    for (const config of [
      { expressions: { expr1: 'expr', expr2: '', expr3: 'expr1.expr2' } },
      {
        expressions: { expr1: 'expr', expr2: '', expr3: 'expr1.expr2' },
        source: 'log',
        drop_malformed: 'yes',
      },
    ]) {
      assert.deepEqual(createJsonStage(config, ctx).issues, []);
    }
  });
});

describe('json stage: JMESPath reads Go maps', () => {
  it("the interpreter finds no field on Object.prototype (Go's map has no such key)", () => {
    const stage = build(createJsonStage, {
      expressions: {
        c: '[constructor][0]',
        p: '[__proto__][0]',
        t: 'a.toString || `"none"`',
        own: '[__proto__][0].x',
      },
    });
    const e = entry('{"a":{},"b":1}');
    stage.process(e);
    assert.deepStrictEqual(e.extracted, { c: null, p: null, t: 'none', own: null });
    const f = entry('{"__proto__":{"x":5},"constructor":"yes"}');
    stage.process(f);
    assert.deepStrictEqual(f.extracted, { c: 'yes', p: '{"x":5}', t: 'none', own: 5 });
  });
});

describe('json stage: plain paths read without JSON.parse give what the interpreter gives', () => {
  it('on random lines, whole or broken, with drop_malformed either way', () => {
    // `[path][0]` is the same value as `path`, but it is no plain path: it takes the JMESPath route.
    const paths = { a: 'a', b: 'b.c', d: '"d-e".f.g', n: 'missing', p: '__proto__', c: 'a.constructor' };
    const interpreted = Object.fromEntries(Object.entries(paths).map(([k, v]) => [k, `[${v}][0]`]));
    const key = fc.constantFrom('a', 'b', 'c', 'd-e', 'f', 'g', '__proto__', 'constructor', 'x');
    const value: fc.Arbitrary<unknown> = fc.letrec(tie => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 1 }),
        fc.dictionary(key, tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    const line = fc.oneof(
      fc.dictionary(key, value, { maxKeys: 5 }).map(o => JSON.stringify(o)),
      fc.json({ maxDepth: 2 }),
      fc
        .tuple(fc.dictionary(key, value, { maxKeys: 5 }), fc.nat(), fc.constantFrom('', ',', '}', '"', 'x'))
        .map(([o, at, cut]) => {
          const t = JSON.stringify(o);
          const i = at % (t.length + 1);
          return t.slice(0, i) + cut + t.slice(i + 1);
        }),
    );
    fc.assert(
      fc.property(line, fc.boolean(), (text, drop) => {
        const direct = build(createJsonStage, { expressions: paths, drop_malformed: drop });
        const viaInterpreter = build(createJsonStage, { expressions: interpreted, drop_malformed: drop });
        const a = entry(text);
        const b = entry(text);
        assert.equal(direct.process(a), viaInterpreter.process(b));
        assert.deepStrictEqual(a.extracted, b.extracted);
      }),
      { numRuns: 3_000 },
    );
  });
});
