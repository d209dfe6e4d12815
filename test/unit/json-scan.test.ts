import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { mayBeObject, TopLevelFields } from '../../src/pipeline/json-scan.js';

/** What the json stage got from JSON.parse before: the text's kind and the fields' values. */
function reference(text: string, names: readonly string[]): { kind: string; values?: unknown[] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { kind: 'malformed' };
  }
  if (data === null) return { kind: 'null' };
  if (typeof data !== 'object' || Array.isArray(data)) return { kind: 'other' };
  const o = data as Record<string, unknown>;
  return { kind: 'object', values: names.map(n => (Object.hasOwn(o, n) ? o[n] : undefined)) };
}

function scanned(text: string, names: readonly string[]): { kind: string; values?: unknown[] } {
  const fields = new TopLevelFields(names);
  const kind = fields.scan(text);
  if (kind !== 'object') return { kind };
  return { kind, values: names.map((_, k) => fields.value(k)) };
}

function same(text: string, names: readonly string[]): void {
  assert.deepStrictEqual(scanned(text, names), reference(text, names), JSON.stringify(text));
}

describe('TopLevelFields', () => {
  test('reads the wanted fields of an object, whatever their type', () => {
    const f = new TopLevelFields(['level', 'ts', 'n', 'obj', 'missing', 'ok', 'none', 'esc']);
    const text =
      ' {"n": -1.5e3, "level":"info" ,"obj":{"a":[1,{"b":null}]},"ok":true,"none":null,' +
      '"esc":"a\\"b\\u00e9\\n","ts":"2026-01-01T00:00:00Z"} ';
    assert.equal(f.scan(text), 'object');
    assert.deepStrictEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map(k => f.value(k)),
      ['info', '2026-01-01T00:00:00Z', -1500, { a: [1, { b: null }] }, undefined, true, null, 'a"bé\n'],
    );
  });

  test('a later duplicate key wins; an escaped key matches its name; __proto__ is a field', () => {
    same('{"a":1,"a":2}', ['a']);
    same('{"l\\u0065vel":"x","level":"y","lev\\u0065l":"z"}', ['level']);
    same('{"__proto__":{"x":1},"constructor":2}', ['__proto__', 'constructor', 'toString']);
    same('{"a":1,"b":{"a":3}}', ['a']);
  });

  test('texts JSON.parse refuses are malformed; other values are told apart', () => {
    const cases = [
      '',
      ' ',
      '{',
      '}',
      '{"a"}',
      '{"a":}',
      '{"a":1,}',
      '{,"a":1}',
      '{"a":1 "b":2}',
      '{"a":1}}',
      '{"a":1}x',
      '{a:1}',
      "{'a':1}",
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":-}',
      '{"a":1e}',
      '{"a":1e+}',
      '{"a":+1}',
      '{"a":1E+2,"b":-0,"c":1e400,"d":0.1e-7}',
      '{"a":nul}',
      '{"a":truex}',
      '{"a":tru}',
      '{"a":"\t"}',
      '{"a":"\\x"}',
      '{"a":"\\u12G4"}',
      '{"a":"\\ud800"}',
      '{"a":"\u2028\ud800"}',
      '{"a":"unterminated}',
      '\ufeff{"a":1}',
      '\u00a0{"a":1}',
      '{\v"a":1}',
      '\t\r\n{"a"\n:\r1\t}\n',
      '{"a":[1,2,]}',
      '{"a":[,1]}',
      '{"a":[1 2]}',
      '{"a":{"b":1,}}',
      '{"a":{"b" 1}}',
      '{"a":[}',
      '{"a":{]}',
      '{"a":[{"b":[{}]}]}',
      'null',
      ' null ',
      'nullx',
      '[1,{"a":1}]',
      '"a"',
      '1',
      'true',
      '[',
      '{}',
      '{ }',
    ];
    for (const text of cases) same(text, ['a', 'b', 'c', 'd']);
  });

  test('deep nesting needs no recursion', () => {
    const depth = 200_000;
    const deep = `{"a":${'['.repeat(depth)}${']'.repeat(depth)},"b":1}`;
    const f = new TopLevelFields(['b']);
    assert.equal(f.scan(deep), 'object');
    assert.equal(f.value(0), 1);
    assert.equal(f.scan(`{"a":${'['.repeat(depth)}${']'.repeat(depth - 1)},"b":1}`), 'malformed');
  });

  test('agrees with JSON.parse on random objects, values and broken texts', () => {
    const key = fc.oneof(
      fc.constantFrom('a', 'level', 'ts', '__proto__', 'é', ''),
      fc.string({ maxLength: 4 }),
    );
    const object = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });
    // Breaks and bends a text: JSON-ish characters in, characters out, a character written as \uXXXX,
    // a backslash before any character,
    // whitespace (JSON's and others) anywhere, duplicate fields.
    const edit = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('insert', 'delete', 'replace', 'escape', 'backslash', 'space', 'duplicate'),
      char: fc.constantFrom(...' \t\n\r\v\f\u00a0{}[]:,"\\/-+.0123456789eEtrufalsnbxU\u0000\u001f\ufeff'),
      n: fc.integer({ min: 1, max: 12 }),
    });
    const apply = (text: string, e: { at: number; kind: string; char: string; n: number }) => {
      const at = text.length === 0 ? 0 : e.at % (text.length + 1);
      switch (e.kind) {
        case 'insert':
          return text.slice(0, at) + e.char + text.slice(at);
        case 'delete':
          return text.slice(0, at) + text.slice(at + e.n);
        case 'replace':
          return text.slice(0, at) + e.char + text.slice(at + 1);
        case 'escape': {
          const c = text[at];
          return c === undefined
            ? text
            : `${text.slice(0, at)}\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}${text.slice(at + 1)}`;
        }
        case 'backslash':
          return `${text.slice(0, at)}\\${e.char}${text.slice(at)}`;
        case 'space':
          return `${text.slice(0, at)}${' \t\n\r'[e.n % 4]}${text.slice(at)}`;
        default:
          return text.slice(0, -1) + text.slice(at, at + e.n) + text.slice(-1);
      }
    };
    const text = fc
      .tuple(
        fc.oneof(
          object.map(o => JSON.stringify(o)),
          fc.json({ maxDepth: 3 }),
        ),
        fc.array(edit, { maxLength: 3 }),
      )
      .map(([t, edits]) => edits.reduce(apply, t));
    const names = fc.uniqueArray(key, { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(text, names, (t, n) => same(t, n)),
      { numRuns: 20_000 },
    );
  });
});

describe('mayBeObject', () => {
  test('true wherever JSON.parse gives an object or null; false for text that cannot be one', () => {
    const text = fc.oneof(
      fc.json({ maxDepth: 2 }),
      fc.string({ maxLength: 20 }),
      fc.tuple(fc.stringMatching(/^[ \t\r\n]{0,3}$/), fc.json({ maxDepth: 1 })).map(([w, j]) => w + j),
    );
    fc.assert(
      fc.property(text, t => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(t);
        } catch {
          return;
        }
        if (typeof parsed === 'object' && !Array.isArray(parsed))
          assert.ok(mayBeObject(t), JSON.stringify(t));
      }),
      { numRuns: 5_000 },
    );
    assert.deepEqual(
      ['', ' ', '[]', '"{"', '1', 'true', '2026-01-01 INFO started', '\ufeff{}', '\u00a0{}'].map(mayBeObject),
      [false, false, false, false, false, false, false, false, false],
    );
    assert.deepEqual(['{', ' {', 'null', 'nope'].map(mayBeObject), [true, true, true, true]);
  });
});
