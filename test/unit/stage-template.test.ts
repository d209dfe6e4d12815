// The template stage and the Go text/template engine against Promtail's template_test.go vectors and
// docs examples (docs/sources/send-data/promtail/stages/template.md).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineEntry, Stage, StageContext } from '../../src/pipeline/stage.js';
import { createJsonStage } from '../../src/pipeline/stages/json.js';
import { createTemplateStage } from '../../src/pipeline/stages/template.js';
import { compileTemplate } from '../../src/pipeline/template/template.js';

/** Go's `${1}` group reference (kept out of template-literal look-alikes). */
const G1 = '$' + '{1}';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(line: string, extracted: Record<string, unknown> = {}): PipelineEntry {
  return { labels: {}, extracted, line, sec: 1, nsec: 0, metadata: undefined, tenant: undefined };
}

function build(config: unknown): Stage {
  const { stage, issues } = createTemplateStage(config, ctx);
  assert.deepEqual(issues, []);
  assert.ok(stage);
  return stage;
}

/** Runs a template over string data; the error message when it fails. */
function exec(source: string, data: Record<string, string> = {}): string {
  const compiled = compileTemplate(source);
  if (!compiled.ok) throw new Error(`compile: ${compiled.message}`);
  return compiled.template.execute({ get: k => data[k], entries: () => Object.entries(data) });
}

describe('template stage: Promtail pipeline (TestPipeline_Template)', () => {
  it('json → templates → values that labels would take', () => {
    const e = entry(
      '{"time":"2012-11-01T22:08:41+00:00","app":"loki","component":["parser","type"],"level":"WARN","nested":{"child":"value"},"message":"this is a log line"}',
    );
    createJsonStage({ expressions: { app: 'app', level: 'level' } }, ctx).stage!.process(e);
    build({ source: 'app', template: '{{ .Value | ToUpper }} doki' }).process(e);
    build({
      source: 'level',
      template: '{{ if eq .Value "WARN" }}{{ Replace .Value "WARN" "OK" -1 }}{{ else }}{{ .Value }}{{ end }}',
    }).process(e);
    build({ source: 'nonexistent', template: 'TEST' }).process(e);
    assert.deepEqual(e.extracted, { app: 'LOKI doki', level: 'OK', nonexistent: 'TEST' });
  });
  it('a null extracted value is not a field (TestPipelineWithMissingKey_Template)', () => {
    const e = entry('{"level":"WARN"}');
    createJsonStage({ expressions: { app: 'app', level: 'level' } }, ctx).stage!.process(e);
    build({ source: 'app', template: '{{ .Value | ToUpper }} doki' }).process(e);
    assert.deepEqual(e.extracted, { app: null, level: 'WARN' });
  });
});

describe('template stage: TestTemplateStage_Process vectors', () => {
  // Promtail's test feeds its expected map as input, so it never checked these; they are run here.
  const cases: [string, string, string, Record<string, unknown>, Record<string, unknown>][] = [
    ['simple template', 'some', '{{ .Value }} appended', { some: 'value' }, { some: 'value appended' }],
    ['add missing', 'missing', 'newval', { notmissing: 'value' }, { notmissing: 'value', missing: 'newval' }],
    [
      'template with multiple keys',
      'message',
      '{{.Value}} in module {{.module}}',
      { level: 'warn', app: 'loki', message: 'warn for app loki', module: 'test' },
      { level: 'warn', app: 'loki', module: 'test', message: 'warn for app loki in module test' },
    ],
    [
      'template with multiple keys with missing source',
      'missing',
      '{{ .level }} for app {{ .app | ToUpper }}',
      { level: 'warn', app: 'loki' },
      { level: 'warn', app: 'loki', missing: 'warn for app LOKI' },
    ],
    [
      'template with multiple keys with missing key',
      'message',
      '{{.Value}} in module {{.module}}',
      { level: 'warn', app: 'loki', message: 'warn for app loki' },
      { level: 'warn', app: 'loki', message: 'warn for app loki in module <no value>' },
    ],
    [
      'nil value in another extracted key',
      'level',
      '{{ Replace .Value "Warning" "warn" 1 }}',
      { level: 'Warning', testval: null },
      { level: 'warn', testval: null },
    ],
    ['ToLower', 'testval', '{{ .Value | ToLower }}', { testval: 'Value' }, { testval: 'value' }],
    ['ToLowerParams', 'testval', '{{ ToLower .Value }}', { testval: 'Value' }, { testval: 'value' }],
    ['ToLowerEmptyValue (a missing .Value fails: unchanged)', 'testval', '{{ .Value | ToLower }}', {}, {}],
    [
      'ReplaceAllToLower',
      'testval',
      '{{ Replace .Value " " "_" -1 | ToLower }}',
      { testval: 'Some Silly Value With Lots Of Spaces' },
      { testval: 'some_silly_value_with_lots_of_spaces' },
    ],
    [
      'regexReplaceAll',
      'testval',
      `{{ regexReplaceAll "(Silly)" .Value "${G1}foo"  }}`,
      { testval: 'Some Silly Value With Lots Of Spaces' },
      { testval: 'Some Sillyfoo Value With Lots Of Spaces' },
    ],
    [
      'regexReplaceAll with alternation',
      'testval',
      '{{ regexReplaceAll "( |Of)" .Value "_"  }}',
      { testval: 'Some Silly Value With Lots Of Spaces' },
      { testval: 'Some_Silly_Value_With_Lots___Spaces' },
    ],
    [
      'regexReplaceAllLiteral keeps $ as text',
      'testval',
      `{{ regexReplaceAllLiteral "(ts=)" .Value "${G1}timestamp=" }}`,
      { testval: 'ts=1 ts=2' },
      { testval: `${G1}timestamp=1 ${G1}timestamp=2` },
    ],
    ['Trim', 'testval', '{{ Trim .Value "!" }}', { testval: '!!!!!WOOOOO!!!!!' }, { testval: 'WOOOOO' }],
    ['Remove label empty value', 'testval', '', { testval: 'WOOOOO' }, {}],
    ["Don't add label with empty value", 'testval', '', {}, {}],
    [
      'Sha2Hash',
      'testval',
      '{{ Sha2Hash .Value "salt" }}',
      { testval: 'this is PII data' },
      { testval: '5526fd6f8ad457279cf8ff06453c6cb61bf479fa826e3b099caa6c846f9376f2' },
    ],
    [
      'Hash',
      'testval',
      '{{ Hash .Value "salt" }}',
      { testval: 'this is PII data' },
      { testval: '0807ea24e992127128b38e4930f7155013786a4999c73a25910318a793847658' },
    ],
    [
      'numbers are formatted as Go formats them',
      'n',
      '{{ .Value }}',
      { n: 1e21 },
      { n: '1000000000000000000000' },
    ],
    ['booleans are true/false', 'b', '{{ .Value }}!', { b: false }, { b: 'false!' }],
  ];
  for (const [name, source, template, input, want] of cases) {
    it(name, () => {
      const e = entry('not important for this test', { ...input });
      assert.equal(build({ source, template }).process(e), 'keep');
      assert.deepEqual(e.extracted, want);
    });
  }
});

describe('template stage: docs examples', () => {
  const cases: [string, string, Record<string, unknown>, string, Record<string, unknown>][] = [
    ['new key', 'new_key', {}, 'hello world!', { new_key: 'hello world!' }],
    ['suffix', 'app', { app: 'loki' }, '{{ .Value }}_some_suffix', { app: 'loki_some_suffix' }],
    ['ToLower', 'app', { app: 'LOKI' }, '{{ ToLower .Value }}', { app: 'loki' }],
    [
      'several keys',
      'output_msg',
      { app: 'loki', level: 'warn' },
      '{{ .level }} for app {{ ToUpper .app }}',
      { app: 'loki', level: 'warn', output_msg: 'warn for app LOKI' },
    ],
    [
      'several keys and .Value',
      'app',
      { app: 'loki', level: 'warn', module: 'test' },
      '{{ .level }} for app {{ ToUpper .Value }} in module {{.module}}',
      { app: 'warn for app LOKI in module test', level: 'warn', module: 'test' },
    ],
    [
      'Replace once',
      'app',
      { app: 'loki loki' },
      '{{ Replace .Value "loki" "blokey" 1 }}',
      { app: 'blokey loki' },
    ],
    [
      'Replace twice',
      'output',
      { output: 'loki loki loki' },
      '{{ Replace .Value "loki" "Loki" 2 }}',
      { output: 'Loki Loki loki' },
    ],
    ['Trim cutset', 'output', { output: ',. hi .,' }, '{{ Trim .Value ",. " }}', { output: 'hi' }],
    ['TrimSpace', 'output', { output: ' \t hi \n' }, '{{ TrimSpace .Value }}', { output: 'hi' }],
    ['TrimPrefix', 'output', { output: '--flag' }, '{{ TrimPrefix .Value "--" }}', { output: 'flag' }],
    [
      'regexReplaceAll with a group reference',
      'output',
      { output: 'xabcy' },
      `{{ regexReplaceAll "(a*)bc" .Value "${G1}a" }}`,
      { output: 'xaay' },
    ],
    [
      'regexReplaceAllLiteral',
      'output',
      { output: 'ts=1 level=info' },
      '{{ regexReplaceAllLiteral "(ts=)" .Value "timestamp=" }}',
      { output: 'timestamp=1 level=info' },
    ],
  ];
  for (const [name, source, input, template, want] of cases) {
    it(name, () => {
      const e = entry('line', { ...input });
      build({ source, template }).process(e);
      assert.deepEqual(e.extracted, want);
    });
  }
  it('.Entry is the line (then output would use it)', () => {
    const e = entry('hello', { app: 'loki' });
    build({ source: 'message', template: '{{.app }}: {{ .Entry }}' }).process(e);
    assert.equal(e.extracted.message, 'loki: hello');
  });
  it('the multiline 12-hour clock conversion (substr, eq, and, or, le, add)', () => {
    const template =
      '{{ .date_local | substr 6 10 }}-{{ .date_local | substr 0 2 }}-{{ .date_local | substr 3 5 }}T' +
      '{{ if eq (.time_local | substr 0 2) "12" }}' +
      '{{ if eq .hour_period "AM" }}00{{ else }}12{{ end }}{{ .time_local | substr 2 10}}Z' +
      '{{ else }}' +
      '{{ if eq .hour_period "AM" }}' +
      '{{ if or (eq (.time_local | substr 0 2) "11") (eq (.time_local | substr 0 2) "10") }}{{ .time_local }}Z' +
      '{{ else }}0{{ .time_local }}Z' +
      '{{ end }}' +
      '{{ else }}' +
      '{{ if eq (.time_local | substr 0 2) "11" }}23{{ .time_local | substr 2 10 }}Z{{ end }}' +
      '{{ if eq (.time_local | substr 0 2) "10" }}22{{ .time_local | substr 2 10 }}Z{{ end }}' +
      '{{ if eq (.time_local | substr 0 2) "9:" }}21{{ .time_local | substr 1 10 }}Z{{ end }}' +
      '{{ if eq (.time_local | substr 0 2) "8:" }}20{{ .time_local | substr 1 10 }}Z{{ end }}' +
      '{{ if and (le (.time_local | substr 0 1) "7") (eq (.time_local | substr 1 2) ":") }}1{{ add (.time_local | substr 0 1) 2 }}{{ .time_local | substr 1 10 }}Z{{ end }}' +
      '{{ end }}' +
      '{{ end }}';
    const stage = build({ source: 'time', template });
    const cases: [string, string, string][] = [
      ['12:53:24', 'PM', '2022-11-08T12:53:24Z'],
      ['12:53:24', 'AM', '2022-11-08T00:53:24Z'],
      ['11:05:00', 'AM', '2022-11-08T11:05:00Z'],
      ['9:05:00', 'AM', '2022-11-08T09:05:00Z'],
      ['11:05:00', 'PM', '2022-11-08T23:05:00Z'],
      ['9:05:00', 'PM', '2022-11-08T21:05:00Z'],
      ['3:05:00', 'PM', '2022-11-08T15:05:00Z'],
    ];
    for (const [timeLocal, period, want] of cases) {
      const e = entry('', { date_local: '11/08/2022', time_local: timeLocal, hour_period: period });
      stage.process(e);
      assert.equal(e.extracted.time, want, `${timeLocal} ${period}`);
    }
  });
});

describe('template engine: Go text/template semantics', () => {
  const cases: [string, string, Record<string, string>, string][] = [
    ['text only', 'plain', {}, 'plain'],
    ['missing key', '{{ .nope }}', {}, '<no value>'],
    ['trim markers', 'a  {{- " b " -}}  c', {}, 'a b c'],
    ['comments', 'a{{/* note */}}b{{- /* trimmed */ -}} c', {}, 'abc'],
    [
      'else if chain',
      '{{ if eq .v "1" }}one{{ else if eq .v "2" }}two{{ else }}many{{ end }}',
      { v: '2' },
      'two',
    ],
    ['if on a missing key is false', '{{ if .nope }}yes{{ else }}no{{ end }}', {}, 'no'],
    ['if on an empty string is false', '{{ if .v }}yes{{ else }}no{{ end }}', { v: '' }, 'no'],
    ['eq with several candidates', '{{ if eq .v "a" "b" "c" }}in{{ end }}', { v: 'c' }, 'in'],
    ['eq missing against a string is false', '{{ if eq .nope "x" }}y{{ else }}n{{ end }}', {}, 'n'],
    ['ne', '{{ if ne .v "a" }}diff{{ end }}', { v: 'b' }, 'diff'],
    ['and returns the first false value', '{{ and .a .b }}', { a: 'x', b: '' }, ''],
    ['and returns the last value', '{{ and .a .b }}', { a: 'x', b: 'y' }, 'y'],
    ['or returns the first true value', '{{ or .a .b }}', { a: '', b: 'y' }, 'y'],
    ['or short-circuits a failing call', '{{ or .a (ToUpper .missing) }}', { a: 'x' }, 'x'],
    ['not', '{{ not .a }}', { a: '' }, 'true'],
    ['lt/gt on strings', '{{ lt .a .b }} {{ gt .a .b }}', { a: 'a', b: 'b' }, 'true false'],
    [
      'numbers print like Go',
      '{{ 1.5 }} {{ 2.0 }} {{ 1e6 }} {{ 123456.0 }} {{ 0x10 }} {{ -3 }}',
      {},
      '1.5 2 1e+06 123456 16 -3',
    ],
    [
      'integer literals: decimal, octal, hex, binary, underscores',
      '{{ 10 }} {{ 010 }} {{ 0x1F }} {{ 0b11 }} {{ 1_000 }}',
      {},
      '10 8 31 3 1000',
    ],
    ['char constant', "{{ 'a' }}", {}, '97'],
    [
      'default on missing and empty',
      '{{ .nope | default "d" }} {{ .e | default "d" }} {{ .v | default "d" }}',
      { e: '', v: 'v' },
      'd d v',
    ],
    ['add with strings (sprig cast)', '{{ add "3" 4 "x" }}', {}, '7'],
    ['parenthesized pipeline', '{{ ToUpper (Replace .v "a" "b" -1) }}', { v: 'aXa' }, 'BXB'],
    ['printing the data map', '{{ . }}', { b: '2', a: '1' }, 'map[a:1 b:2]'],
    ['raw string', '{{ `a\\nb` }}', {}, 'a\\nb'],
    ['string escapes', '{{ "tab\\there \\u00e9" }}', {}, 'tab\there é'],
    ['ToUpper keeps ß (simple case mapping)', '{{ ToUpper "straße" }}', {}, 'STRAßE'],
    ['ToLower maps İ to i', '{{ ToLower "İ" }}', {}, 'i'],
    ['TrimSpace uses Go spaces (not BOM)', '{{ TrimSpace .v }}', { v: '\u0085\ufeffx\u00a0' }, '\ufeffx'],
    ['Replace with an empty old string', '{{ Replace "ab" "" "-" -1 }}', {}, '-a-b-'],
    ['Replace with an empty old string, limited', '{{ Replace "ab" "" "-" 2 }}', {}, '-a-b'],
    ['TrimLeft and TrimRight', '{{ TrimLeft "xxaxx" "x" }}|{{ TrimRight "xxaxx" "x" }}', {}, 'axx|xxa'],
    ['TrimSuffix', '{{ TrimSuffix "file.log" ".log" }}', {}, 'file'],
    ['substr on UTF-8 bytes', '{{ substr 0 2 "héllo" }}', {}, 'h\ufffd'],
    [
      'regexReplaceAll with a regex from the data',
      '{{ regexReplaceAll .re "a1b2" "#" }}',
      { re: '\\d' },
      'a#b#',
    ],
    ['regexReplaceAll with empty matches', '{{ regexReplaceAll "x*" "abc" "-" }}', {}, '-a-b-c-'],
    ['regexReplaceAll named group', '{{ regexReplaceAll "(?P<d>\\\\d)" "a1" "<$d>" }}', {}, 'a<1>'],
  ];
  for (const [name, source, data, want] of cases) {
    it(name, () => assert.equal(exec(source, data), want));
  }

  const failures: [string, string, Record<string, string>][] = [
    ['a missing value passed to a string parameter', '{{ ToUpper .nope }}', {}],
    ['eq between a string and a number', '{{ eq .v 1 }}', { v: '1' }],
    ['lt on a missing value', '{{ lt .nope "a" }}', {}],
    ['substr out of range', '{{ substr 3 1 "abcd" }}', {}],
    ['regexReplaceAll with a bad regex from the data', '{{ regexReplaceAll .re "x" "y" }}', { re: '(' }],
    ['an int64 (add) given to an int parameter', '{{ substr 0 (add 1 1) "abc" }}', {}],
  ];
  for (const [name, source, data] of failures) {
    it(`fails at run time: ${name}`, () => assert.throws(() => exec(source, data), /./));
  }

  const invalid: [string, string, RegExp][] = [
    ['unknown function', '{{ printf "%s" .v }}', /function "printf" is not supported/],
    ['range', '{{ range .x }}{{ end }}', /\{\{range\}\} is not supported/],
    ['with', '{{ with .x }}{{ end }}', /\{\{with\}\} is not supported/],
    ['define', '{{ define "x" }}{{ end }}', /\{\{define\}\} is not supported/],
    ['variables', '{{ $v := .x }}', /variables are not supported/],
    ['missing end', '{{ if .x }}a', /missing \{\{end\}\}/],
    ['stray end', 'a{{ end }}', /unexpected \{\{end\}\}/],
    ['stray else', '{{ else }}', /unexpected \{\{else\}\}/],
    ['unclosed action', '{{ .x ', /unclosed action/],
    ['empty action', '{{ }}', /missing value for command/],
    ['wrong arity', '{{ Replace .v "a" "b" }}', /wrong number of args for Replace: want 4 got 3/],
    ['wrong arity through a pipe', '{{ .v | Trim }}', /wrong number of args for Trim: want 2 got 1/],
    ['number literal for a string', '{{ ToUpper 3 }}', /expected string; found 3/],
    ['string literal for an int', '{{ Replace .v "a" "b" "all" }}', /expected integer; found "all"/],
    ['field for an int', '{{ Replace .v "a" "b" .n }}', /expected int; got string/],
    ['float literal for an int', '{{ Replace .v "a" "b" 1.5 }}', /expected integer; found 1.5/],
    ['bool result piped to a string', '{{ eq .v "a" | ToUpper }}', /expected string; got bool/],
    ['nil for a string', '{{ ToUpper nil }}', /cannot assign nil to string/],
    ['nil as a command', '{{ nil }}', /nil is not a command/],
    ['literal after a pipe', '{{ .v | "x" }}', /non executable command in pipeline stage 2/],
    ['argument to a field', '{{ .v "x" }}', /can't give argument to non-function \.v/],
    ['nested field', '{{ .a.b }}', /have no fields/],
    [
      'invalid literal regex',
      '{{ regexReplaceAll "\\\\K" .v "x" }}',
      /regexReplaceAll: invalid regular expression/,
    ],
    ['eq with one argument', '{{ eq .v }}', /missing argument for comparison/],
    ['bad number', '{{ 12ab }}', /bad number syntax/],
    ['comment not closing the action', '{{/* c */ .x }}', /comment ends before closing delimiter/],
  ];
  for (const [name, source, message] of invalid) {
    it(`refused at load: ${name}`, () => {
      const r = compileTemplate(source);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.message, message);
    });
  }
  it('load errors give line and column', () => {
    const r = compileTemplate('line one\n  {{ nosuch }}');
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.message, /\(line 2, column 6\)$/);
  });
});

describe('template stage: config issues (TestTemplateValidation)', () => {
  const cases: [string, unknown, (string | number)[], RegExp][] = [
    ['missing config', null, ['source'], /^template source value is required$/],
    ['missing source', { template: 'x' }, ['source'], /^template source value is required$/],
    ['empty source', { source: '' }, ['source'], /^template source value is required$/],
    [
      'bad template',
      { source: 'a', template: '{{ foo }}' },
      ['template'],
      /^invalid template: function "foo"/,
    ],
    ['template not a string', { source: 'a', template: 5 }, ['template'], /to be a string/],
  ];
  for (const [name, config, path, message] of cases) {
    it(name, () => {
      const { stage, issues } = createTemplateStage(config, ctx);
      assert.equal(stage, undefined);
      assert.ok(issues.length >= 1);
      assert.deepEqual(issues[0]!.path, path);
      assert.match(issues[0]!.message, message);
    });
  }
});
