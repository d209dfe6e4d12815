import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSelector, selects } from '../../src/pipeline/logql.js';
import { dropped, issuesOf, logEntry, pipeline, RecordingAck } from '../harness/pipeline.js';

type Outcome = 'ran' | 'skipped' | 'dropped' | 'error';

// Promtail's match_test.go TestMatcher: the line is "foo"; a nested stage adds a label when it runs.
const MATCHER: [string, Record<string, string>, 'keep' | 'drop', Outcome][] = [
  ['{foo="bar"} |= "foo"', { foo: 'bar' }, 'keep', 'ran'],
  ['{foo="bar"} |~ "foo"', { foo: 'bar' }, 'keep', 'ran'],
  ['{foo="bar"} |= "bar"', { foo: 'bar' }, 'keep', 'skipped'],
  ['{foo="bar"} |~ "bar"', { foo: 'bar' }, 'keep', 'skipped'],
  ['{foo="bar"} != "bar"', { foo: 'bar' }, 'keep', 'ran'],
  ['{foo="bar"} !~ "bar"', { foo: 'bar' }, 'keep', 'ran'],
  ['{foo="bar"} != "foo"', { foo: 'bar' }, 'keep', 'skipped'],
  ['{foo="bar"} |= "foo"', { foo: 'bar' }, 'drop', 'dropped'],
  ['{foo="bar"} |~ "foo"', { foo: 'bar' }, 'drop', 'dropped'],
  ['{foo="bar"} |= "bar"', { foo: 'bar' }, 'drop', 'skipped'],
  ['{foo="bar"} |~ "bar"', { foo: 'bar' }, 'drop', 'skipped'],
  ['{foo="bar"} != "bar"', { foo: 'bar' }, 'drop', 'dropped'],
  ['{foo="bar"} !~ "bar"', { foo: 'bar' }, 'drop', 'dropped'],
  ['{foo="bar"} != "foo"', { foo: 'bar' }, 'drop', 'skipped'],
  ['{foo="bar"} !~ "[]"', { foo: 'bar' }, 'drop', 'error'],
  ['foo', { foo: 'bar' }, 'keep', 'error'],
  ['{}', { foo: 'bar' }, 'keep', 'error'],
  ['{', { foo: 'bar' }, 'keep', 'error'],
  ['', { foo: 'bar' }, 'keep', 'error'],
  ['{foo="bar"}', { foo: 'bar' }, 'keep', 'ran'],
  ['{foo=""}', { foo: 'bar' }, 'keep', 'skipped'],
  ['{foo=""}', { other: 'x' }, 'keep', 'ran'],
  ['{foo!="bar"}', { foo: 'bar' }, 'keep', 'skipped'],
  ['{foo!="bar"}', { foo: 'bar' }, 'drop', 'skipped'],
  ['{foo="bar",bar!="test"}', { foo: 'bar' }, 'keep', 'ran'],
  ['{foo="bar",bar!="test"}', { foo: 'bar' }, 'drop', 'dropped'],
  ['{foo="bar",bar!="test"}', { foo: 'bar', bar: 'test' }, 'keep', 'skipped'],
  ['{foo="bar",bar=~"te.*"}', { foo: 'bar', bar: 'test' }, 'drop', 'dropped'],
  ['{foo="bar",bar=~"te.*"}', { foo: 'bar', bar: 'test' }, 'keep', 'ran'],
  ['{foo="bar",bar!~"te.*"}', { foo: 'bar', bar: 'test' }, 'keep', 'skipped'],
  ['{foo="bar",bar!~"te.*"}', { foo: 'bar', bar: 'test' }, 'drop', 'skipped'],
];

describe('match stage (Promtail TestMatcher)', () => {
  for (const [selector, labels, action, want] of MATCHER) {
    it(`${selector} on ${JSON.stringify(labels)}, ${action}: ${want}`, async () => {
      const config =
        action === 'keep'
          ? { selector, stages: [{ static_labels: { test_label: 'ran' } }] }
          : { selector, action };
      const issues = issuesOf([{ match: config }]);
      if (want === 'error') {
        assert.equal(issues.length, 1, issues.join('\n'));
        assert.match(issues[0]!, /^\[0\]\.match\.selector: /);
        return;
      }
      assert.deepEqual(issues, []);
      const { sink, out, metrics } = pipeline([{ match: config }]);
      const ack = new RecordingAck();
      sink.push(logEntry(labels, 'foo', { ack, seq: 1 }));
      if (want === 'dropped') {
        assert.equal(out.entries.length, 0);
        assert.deepEqual(ack.settled, [1]);
        assert.equal(await dropped(metrics, 'match_stage'), 1);
        return;
      }
      assert.equal(out.entries.length, 1);
      assert.equal(out.entries[0]!.stream.labels.test_label, want === 'ran' ? 'ran' : undefined);
    });
  }
});

describe('match stage (Promtail docs example and TestMatchPipeline)', () => {
  const stages = [
    { json: { expressions: { app: null } } },
    { labels: { app: null } },
    { match: { selector: '{app="loki"}', stages: [{ json: { expressions: { msg: 'message' } } }] } },
    {
      match: {
        pipeline_name: 'app2',
        selector: '{app="poki"}',
        action: 'keep',
        stages: [{ json: { expressions: { msg: 'msg' } } }],
      },
    },
    {
      match: {
        selector: '{app="promtail"} |~ ".*noisy error.*"',
        action: 'drop',
        drop_counter_reason: 'promtail_noisy_error',
      },
    },
    { output: { source: 'msg' } },
  ];
  const line = (app: string, key: string, text: string) =>
    JSON.stringify({
      time: '2012-11-01T22:08:41+00:00',
      app,
      component: ['parser', 'type'],
      level: 'WARN',
      [key]: text,
    });

  it('each app gets its own nested pipeline; noisy promtail errors are dropped', async () => {
    const { sink, out, metrics } = pipeline(stages);
    sink.push(logEntry({ job: 'x' }, line('loki', 'message', 'app1 log line')));
    sink.push(logEntry({ job: 'x' }, line('poki', 'msg', 'app2 log line')));
    sink.push(logEntry({ job: 'x' }, line('promtail', 'message', 'a noisy error happened')));
    sink.push(logEntry({ job: 'x' }, line('promtail', 'msg', 'all fine')));
    assert.deepEqual(
      out.entries.map(e => [e.line, e.stream.key]),
      [
        ['app1 log line', '{app="loki", job="x"}'],
        ['app2 log line', '{app="poki", job="x"}'],
        // Not matched by any keep match: no `msg` was extracted, the line stays as it was.
        [line('promtail', 'msg', 'all fine'), '{app="promtail", job="x"}'],
      ],
    );
    assert.equal(await dropped(metrics, 'promtail_noisy_error'), 1);
  });
});

describe('match stage: selectors', () => {
  const table: [string, Record<string, string>, string, boolean][] = [
    ['{app=~"te"}', { app: 'test' }, 'x', false], // label regexes match the whole value
    ['{app=~"te|test"}', { app: 'test' }, 'x', true],
    ['{app=~"(?i)WEB"}', { app: 'web' }, 'x', true],
    ['{app=~".*"}', {}, 'x', true],
    ['{app=~".+"}', {}, 'x', false],
    ['{app!~"a.*"}', { app: 'b' }, 'x', true],
    ['{app="a"} |~ "err"', { app: 'a' }, 'an error', true], // line regexes match anywhere
    ['{app="a"} |~ "^an"', { app: 'a' }, 'an error', true],
    ['{app="a"} |~ "start.*end"', { app: 'a' }, 'start\nend', false], // `.` stops at \n, as in Go
    ['{app="a"} |~ "(?s)start.*end"', { app: 'a' }, 'start\nend', true],
    ['{app="a"} |= "x" |= "y"', { app: 'a' }, 'x alone', false], // filters all apply
    ['{app="a"} |= "x" != "z"', { app: 'a' }, 'x and y', true],
    ['{ app = "a" , b = "c" }   |=   "x"', { app: 'a', b: 'c' }, 'x', true], // spaces anywhere
    ['{app="a\\"b"}', { app: 'a"b' }, 'x', true], // Go escapes
    ['{app="\\u00e9t\\x41"}', { app: 'étA' }, 'x', true],
    ['{app=`a\\b`}', { app: 'a\\b' }, 'x', true], // raw strings keep backslashes
    ['{app="a"} |~ `\\d+`', { app: 'a' }, 'code 42', true],
    ['{app="a"} |~ "\\\\d+"', { app: 'a' }, 'code 42', true],
    ['{app="a"} |= ""', { app: 'a' }, 'x', true],
  ];
  for (const [text, labels, line, want] of table) {
    it(`${text} on ${JSON.stringify(labels)} / ${JSON.stringify(line)}: ${want}`, () => {
      const r = parseSelector(text);
      assert.ok(r.ok, r.ok ? '' : r.message);
      assert.equal(selects(r.selector, labels, line), want);
    });
  }

  const errors: [string, RegExp][] = [
    ['{app="a"', /expected `,` or `}` at column 9, found the end/],
    ['{app="a"} | json', /expected a line filter .* at column 11/],
    ['{app="a"} |> "<_>"', /expected a line filter/],
    ['{app="a"} or {b="c"}', /expected a line filter/],
    ['{app=="a"}', /expected a quoted string at column 6/],
    ['{app="a}', /unterminated string starting at column 6/],
    ['{app="\\q"}', /invalid escape \\q/],
    ['{app=~"(?=x)"}', /label app: invalid regular expression `\(\?=x\)`/],
    ['{app="a"} |~ "a{2,1}"', /line filter \|~: invalid regular expression/],
    ['{1app="a"}', /expected a label name at column 2/],
  ];
  for (const [text, want] of errors) {
    it(`refuses ${text}`, () => {
      const r = parseSelector(text);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.match(r.message, want);
        assert.ok(r.message.startsWith(`Invalid selector \`${text}\`: `), r.message);
      }
    });
  }
});

describe('match stage: configuration (Promtail validateMatcherConfig)', () => {
  const table: [string, unknown, string[]][] = [
    ['empty', null, ['[0].match: Expected the `match` stage to be a mapping']],
    [
      'empty pipeline name',
      { pipeline_name: '', selector: '{a="b"}', stages: [{ static_labels: { x: 'y' } }] },
      ['[0].match.pipeline_name: match stage `pipeline_name` can be omitted but cannot be an empty string'],
    ],
    [
      'selector required',
      { stages: [{ static_labels: { x: 'y' } }] },
      ['[0].match.selector: Missing `selector`'],
    ],
    [
      'no stages without dropping',
      { selector: '{a="b"}' },
      ["[0].match.stages: match stage requires at least one additional stage to be defined in '- stages'"],
    ],
    [
      'empty stages without dropping',
      { selector: '{a="b"}', stages: [] },
      ['[0].match.stages: match stage requires at least one additional stage'],
    ],
    [
      'stages with dropping',
      { selector: '{a="b"}', action: 'drop', stages: [{ static_labels: { x: 'y' } }] },
      ['[0].match.stages: match stage configured to drop entries cannot contain stages'],
    ],
    [
      'bad action',
      { selector: '{a="b"}', action: 'nope', stages: [] },
      ['[0].match.action: match stage `action` should be `keep` or `drop`, got `nope`'],
    ],
    [
      'nested stage mistakes carry their full path',
      { selector: '{a="b"}', stages: [{ static_labels: { x: 'y' } }, { lables: {} }, { multiline: {} }] },
      [
        '[0].match.stages[1].lables: Unknown pipeline stage `lables` (did you mean `labels`?)',
        '[0].match.stages[2].multiline.firstline: Missing `firstline`',
      ],
    ],
    [
      'a nested item that is not a stage',
      { selector: '{a="b"}', stages: ['json'] },
      ['[0].match.stages[0]: Expected `stages[0]` to be a mapping with exactly one key'],
    ],
    [
      'an unknown key',
      { selector: '{a="b"}', action: 'drop', drop_reason: 'x' },
      ['[0].match.drop_reason: Unknown key `drop_reason`'],
    ],
  ];
  for (const [name, config, want] of table) {
    it(name, () => {
      const got = issuesOf([{ match: config }]);
      assert.equal(got.length, want.length, got.join('\n'));
      for (const [i, w] of want.entries())
        assert.ok(got[i]!.startsWith(w), `${got[i]}\nshould start with\n${w}`);
    });
  }

  it('valid: drop without stages, keep with stages', () => {
    assert.deepEqual(issuesOf([{ match: { selector: '{app="foo"}', action: 'drop' } }]), []);
    assert.deepEqual(
      issuesOf([
        { match: { pipeline_name: 'x', selector: '{app="foo"}', stages: [{ static_labels: { a: 'b' } }] } },
      ]),
      [],
    );
  });

  it('matches nested endlessly through YAML aliases are refused, not followed forever', () => {
    const inner: Record<string, unknown> = { selector: '{a="b"}' };
    inner.stages = [{ match: inner }];
    const got = issuesOf([{ match: inner }]);
    assert.ok(
      got.some(i => /nested more than 16 deep/.test(i)),
      got.join('\n'),
    );
  });

  it('aliases multiplying nested stages (9 per level, 12 levels) stop at a stage budget, fast', () => {
    let level: unknown = { static_labels: { a: 'b' } };
    for (let d = 0; d < 12; d++) level = { match: { selector: '{a="b"}', stages: Array(9).fill(level) } };
    const t0 = Date.now();
    const got = issuesOf([level]);
    assert.ok(Date.now() - t0 < 5_000);
    assert.equal(got.filter(i => /more than 10000 stages in one pipeline/.test(i)).length, 1, got.join('\n'));
  });

  it('drop_counter_reason names the drops', async () => {
    const { sink, metrics } = pipeline([
      {
        match: {
          selector: '{app="promtail"} |~ ".*noisy error.*"',
          action: 'drop',
          drop_counter_reason: 'promtail_noisy_error',
        },
      },
    ]);
    sink.push(logEntry({ app: 'promtail' }, 'a noisy error here'));
    sink.push(logEntry({ app: 'promtail' }, 'a quiet one'));
    assert.equal(await dropped(metrics, 'promtail_noisy_error'), 1);
  });
});
