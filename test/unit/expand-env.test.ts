// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text holding ${VAR} references
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandEnv } from '../../src/config/expand-env.js';

const env = { HOST: 'loki:3100', EMPTY: '', PORT: '9080', MULTI: 'a\nb\nc', A_1: 'x' };

describe('expandEnv', () => {
  const cases: Array<{ name: string; input: string; output: string; bare?: boolean }> = [
    { name: 'braced variable', input: 'url: http://${HOST}/push', output: 'url: http://loki:3100/push' },
    { name: 'default when unset', input: 'p: ${NOPE:-80}', output: 'p: 80' },
    { name: 'default when empty', input: 'p: ${EMPTY:-80}', output: 'p: 80' },
    { name: 'no default when set', input: 'p: ${PORT:-80}', output: 'p: 9080' },
    { name: ':= acts like :-', input: 'p: ${EMPTY:=80}', output: 'p: 80' },
    { name: '- only when unset (set but empty)', input: 'p: "${EMPTY-80}"', output: 'p: ""' },
    { name: '- only when unset (unset)', input: 'p: ${NOPE-80}', output: 'p: 80' },
    { name: 'empty default', input: 'p: "${NOPE:-}"', output: 'p: ""' },
    {
      name: 'default holding a colon and slashes',
      input: 'u: ${NOPE:-http://a:1/b}',
      output: 'u: http://a:1/b',
    },
    { name: 'nested default', input: 'u: ${NOPE:-${HOST}}', output: 'u: loki:3100' },
    { name: 'nested default of a default', input: 'u: ${NOPE:-${NOPE2:-z}}', output: 'u: z' },
    { name: ':+ alternative when set', input: 'x: ${PORT:+yes}', output: 'x: yes' },
    { name: ':+ nothing when empty', input: 'x: "${EMPTY:+yes}"', output: 'x: ""' },
    { name: '+ alternative when set even empty', input: 'x: ${EMPTY+yes}', output: 'x: yes' },
    { name: 'set but empty is not an error', input: 'x: "${EMPTY}"', output: 'x: ""' },
    { name: '$$ is a literal dollar', input: "regex: '^a$$'", output: "regex: '^a$'" },
    { name: '$${VAR} is literal', input: 'r: $${HOST}', output: 'r: ${HOST}' },
    { name: '$$VAR is literal', input: 'r: $$HOST', output: 'r: $HOST' },
    { name: 'bare $VAR', input: 'h: $HOST/x', output: 'h: loki:3100/x', bare: true },
    {
      name: 'bare name stops at a non-name character',
      input: 'h: $A_1-$PORT.',
      output: 'h: x-9080.',
      bare: true,
    },
    {
      name: 'bare $1 stays (relabel replacement)',
      input: 'replacement: $1',
      output: 'replacement: $1',
      bare: true,
    },
    { name: 'lone $ stays', input: "r: '(.*)$'", output: "r: '(.*)$'" },
    { name: '$ at the end stays', input: 'r: a$', output: 'r: a$' },
    { name: 'bare $VAR stays by default, as in Promtail', input: 'h: $HOST', output: 'h: $HOST' },
    { name: 'doubled backslash', input: "r: '\\\\d+'", output: "r: '\\d+'" },
    { name: 'escaped slash', input: 'r: a\\/b', output: 'r: a/b' },
    { name: 'single backslash stays', input: "r: '\\d+'", output: "r: '\\d+'" },
    {
      name: 'several on one line',
      input: '${HOST} ${PORT} $PORT',
      output: 'loki:3100 9080 9080',
      bare: true,
    },
    { name: 'no references', input: 'a: 1\nb: [x, y]\n', output: 'a: 1\nb: [x, y]\n' },
    { name: 'unicode text around', input: 'é: ${PORT} ✓', output: 'é: 9080 ✓' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = expandEnv(c.input, env, { bareVariables: c.bare });
      assert.deepEqual(r.issues, []);
      assert.equal(r.text, c.output);
      assert.equal(r.lineMap, undefined);
    });
  }

  it('reports every unset variable with its 1-based line', () => {
    const text = ['a: ${HOST}', 'b: ${MISSING_ONE}', '', 'c: $MISSING_TWO and ${MISSING_ONE}', 'd: ok'].join(
      '\n',
    );
    const r = expandEnv(text, env, { bareVariables: true });
    assert.deepEqual(
      r.issues.map(i => [i.line, /`(\w+)`/.exec(i.message)?.[1]]),
      [
        [2, 'MISSING_ONE'],
        [4, 'MISSING_TWO'],
        [4, 'MISSING_ONE'],
      ],
    );
    for (const issue of r.issues) assert.deepEqual(issue.path, []);
    assert.match(r.issues[0]!.message, /\$\{MISSING_ONE:-default\}/, 'suggests a default');
    assert.equal(r.text, ['a: loki:3100', 'b: ', '', 'c:  and ', 'd: ok'].join('\n'));
  });

  it('does not report unset variables on comment lines, but still expands them', () => {
    const r = expandEnv('# uses ${NOT_SET} and $ALSO_NOT\n  # ${X}\nk: v # ${TRAILING}\n', env, {
      bareVariables: true,
    });
    assert.deepEqual(
      r.issues.map(i => i.line),
      [3],
      'a trailing comment is not a full-line comment',
    );
    assert.equal(r.text, '# uses  and \n  # \nk: v # \n');
  });

  it('leaves malformed references on comment lines alone', () => {
    const r = expandEnv('# see ${BROKEN and ${X#y}\nk: v\n', env);
    assert.deepEqual(r.issues, []);
    assert.equal(r.text, '# see ${BROKEN and ${X#y}\nk: v\n');
  });

  it('looks up own variables only', () => {
    const r = expandEnv('a: ${constructor} ${toString:-d}', {});
    assert.equal(r.text, 'a:  d');
    assert.equal(r.issues.length, 1);
    assert.match(r.issues[0]!.message, /`constructor`/);
  });

  const malformed: Array<[string, RegExp, string]> = [
    ['a: ${HOST', /Missing `}`/, 'a: ${HOST'],
    ['a: ${}', /expected a variable name/, 'a: ${}'],
    ['a: ${:-x}', /expected a variable name/, 'a: ${:-x}'],
    ['a: ${HOST#x}', /Unsupported substitution/, 'a: ${HOST#x}'],
    ['a: ${HOST:0:2}', /Unsupported substitution/, 'a: ${HOST:0:2}'],
    ['a: ${NOPE:?is required}', /`NOPE`: is required/, 'a: '],
    ['a: ${EMPTY:?}', /`EMPTY` is empty/, 'a: '],
  ];
  for (const [input, message, output] of malformed) {
    it(`reports ${input}`, () => {
      const r = expandEnv(`ok: 1\n${input}\n`, env);
      assert.equal(r.issues.length, 1);
      assert.match(r.issues[0]!.message, message);
      assert.equal(r.issues[0]!.line, 2);
      assert.equal(r.text, `ok: 1\n${output}\n`);
    });
  }

  it('maps output lines back to input lines when a value holds newlines', () => {
    const r = expandEnv('a: 1\nb: "${MULTI}"\nc: ${NOPE}\n', env);
    assert.equal(r.text, 'a: 1\nb: "a\nb\nc"\nc: \n');
    assert.deepEqual(r.lineMap, [1, 2, 2, 2, 3, 4]);
    assert.equal(r.issues[0]!.line, 3, 'issue lines are input lines');
  });

  it('bounds nesting depth', () => {
    const deep = `${'${A:-'.repeat(40)}x${'}'.repeat(40)}`;
    const r = expandEnv(deep, {});
    assert.ok(r.issues.some(i => /nested too deeply/.test(i.message)));
  });

  it('never throws on arbitrary input', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const alphabet = [
      '$',
      '{',
      '}',
      ':',
      '-',
      '=',
      '?',
      '+',
      '\\',
      '/',
      '\n',
      'A',
      '_',
      '1',
      'é',
      ' ',
      '#',
      '$$',
    ];
    for (let n = 0; n < 2000; n++) {
      let text = '';
      const length = Math.floor(random() * 40);
      for (let k = 0; k < length; k++) text += alphabet[Math.floor(random() * alphabet.length)];
      const r = expandEnv(text, { A: 'v\nw', A_1: '' });
      assert.equal(typeof r.text, 'string');
      for (const issue of r.issues) assert.ok(issue.line !== undefined && issue.line >= 1);
    }
  });
});
