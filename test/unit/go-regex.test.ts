// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${1}` and `${name}` are Go templates under test, not JS templates.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { translateGoRegex } from '../../src/relabel/go-regex.js';
import { expandReplacement, parseTemplate } from '../../src/relabel/template.js';

function compile(source: string, anchor = false): RegExp {
  const r = translateGoRegex(source, { anchor });
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.regex;
}

describe('translateGoRegex: the JS it writes', () => {
  const cases: [go: string, anchor: boolean, js: string, flags: string][] = [
    // Prometheus wraps relabel regexes as ^(?s:…)$: plain JS plus `s`, nothing else.
    ['/(.*)', true, '^(?:\\/(.*))$', 's'],
    ['(.*)', true, '^(?:(.*))$', 's'],
    ['', true, '^(?:)$', ''],
    ['(?P<name>\\w+)-(\\d+)', false, '(?<name>\\w+)-(\\d+)', ''],
    ['(?<name>x)', false, '(?<name>x)', ''],
    ['(?i)error', false, '[Ee][Rr][Rr][Oo][Rr]', ''],
    ['(?i:ab)c', false, '(?:[Aa][Bb])c', ''],
    ['a(?i)b|c', false, 'a[Bb]|[Cc]', ''],
    ['(?i)[k]', false, '[Kk\\u212a]', ''],
    ['(?i)[^k]', false, '[^Kk\\u212a]', ''],
    ['(?s).', false, '.', 's'],
    ['.', false, '[^\\n]', ''],
    ['(?s:.)(?-s:.)', false, '(?:.)(?:[^\\n])', 's'],
    ['(?m)^a$', false, '(?<![^\\n])a(?![^\\n])', ''],
    ['(?U)a+b*?', false, 'a+?b*', ''],
    ['\\Aabc\\z', false, '^abc$', ''],
    ['\\s\\S', false, '[\\t\\n\\f\\r\\x20][^\\t\\n\\f\\r\\x20]', ''],
    ['[[:alpha:]]+', false, '[A-Za-z]+', ''],
    ['[[:^digit:]x]', false, '[\\x00-/:-\\uffff]', ''],
    ['[[:space:][:punct:]]', false, '[\\t-\\r\\x20-/:-@\\[-`{-~]', ''],
    ['\\pL+', false, '\\p{L}+', 'u'],
    ['\\PL', false, '\\P{L}', 'u'],
    ['\\p{^Lu}', false, '\\P{Lu}', 'u'],
    ['\\p{Greek}', false, '\\p{Script=Greek}', 'u'],
    ['\\Qa.b*\\E+', false, 'a\\.b\\*+', ''],
    ['\\Q(x', false, '\\(x', ''],
    ['[]a]', false, '[\\]a]', ''],
    ['[^]a]', false, '[^\\]a]', ''],
    ['a{,5}', false, 'a\\{,5\\}', ''],
    ['a{2,3}?', false, 'a{2,3}?', ''],
    ['\\-\\:\\@\\_', false, '-:@_', ''],
    ['\\12\\0\\x41\\x{263a}', false, '\\n\\x00A\\u263a', ''],
    ['^*', false, '(?:^)*', ''],
    ['a*(?i)*', false, '(?:a*)*', ''],
    ['\\x{1F600}+', false, '(?:\\ud83d\\ude00)+', ''],
    ['[\\x{1F600}]', false, '[\\u{1f600}]', 'u'],
    // Go accepts names that JS does not (leading digit, repeated): those groups stay unnamed in JS.
    ['(?P<1a>x)(?P<a>y)(?P<a>z)', false, '(x)(?<a>y)(z)', ''],
    // Prometheus concatenates strings, so Go accepts this "unbalanced" relabel regex: so do we.
    ['a)|(b', true, '^(?:a)|(b)$', ''],
  ];
  for (const [go, anchor, js, flags] of cases) {
    it(`${JSON.stringify(go)}${anchor ? ' (anchored)' : ''} → /${js}/${flags}`, () => {
      const r = translateGoRegex(go, { anchor });
      assert.ok(r.ok, r.ok ? '' : r.message);
      assert.equal(r.regex.source, js);
      assert.equal(r.regex.flags, flags);
      assert.equal(r.source, go);
    });
  }

  it('reports capture group names by number, as Go SubexpNames', () => {
    const r = translateGoRegex('(?P<1a>x)(y)(?P<a>z)(?:w)(?P<a>v)');
    assert.ok(r.ok);
    assert.deepEqual(r.groupNames, ['', '1a', '', 'a', 'a']);
  });
});

describe('translateGoRegex: matches as Go would', () => {
  // [go source, anchored, input, Go's answer]
  const cases: [string, boolean, string, boolean][] = [
    ['/(.*)', true, '/web', true],
    ['/(.*)', true, 'web', false],
    ['/(.*)', true, 'x/web', false],
    ['a|b', true, 'ab', false], // anchoring wraps the alternation
    ['(.*)', true, 'line1\nline2', true], // (?s: makes . match \n in relabel regexes
    ['.*', false, 'x\ny', true],
    ['^.*$', false, 'a\rb', true], // Go's . matches \r; JS's alone does not
    ['^.$', false, '\n', false],
    ['^.$', false, '\u2028', true],
    ['^\\s$', false, '\v', false], // Go's \s is [\t\n\f\r ]
    ['^\\s$', false, '\u00a0', false],
    ['^[[:space:]]$', false, '\v', true],
    ['^\\S$', false, '\u00a0', true],
    ['^\\w+$', false, 'héllo', false],
    ['^\\d$', false, '٣', false],
    ['^[[:alpha:]]+$', false, 'abcXYZ', true],
    ['^[[:alpha:]]+$', false, 'ab1', false],
    ['^[[:^alpha:]]+$', false, '1-2', true],
    ['^[[:word:]]+$', false, 'a_1', true],
    ['^[[:xdigit:]]+$', false, 'fF09', true],
    ['^\\pL+$', false, 'héllo', true],
    ['^\\p{Greek}+$', false, 'αβγ', true],
    ['^\\PL$', false, '1', true],
    ['(?i)^error$', false, 'ERROR', true],
    ['(?i)^k$', false, '\u212a', true], // Kelvin sign folds to k in Go
    ['(?i)^s$', false, '\u017f', true], // long s folds to s in Go
    ['(?i)^ı$', false, 'I', false], // dotless i does not fold to I
    ['(?i:a)b', false, 'AB', false],
    ['(?i:a)b', false, 'Ab', true],
    ['(?i)[a-c]+', false, 'AbC', true],
    ['(?i)\\W', false, '\u212a', false],
    ['(?m)^b$', false, 'a\nb\nc', true],
    ['(?m)^b$', false, 'a\r\nb\r\nc', false], // Go's (?m) knows only \n
    ['^b$', false, 'a\nb', false],
    ['abc\\z', false, 'abc\n', false],
    ['\\Aabc', false, 'xabc', false],
    ['^\\Qa.b\\E$', false, 'a.b', true],
    ['^\\Qa.b\\E$', false, 'axb', false],
    ['^😀+$', false, '😀😀', true],
    ['^[😀]$', false, '😀', true],
    ['^\\x41\\101\\x{42}$', false, 'AAB', true],
  ];
  for (const [go, anchor, input, expected] of cases) {
    it(`${JSON.stringify(go)}${anchor ? ' (anchored)' : ''} on ${JSON.stringify(input)} → ${expected}`, () => {
      assert.equal(compile(go, anchor).test(input), expected);
    });
  }

  it('keeps Go greediness, flipped by (?U)', () => {
    assert.equal(compile('^(a+)(a*)$').exec('aaa')?.[1], 'aaa');
    assert.equal(compile('(?U)^(a+)(a*)$').exec('aaa')?.[1], 'a');
    assert.equal(compile('(?U)^(a+?)(a*)$').exec('aaa')?.[1], 'aaa');
  });
});

describe('translateGoRegex: rejections', () => {
  const cases: [string, string][] = [
    ['(a)\\1', 'backreference `\\1` is not supported (Go RE2 has no backreferences)'],
    ['\\8', 'backreference `\\8` is not supported (Go RE2 has no backreferences)'],
    ['(?P<x>a)\\k<x>', 'backreference `\\k` is not supported (Go RE2 has no backreferences)'],
    ['(?P<x>a)(?P=x)', 'backreference `(?P=` is not supported (Go RE2 syntax)'],
    ['a(?=b)', 'lookahead `(?=` is not supported (Go RE2 syntax)'],
    ['a(?!b)', 'lookahead `(?!` is not supported (Go RE2 syntax)'],
    ['(?<=a)b', 'lookbehind `(?<=` is not supported (Go RE2 syntax)'],
    ['(?<!a)b', 'lookbehind `(?<!` is not supported (Go RE2 syntax)'],
    ['(?>a+)', 'atomic group `(?>` is not supported (Go RE2 syntax)'],
    ['a*+', 'possessive quantifier `*+` is not supported (Go RE2 syntax)'],
    ['a++', 'possessive quantifier `++` is not supported (Go RE2 syntax)'],
    ['a{2}+', 'possessive quantifier `{2}+` is not supported (Go RE2 syntax)'],
    ['a**', 'invalid nested repetition operator: `**`'],
    ['a{2}{3}', 'invalid nested repetition operator: `{2}{3}`'],
    ['*a', 'missing argument to repetition operator: `*`'],
    ['a|?', 'missing argument to repetition operator: `?`'],
    ['x{1001}', 'invalid repeat count: `{1001}`'],
    ['x{3,2}', 'invalid repeat count: `{3,2}`'],
    ['(a', 'missing closing )'],
    ['a)', 'unexpected )'],
    ['[a', 'missing closing ]: `[a`'],
    ['[z-a]', 'invalid character class range: `z-a`'],
    ['[[:foo:]]', 'invalid character class range: `[:foo:]`'],
    ['\\p{Foo}', 'invalid character class range: `\\p{Foo}`'],
    ['[\\b]', 'invalid escape sequence: `\\b`'],
    ['\\u0041', 'invalid escape sequence: `\\u`'],
    ['\\C', 'invalid escape sequence: `\\C`'],
    ['\\Z', 'invalid escape sequence: `\\Z`'],
    ['\\é', 'invalid escape sequence: `\\é`'],
    ['a\\', 'trailing backslash at end of expression'],
    ['(?x)a', 'invalid or unsupported Perl syntax: `(?x`'],
    ['(?i-)a', 'invalid or unsupported Perl syntax: `(?i-)`'],
    ["(?'n'a)", "invalid or unsupported Perl syntax: `(?'`"],
    ['(?P<a-b>x)', 'invalid named capture: `(?P<a-b>`'],
    ['(?P<>x)', 'invalid named capture: `(?P<>`'],
    ['a\ud800', 'invalid UTF-8: lone surrogate'],
  ];
  for (const [go, reason] of cases) {
    it(`${JSON.stringify(go)}: ${reason}`, () => {
      const r = translateGoRegex(go);
      assert.deepEqual(r, { ok: false, message: `invalid regular expression \`${go}\`: ${reason}` });
    });
  }

  it('names the source as written, not the anchored wrapper', () => {
    const r = translateGoRegex('(a', { anchor: true });
    assert.deepEqual(r, { ok: false, message: 'invalid regular expression `(a`: missing closing )' });
  });
});

describe('expandReplacement (Go Regexp.Expand)', () => {
  const r = translateGoRegex('(?P<first>a)(b)(?P<1x>c)(?P<unused>z)?');
  assert.ok(r.ok);
  const m = r.regex.exec('abc')!;
  const cases: [string, string][] = [
    ['$1', 'a'],
    ['${1}', 'a'],
    ['${1}x', 'ax'],
    ['$1x', 'c'], // the longest name: the group named `1x` (Go doc: "$1x" is "${1x}", not "${1}x")
    ['$2x', ''], // no group named 2x
    ['$first', 'a'],
    ['${first}_y', 'a_y'],
    ['$first_y', ''], // `first_y` is one name
    ['$unused', ''], // did not take part
    ['$0', 'abc'],
    ['$01', ''], // leading zero: a name, not a number
    ['$9', ''],
    ['$$1', '$1'],
    ['$', '$'],
    ['a$', 'a$'],
    ['${', '${'],
    ['${1', '${1'],
    ['${}', '${}'],
    ['$-', '$-'],
    ['x$2y$1z', 'x'], // `2y` and `1z` are names
    ['x${2}y${1}z', 'xbyaz'],
    ['$ünï', ''], // Unicode letters belong to names too
  ];
  for (const [template, expected] of cases) {
    it(`${JSON.stringify(template)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(expandReplacement(template, m, r.groupNames), expected);
    });
  }

  it('resolves a repeated name to the first group that took part', () => {
    const dup = translateGoRegex('(?P<v>a)|(?P<v>b)');
    assert.ok(dup.ok);
    assert.equal(expandReplacement('<$v>', dup.regex.exec('b')!, dup.groupNames), '<b>');
    assert.equal(expandReplacement('<$v>', dup.regex.exec('a')!, dup.groupNames), '<a>');
  });

  it('falls back to match.groups without group names', () => {
    const match = /(?<word>\w+)/.exec('hello')!;
    assert.equal(expandReplacement('${word}!', match), 'hello!');
  });

  it('parses a template once into parts', () => {
    assert.deepEqual(parseTemplate('a$1${name}$$b'), ['a', 1, { name: 'name' }, '$b']);
    assert.deepEqual(parseTemplate('$123456789$1234567890'), [123456789, { name: '1234567890' }]);
  });
});

describe('performance and backtracking', () => {
  it('compiles the Promtail relabel regex to the plain anchored form, without u or i flags', () => {
    const re = compile('/(.*)', true);
    assert.equal(re.source, '^(?:\\/(.*))$');
    // No `u`, no `i`: both cost speed (bench/) and disable V8's linear-time backtracking fallback.
    assert.equal(re.flags, 's');
    const names = Array.from({ length: 1000 }, (_, i) => `/container_${i}`);
    for (const n of names) assert.equal(re.exec(n)![1], n.slice(1));
  });

  it('does not hang on a ReDoS pattern once V8 may fall back to its linear engine', () => {
    // The CLI sets this flag with v8.setFlagsFromString before any config regex is compiled;
    // the child process does the same, then runs a catastrophic pattern on a long input.
    const module = fileURLToPath(new URL('../../src/relabel/go-regex.ts', import.meta.url));
    const script = `
      import v8 from 'node:v8';
      v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
      const { translateGoRegex } = await import(${JSON.stringify(module)});
      const out = {};
      for (const [name, src] of [['nested', '(a+)+'], ['caseless', '(?i)(a+)+'], ['dotall', '(.*a){12}']]) {
        const r = translateGoRegex(src, { anchor: true });
        // With backtracking alone this input would take on the order of 2^100 steps: finishing at all
        // shows the linear-time fallback took over.
        out[name] = { matched: r.regex.test('a'.repeat(100) + 'b') };
      }
      console.log(JSON.stringify(out));
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(child.status, 0, `did not finish: ${child.stderr}`);
    const result = JSON.parse(child.stdout) as Record<string, { matched: boolean }>;
    assert.deepEqual(Object.keys(result), ['nested', 'caseless', 'dotall']);
    for (const [name, { matched }] of Object.entries(result)) assert.equal(matched, false, name);
  });
});
