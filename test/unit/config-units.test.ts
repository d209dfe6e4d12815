import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration, parseSize } from '../../src/config/units.js';

describe('parseDuration', () => {
  const ok: Array<[string, number]> = [
    ['0', 0],
    ['-0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['1s', 1_000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    ['.5s', 500],
    ['5.s', 5_000],
    ['300us', 0.3],
    ['300µs', 0.3],
    ['300μs', 0.3],
    ['1000000ns', 1],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    ['+10s', 10_000],
    ['-1m', -60_000],
    ['1h1m1s1ms', 3_661_001],
  ];
  for (const [text, ms] of ok) {
    it(`reads ${text} as ${ms} ms`, () => {
      const got = parseDuration(text);
      assert.ok(got !== undefined, `${text} should parse`);
      assert.ok(Math.abs(got - ms) < 1e-9, `${text}: ${got} !== ${ms}`);
    });
  }

  const bad = [
    '',
    '5',
    '10',
    's',
    '.s',
    '1.2.3s',
    '5 s',
    ' 5s',
    '5s ',
    '5S',
    '5sec',
    '1m30',
    'abc',
    '-',
    '+',
    '1e3s',
    'ms',
  ];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => assert.equal(parseDuration(text), undefined));
  }
});

describe('formatDuration', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [500, '500ms'],
    [1_000, '1s'],
    [90_000, '1m30s'],
    [300_000, '5m'],
    [5_400_000, '1h30m'],
    [1_500, '1s500ms'],
    [0.3, '300us'],
    [0.0015, '1us500ns'],
    [86_400_000, '24h'],
    [-60_000, '-1m'],
  ];
  for (const [ms, text] of cases) {
    it(`renders ${ms} ms as ${text}, which reads back`, () => {
      assert.equal(formatDuration(ms), text);
      const back = parseDuration(text);
      assert.ok(back !== undefined && Math.abs(back - ms) < 1e-9);
    });
  }
});

describe('parseSize', () => {
  const ok: Array<[string, number]> = [
    ['0', 0],
    ['1048576', 1_048_576],
    ['1,024', 1_024],
    ['1MiB', 1_048_576],
    ['1MB', 1_000_000],
    ['1mb', 1_000_000],
    ['1M', 1_000_000],
    ['1Mi', 1_048_576],
    ['512KiB', 524_288],
    ['256kB', 256_000],
    ['256k', 256_000],
    ['256 KB', 256_000],
    ['2 MiB', 2_097_152],
    ['1.5KiB', 1_536],
    ['1.5kB', 1_500],
    ['0.5B', 0],
    ['10b', 10],
    ['1GiB', 1_073_741_824],
    ['1GB', 1e9],
    ['1TiB', 2 ** 40],
    ['1PB', 1e15],
    ['1.', 1],
    ['.5KiB', 512],
  ];
  for (const [text, bytes] of ok) {
    it(`reads ${text} as ${bytes} bytes`, () => assert.equal(parseSize(text), bytes));
  }
  const bad = ['', 'abc', 'MiB', '1XB', '-1', '1..2MB', ' 1MB', '1 MiB x', '1e3', '.', '1EiB', '100000PiB'];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => assert.equal(parseSize(text), undefined));
  }
});
