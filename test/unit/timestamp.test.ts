import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimestampParser } from '../../src/docker/timestamp.js';
import { between, prng, stamp } from '../fixtures/frames/streams.js';

/** Parses a whole string; returns [sec, nsec] or null, checking that the parse consumed it all. */
function parse(p: TimestampParser, text: string): [number, number] | null {
  const buf = Buffer.from(text, 'latin1');
  const end = p.parse(buf, 0, buf.length);
  if (end < 0) return null;
  assert.equal(end, buf.length, `parse of ${text} stopped at ${end}`);
  return [p.sec, p.nsec];
}

describe('TimestampParser', () => {
  it('parses known timestamps', () => {
    const table: Array<[string, number, number]> = [
      ['1970-01-01T00:00:00.000000000Z', 0, 0],
      ['2026-11-21T04:24:33.950446390Z', 1795235073, 950446390],
      ['2026-11-21T04:24:33.000000001Z', 1795235073, 1],
      ['2026-11-21T04:24:33.999999999Z', 1795235073, 999999999],
      ['1969-12-31T23:59:59.500000000Z', -1, 500000000],
      ['2024-02-29T12:00:00.000000000Z', 1709208000, 0],
      ['2000-02-29T00:00:00Z', 951782400, 0],
      ['0001-01-01T00:00:00.000000000Z', -62135596800, 0],
      ['9999-12-31T23:59:59.999999999Z', 253402300799, 999999999],
      // Trimmed fractions (how the json-file driver stores them), scaled to nanoseconds.
      ['2026-11-21T04:24:33.95044639Z', 1795235073, 950446390],
      ['2026-11-21T04:24:33.5Z', 1795235073, 500000000],
      ['2026-11-21T04:24:33Z', 1795235073, 0],
      // More than 9 digits are truncated, as Go does.
      ['2026-11-21T04:24:33.1234567899Z', 1795235073, 123456789],
      // Offsets.
      ['2026-11-21T06:24:33.950446390+02:00', 1795235073, 950446390],
      ['2026-11-20T23:54:33.950446390-04:30', 1795235073, 950446390],
      ['2026-11-21T04:24:33+00:00', 1795235073, 0],
    ];
    const p = new TimestampParser();
    for (const [text, sec, nsec] of table) {
      assert.deepEqual(parse(p, text), [sec, nsec], text);
      assert.deepEqual(parse(new TimestampParser(), text), [sec, nsec], `${text} (fresh parser)`);
    }
  });

  it('rejects what is not a timestamp', () => {
    const bad = [
      '',
      '2026-11-21T04:24:33',
      '2026-11-21T04:24:33.Z',
      '2026-11-21T04:24:33.950446390',
      '2026-11-21 04:24:33.950446390Z',
      '2026-13-21T04:24:33.950446390Z',
      '2026-00-21T04:24:33.950446390Z',
      '2026-02-29T04:24:33.950446390Z',
      '2100-02-29T04:24:33Z',
      '2026-04-31T04:24:33Z',
      '2026-11-00T04:24:33Z',
      '2026-11-21T24:00:00Z',
      '2026-11-21T04:60:00Z',
      '2026-11-21T04:24:60Z',
      '2026-11-21T04:24:33+24:00',
      '2026-11-21T04:24:33+02:60',
      '2026-11-21T04:24:33+0200',
      '2026-11-21T04:24:33+02:0',
      '2026/11/21T04:24:33Z',
      '20a6-11-21T04:24:33Z',
      '{"message":"No such container: x"}',
      'Error grabbing logs: x',
    ];
    const p = new TimestampParser();
    // Warm the cache with a valid prefix first: a rejected input must not reuse it wrongly.
    assert.notEqual(parse(p, '2026-11-21T04:24:33.950446390Z'), null);
    for (const text of bad) assert.equal(parse(p, text), null, text);
  });

  it('reads no byte at or past `end`', () => {
    const buf = Buffer.from('2026-11-21T04:24:33.950446390Z tail');
    const p = new TimestampParser();
    assert.equal(p.parse(buf, 0, 30), 30);
    for (let end = 0; end < 30; end++) {
      const r = p.parse(buf, 0, end);
      // Cut inside the fraction or before the zone: never a success reaching past `end`.
      assert.ok(r === -1 || r <= end, `end ${end} gave ${r}`);
    }
    // A cut right after some fraction digits must not be taken as complete.
    assert.equal(p.parse(buf, 0, 25), -1);
    // Offsets into a larger buffer.
    const framed = Buffer.concat([Buffer.from('xx'), buf]);
    assert.equal(p.parse(framed, 2, framed.length), 32);
    assert.deepEqual([p.sec, p.nsec], [1795235073, 950446390]);
  });

  it('keeps using the cached prefix correctly when consecutive lines share or change it', () => {
    const p = new TimestampParser();
    const seq: Array<[string, number, number]> = [
      ['2026-11-21T04:24:33.000000001Z', 1795235073, 1],
      ['2026-11-21T04:24:33.000000002Z', 1795235073, 2],
      ['2026-11-21T04:24:34.000000000Z', 1795235074, 0],
      ['2026-11-21T04:24:33.000000003Z', 1795235073, 3],
      ['2026-11-21T04:24:33.000000003+01:00', 1795235073 - 3600, 3],
      ['2027-11-21T04:24:33.000000003Z', 1826771073, 3],
    ];
    for (const [text, sec, nsec] of seq) assert.deepEqual(parse(p, text), [sec, nsec], text);
  });

  it('agrees with Date.parse on random timestamps, with exact nanoseconds', () => {
    const rand = prng(20261121);
    const p = new TimestampParser();
    const min = Date.UTC(1, 0, 1);
    const max = Date.UTC(9999, 11, 31, 23, 59, 59);
    for (let i = 0; i < 20000; i++) {
      // Mostly near now (realistic, exercises the cache), sometimes anywhere in years 1…9999.
      const sec =
        i % 4 === 0
          ? Math.floor((min + rand() * (max - min)) / 1000)
          : 1795235073 + between(rand, -100000, 100000);
      const nsec = between(rand, 0, 999999999);
      const text = stamp(sec, nsec);
      const got = parse(p, text);
      assert.ok(got, text);
      assert.equal(got[0] * 1000 + Math.floor(got[1] / 1e6), Date.parse(text), text);
      assert.deepEqual(got, [sec, nsec], text);

      // The same instant with a numeric offset and a trimmed fraction.
      const offMin = between(rand, -14 * 60, 14 * 60);
      const local = new Date((sec + offMin * 60) * 1000).toISOString().slice(0, 19);
      const frac = String(nsec).padStart(9, '0').replace(/0+$/, '');
      const sign = offMin < 0 ? '-' : '+';
      const abs = Math.abs(offMin);
      const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      const offText = `${local}${frac === '' ? '' : `.${frac}`}${zone}`;
      if (local.startsWith('+') || local.startsWith('-')) continue; // shifted out of years 0001…9999
      assert.deepEqual(parse(p, offText), [sec, nsec], offText);
      assert.equal(sec * 1000 + Math.floor(nsec / 1e6), Date.parse(offText), offText);
    }
  });
});
