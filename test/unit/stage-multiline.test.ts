import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issuesOf, logEntry, pipeline } from '../harness/pipeline.js';

interface Case {
  name: string;
  config: Record<string, unknown>;
  /** [label value, line] in arrival order. */
  input: [string, string][];
  /** [label value, line] of what comes out, in order (after stop()). */
  want: [string, string][];
}

// The cases of Promtail's multiline_test.go and the flask example of its docs.
const FLASK = [
  '[2020-12-03 11:36:20] "GET /hello HTTP/1.1" 200 -',
  '[2020-12-03 11:36:23] ERROR in app: Exception on /error [GET]',
  'Traceback (most recent call last):',
  '  File "/home/pallets/.pyenv/versions/3.8.5/lib/python3.8/site-packages/flask/app.py", line 2447, in wsgi_app',
  '    response = self.full_dispatch_request()',
  '  File "/home/pallets/.pyenv/versions/3.8.5/lib/python3.8/site-packages/flask/app.py", line 1952, in full_dispatch_request',
  '    rv = self.handle_user_exception(e)',
  'Exception: Sorry, this route always breaks',
  '[2020-12-03 11:36:23] "GET /error HTTP/1.1" 500 -',
  '[2020-12-03 11:36:26] "GET /hello HTTP/1.1" 200 -',
  '[2020-12-03 11:36:27] "GET /hello HTTP/1.1" 200 -',
];

const CASES: Case[] = [
  {
    name: 'lines pass through until the first start line, then blocks are joined',
    config: { firstline: '^START', max_wait_time: '3s' },
    input: [
      ['label', 'not a start line before 1'],
      ['label', 'not a start line before 2'],
      ['label', 'START line 1'],
      ['label', 'not a start line'],
      ['label', 'START line 2'],
      ['label', 'START line 3'],
    ],
    want: [
      ['label', 'not a start line before 1'],
      ['label', 'not a start line before 2'],
      ['label', 'START line 1\nnot a start line'],
      ['label', 'START line 2'],
      ['label', 'START line 3'],
    ],
  },
  {
    name: 'one block per label set (interleaved streams)',
    config: { firstline: '^START', max_wait_time: '3s' },
    input: [
      ['one', 'START line 1'],
      ['one', 'not a start line 1'],
      ['two', 'START line 1'],
      ['one', 'not a start line 2'],
      ['two', 'START line 2'],
      ['one', 'START line 2'],
      ['one', 'not a start line 1'],
    ],
    want: [
      ['two', 'START line 1'],
      ['one', 'START line 1\nnot a start line 1\nnot a start line 2'],
      ['one', 'START line 2\nnot a start line 1'],
      ['two', 'START line 2'],
    ],
  },
  {
    name: 'the flask example of the docs',
    config: { firstline: '^\\[\\d{4}-\\d{2}-\\d{2} \\d{1,2}:\\d{2}:\\d{2}\\]', max_wait_time: '3s' },
    input: FLASK.map(l => ['label', l]),
    want: [
      ['label', FLASK[0]!],
      ['label', FLASK.slice(1, 8).join('\n')],
      ['label', FLASK[8]!],
      ['label', FLASK[9]!],
      ['label', FLASK[10]!],
    ],
  },
  {
    name: "a zero-width space marks the first line (the docs' custom format, Go \\x{200B})",
    config: { firstline: '^\\x{200B}\\[' },
    input: [
      ['label', '\u200B[2020-12-03 11:36:20] message 1'],
      ['label', 'continued'],
      ['label', '\u200B[2020-12-03 11:36:21] message 2'],
    ],
    want: [
      ['label', '\u200B[2020-12-03 11:36:20] message 1\ncontinued'],
      ['label', '\u200B[2020-12-03 11:36:21] message 2'],
    ],
  },
  {
    name: 'max_lines starts a new block',
    config: { firstline: '^START', max_lines: 2 },
    input: [
      ['label', 'START'],
      ['label', 'a'],
      ['label', 'b'],
      ['label', 'c'],
      ['label', 'START 2'],
    ],
    want: [
      ['label', 'START\na'],
      ['label', 'b\nc'],
      ['label', 'START 2'],
    ],
  },
  {
    name: 'max_lines 1: every line on its own',
    config: { firstline: '^START', max_lines: 1 },
    input: [
      ['label', 'START'],
      ['label', 'a'],
      ['label', 'START 2'],
    ],
    want: [
      ['label', 'START'],
      ['label', 'a'],
      ['label', 'START 2'],
    ],
  },
];

describe('multiline stage (Promtail cases)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const { sink, out } = pipeline([{ multiline: c.config }]);
      c.input.forEach(([value, line], i) => {
        sink.push(logEntry({ value }, line, { sec: 1_000 + i }));
      });
      sink.stop();
      assert.deepEqual(
        out.entries.map(e => [e.stream.labels.value, e.line]),
        c.want,
      );
    });
  }

  it('blocks are kept per label set as the earlier stages leave it', () => {
    const { sink, out } = pipeline([
      { regex: { expression: '^(?P<thread>\\w+) ' } },
      { labels: { thread: null } },
      { multiline: { firstline: '^\\w+ START' } },
    ]);
    for (const line of ['t1 START a', 't2 START b', 't1 more a', 't2 more b', 't1 START c']) {
      sink.push(logEntry({ app: 'x' }, line));
    }
    sink.stop();
    assert.deepEqual(
      out.entries.map(e => [e.stream.key, e.line]),
      [
        ['{app="x", thread="t1"}', 't1 START a\nt1 more a'],
        ['{app="x", thread="t1"}', 't1 START c'],
        ['{app="x", thread="t2"}', 't2 START b\nt2 more b'],
      ],
    );
  });

  it("the joined entry keeps the first line's labels, extracted data and timestamp", () => {
    const { sink, out } = pipeline([
      { regex: { expression: '^(?P<word>\\w+)' } },
      { multiline: { firstline: '^START' } },
      { labels: { word: null } },
    ]);
    sink.push(logEntry({ app: 'a' }, 'START here', { sec: 10, nsec: 5 }));
    sink.push(logEntry({ app: 'a' }, 'more', { sec: 11, nsec: 6 }));
    sink.stop();
    const e = out.entries[0]!;
    assert.deepEqual([e.line, e.sec, e.nsec], ['START here\nmore', 10, 5]);
    assert.deepEqual(e.stream.labels, { app: 'a', word: 'START' }, "extracted from the first line's data");
  });

  it('a block is handed on max_wait_time after its last line; a later continuation starts a block of its own', t => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 });
    const { sink, out } = pipeline([{ multiline: { firstline: '^START', max_wait_time: '50ms' } }]);
    sink.push(logEntry({ value: 'label' }, 'START line', { sec: 1 }));
    t.mock.timers.tick(49);
    assert.equal(out.entries.length, 0);
    t.mock.timers.tick(1);
    assert.deepEqual(
      out.entries.map(e => e.line),
      ['START line'],
    );
    sink.push(logEntry({ value: 'label' }, 'not a start line hitting timeout', { sec: 2 }));
    sink.push(logEntry({ value: 'label' }, 'another', { sec: 3 }));
    sink.stop();
    assert.deepEqual(
      out.entries.map(e => [e.line, e.sec]),
      [
        ['START line', 1],
        // Promtail would stamp this block with the previous first line's time (1); docktail keeps its own.
        ['not a start line hitting timeout\nanother', 2],
      ],
    );
  });
});

describe('multiline stage: configuration', () => {
  const table: [string, unknown, string[]][] = [
    [
      'missing firstline',
      {},
      ['[0].multiline.firstline: Missing `firstline`: the regular expression a block starts with'],
    ],
    [
      'a regex RE2 refuses',
      { firstline: '(?=x)' },
      ['[0].multiline.firstline: invalid regular expression `(?=x)`'],
    ],
    [
      'a bad max_wait_time',
      { firstline: 'x', max_wait_time: 'soon' },
      ['[0].multiline.max_wait_time: Expected `max_wait_time` to be a duration'],
    ],
    [
      'a bad max_lines',
      { firstline: 'x', max_lines: -1 },
      ['[0].multiline.max_lines: Expected `max_lines` to be an integer 0 or more'],
    ],
    [
      'an unknown key',
      { firstline: 'x', max_line: 3 },
      ['[0].multiline.max_line: Unknown key `max_line` (did you mean `max_lines`?)'],
    ],
    ['not a mapping', 'x', ['[0].multiline: Expected the `multiline` stage to be a mapping']],
  ];
  for (const [name, config, want] of table) {
    it(name, () => {
      const got = issuesOf([{ multiline: config }]);
      assert.equal(got.length, want.length, got.join('\n'));
      for (const [i, w] of want.entries())
        assert.ok(got[i]!.startsWith(w), `${got[i]} should start with ${w}`);
    });
  }
});
