// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text holding ${VAR} references
// Property tests of `-config.expand-env` (src/config/expand-env.ts) with fast-check: any text and any
// environment give a text and a list of located issues, never an exception, and the escapes and
// substitutions keep their meaning whatever surrounds them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { expandEnv } from '../../src/config/expand-env.js';

const RUNS = Number(process.env.DOCKTAIL_FUZZ_RUNS ?? 500);

/** Config-ish text rich in the characters the expander cares about. */
const token = fc.constantFrom(
  '$',
  '$$',
  '${',
  '}',
  '{',
  '\\',
  '\\\\',
  '\\/',
  ':-',
  ':=',
  ':?',
  ':+',
  '-',
  '=',
  '?',
  '+',
  'A',
  'B',
  'NOPE',
  '_x',
  'é',
  '1',
  '\n',
  '#',
  ' ',
  'url: ',
  '${A}',
  '${NOPE}',
  '${A:-d}',
  '${NOPE:-${B}}',
  '${EMPTY:?must be set}',
  '$A',
);
const text = fc.oneof(
  fc.array(token, { maxLength: 60 }).map(t => t.join('')),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
);
const env = fc.dictionary(
  fc.constantFrom('A', 'B', 'EMPTY', 'NOPE', '_x', 'constructor', '__proto__'),
  fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('', 'multi\nline', '${A}', '$$')),
  { maxKeys: 5 },
);

function lines(s: string): number {
  let n = 1;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

describe('expandEnv properties', () => {
  it('any text and environment give a text and located issues, never an exception', () => {
    fc.assert(
      fc.property(text, env, fc.boolean(), (input, vars, bare) => {
        const r = expandEnv(input, vars, { bareVariables: bare });
        assert.equal(typeof r.text, 'string');
        assert.ok(Array.isArray(r.issues));
        for (const issue of r.issues) {
          assert.equal(typeof issue.message, 'string');
          assert.ok(issue.message.length > 0);
          assert.ok(Number.isInteger(issue.line) && issue.line! >= 1 && issue.line! <= lines(input));
        }
        if (r.lineMap !== undefined) {
          assert.equal(r.lineMap.length, lines(r.text), 'one entry per output line');
          for (const l of r.lineMap) assert.ok(l >= 1 && l <= lines(input));
        } else {
          assert.equal(lines(r.text), lines(input), 'lines kept when no value held a newline');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('text without `$` or `\\` comes out unchanged, with no issue', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), env, (raw, vars) => {
        const input = raw.replace(/[$\\]/g, '');
        assert.deepEqual(expandEnv(input, vars), { text: input, issues: [] });
      }),
      { numRuns: RUNS },
    );
  });

  it('`$$` is always a literal `$`, and a set variable is always its value', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }).map(s => s.replace(/[$\\\n]/g, '')),
        fc.string({ maxLength: 20 }).map(s => s.replace(/\n/g, '')),
        (around, value) => {
          const r = expandEnv(`${around}$$${around}\${V}${around}`, { V: value });
          assert.deepEqual(r, { text: `${around}$${around}${value}${around}`, issues: [] });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('deep nesting and long lines end in an issue or a text, within bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.constantFrom('${NOPE:-', '${', '$${', '${A:+'),
        (depth, open) => {
          const input = `x: ${open.repeat(depth)}v${'}'.repeat(depth)}`;
          const r = expandEnv(input, { A: 'a' });
          assert.equal(typeof r.text, 'string');
        },
      ),
      { numRuns: 100 },
    );
  });
});
