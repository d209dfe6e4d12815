// Property tests of the Go RE2 → JS regex translation (src/relabel/go-regex.ts) with fast-check: any
// string gives a compiled RegExp or a message, never an exception; a RegExp that comes out compiles
// again from its own source and flags, runs, and has as many capture groups as Go's names say.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { translateGoRegex } from '../../src/relabel/go-regex.js';

const RUNS = Number(process.env.DOCKTAIL_FUZZ_RUNS ?? 1000);

/** Pieces of RE2 syntax, valid and not, so random strings reach deep into the translator. */
const token = fc.constantFrom(
  '(',
  ')',
  '(?:',
  '(?P<n>',
  '(?<m>',
  '(?P<n',
  '(?i)',
  '(?s)',
  '(?m)',
  '(?U)',
  '(?-i:',
  '(?is-mU:',
  '(?=',
  '(?!',
  '(?<=',
  '[',
  ']',
  '[^',
  '[[:alpha:]]',
  '[[:^digit:]]',
  '[[:bogus:]]',
  '[a-',
  'z-a',
  '\\',
  '\\d',
  '\\D',
  '\\w',
  '\\s',
  '\\b',
  '\\B',
  '\\A',
  '\\z',
  '\\Z',
  '\\pL',
  '\\p{Greek}',
  '\\p{^Lu}',
  '\\PN',
  '\\p{Bogus}',
  '\\x41',
  '\\x{1F600}',
  '\\x{110000}',
  '\\Q.*\\E',
  '\\1',
  '\\k<n>',
  '\\u0041',
  '\\C',
  '\\0',
  '\\08',
  '\\/',
  '.',
  '^',
  '$',
  '|',
  '*',
  '+',
  '?',
  '*?',
  '++',
  '{2}',
  '{2,}',
  '{1,3}',
  '{1001}',
  '{3,1}',
  '{',
  '}',
  'a',
  'Z',
  'é',
  'k',
  '𝄞',
  ' ',
  '\n',
  '-',
  '/',
);
const source = fc.oneof(
  { weight: 4, arbitrary: fc.array(token, { maxLength: 16 }).map(t => t.join('')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);
const subject = fc.string({ maxLength: 12 });

describe('translateGoRegex properties', () => {
  it('any string gives a usable RegExp or a message, never an exception', () => {
    fc.assert(
      fc.property(source, fc.boolean(), fc.array(subject, { maxLength: 3 }), (src, anchor, inputs) => {
        const r = translateGoRegex(src, { anchor });
        if (!r.ok) {
          assert.equal(typeof r.message, 'string');
          assert.ok(r.message.startsWith('invalid regular expression `'), r.message);
          return;
        }
        assert.ok(r.regex instanceof RegExp);
        assert.equal(r.source, src);
        const again = new RegExp(r.regex.source, r.regex.flags);
        // Go's SubexpNames has one entry per group plus the whole match: so has the JS match.
        const groups = new RegExp(`${again.source}|`, again.flags).exec('');
        assert.equal(groups?.length, r.groupNames.length, `groups of ${again.source}`);
        for (const input of inputs) again.exec(input);
        // Anchored, a match is a whole-input match, unless the source breaks out of the wrapper as it
        // does in Prometheus too (`)|(` makes `^(?s:)|()$`); such a source alone does not compile.
        if (anchor && translateGoRegex(src).ok)
          for (const input of inputs) assert.equal(again.test(input), again.exec(input)?.[0] === input);
      }),
      { numRuns: RUNS },
    );
  });

  it('the outcome does not depend on earlier calls', () => {
    fc.assert(
      fc.property(source, source, (a, b) => {
        const first = translateGoRegex(b);
        translateGoRegex(a);
        const second = translateGoRegex(b);
        assert.equal(second.ok, first.ok);
        if (first.ok && second.ok) assert.equal(second.regex.source, first.regex.source);
        if (!first.ok && !second.ok) assert.equal(second.message, first.message);
      }),
      { numRuns: RUNS / 4 },
    );
  });

  it('long and deeply nested sources end in a result', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.constantFrom('(', '(?:', '(?i:', '[', 'a*', '\\Q'),
        (n, open) => {
          const r = translateGoRegex(open.repeat(n));
          assert.equal(typeof r.ok, 'boolean');
        },
      ),
      { numRuns: 50 },
    );
  });
});
