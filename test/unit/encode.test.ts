import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { uncompress } from 'snappyjs';
import type { PushStream } from '../../src/loki/encode.js';
import { encodeProto, encodePushRequest } from '../../src/loki/encode.js';
import { decodePushBody, PushRequestType } from '../fakes/loki-push-decode.js';

/** The message protobufjs reflection encodes for the same streams. */
function toMessage(streams: readonly PushStream[]): Record<string, unknown> {
  return {
    streams: streams.map(s => ({
      labels: s.labels,
      entries: s.entries.map(e => ({
        timestamp: { seconds: e.sec, nanos: e.nsec },
        line: e.line,
        structuredMetadata: Object.entries(e.metadata ?? {}).map(([name, value]) => ({ name, value })),
      })),
    })),
  };
}

const LONG_LINE = 'x'.repeat(20_000);
const CASES: Array<{ name: string; streams: PushStream[] }> = [
  { name: 'no streams', streams: [] },
  {
    name: 'one entry',
    streams: [{ labels: '{job="a"}', entries: [{ sec: 1_790_000_000, nsec: 123, line: 'hi' }] }],
  },
  {
    name: 'zero seconds and nanos, empty line',
    streams: [
      {
        labels: '{job="a"}',
        entries: [
          { sec: 0, nsec: 0, line: '' },
          { sec: 1, nsec: 0, line: 'a' },
          { sec: 0, nsec: 5, line: 'b' },
        ],
      },
    ],
  },
  {
    name: 'non-ASCII, escapes and a line over 16 KiB',
    streams: [
      {
        labels: '{container="wéb", path="C:\\\\x \\"q\\""}',
        entries: [
          { sec: 1_790_000_001, nsec: 999_999_999, line: 'délai dépassé — ✓ 🚀' },
          { sec: 1_790_000_001, nsec: 999_999_999, line: LONG_LINE },
          { sec: 1_790_000_002, nsec: 1, line: `${'é'.repeat(100)}\ttab` },
        ],
      },
    ],
  },
  {
    name: 'structured metadata, including an empty value',
    streams: [
      {
        labels: '{job="a"}',
        entries: [
          { sec: 1_790_000_000, nsec: 1, line: 'm', metadata: { trace_id: 'abc', user: '', zé: 'ü' } },
          { sec: 1_790_000_000, nsec: 2, line: 'n', metadata: {} },
        ],
      },
    ],
  },
  {
    name: 'timestamps outside the uint32 fast path',
    streams: [
      {
        labels: '{job="a"}',
        entries: [
          { sec: 2 ** 32, nsec: 7, line: 'year 2106' },
          { sec: 253_402_300_799, nsec: 999_999_999, line: 'max' },
          { sec: -1, nsec: 0, line: 'before 1970' },
          { sec: -62_135_596_800, nsec: 0, line: 'min' },
        ],
      },
    ],
  },
  {
    // Entries are encoded in one pass that assumes 1 UTF-8 byte per UTF-16 unit and moves the line when
    // the real length needs longer length prefixes: these cross the 1/2 and 2/3-byte varint boundaries.
    name: 'lines whose UTF-8 length crosses a varint boundary',
    streams: [
      {
        labels: '{job="a"}',
        entries: [
          { sec: 1_790_000_000, nsec: 1, line: 'a'.repeat(114) },
          { sec: 1_790_000_000, nsec: 1, line: 'a'.repeat(115) },
          { sec: 1_790_000_000, nsec: 1, line: 'a'.repeat(127) },
          { sec: 1_790_000_000, nsec: 1, line: 'a'.repeat(128) },
          { sec: 1_790_000_000, nsec: 1, line: 'é'.repeat(63) },
          { sec: 1_790_000_000, nsec: 1, line: 'é'.repeat(64) },
          { sec: 1_790_000_000, nsec: 1, line: `${'é'.repeat(57)}x` },
          { sec: 1_790_000_000, nsec: 1, line: '✓'.repeat(43) },
          { sec: 1_790_000_000, nsec: 1, line: '🚀'.repeat(32) },
          { sec: 1_790_000_000, nsec: 1, line: 'é'.repeat(8191) },
          { sec: 1_790_000_000, nsec: 1, line: 'é'.repeat(8192) },
          { sec: 0, nsec: 0, line: 'é'.repeat(64) },
        ],
      },
    ],
  },
  {
    name: 'several streams, one without entries',
    streams: [
      { labels: '{a="1"}', entries: [{ sec: 10, nsec: 20, line: 'one' }] },
      { labels: '{a="2"}', entries: [] },
      {
        labels: '{a="3", b="x"}',
        entries: Array.from({ length: 300 }, (_, i) => ({ sec: 100 + i, nsec: i * 3, line: `line ${i}` })),
      },
    ],
  },
];

describe('encodeProto', () => {
  for (const { name, streams } of CASES) {
    test(`is byte-identical to protobufjs reflection: ${name}`, () => {
      const expected = PushRequestType.encode(toMessage(streams)).finish();
      assert.deepEqual(Buffer.from(encodeProto(streams)), Buffer.from(expected));
    });
  }

  test('is byte-identical to protobufjs reflection for any valid line, timestamp and metadata', () => {
    const valid = (text: string): boolean => Buffer.from(text).toString() === text; // no lone surrogate
    const entry = fc.record(
      {
        sec: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: -62_135_596_800, max: 0 })),
        nsec: fc.integer({ min: 0, max: 999_999_999 }),
        line: fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          // Lengths around the varint boundaries (128 and 16,384 bytes), in 1- to 4-byte characters.
          fc
            .oneof(fc.integer({ min: 30, max: 130 }), fc.integer({ min: 5_400, max: 16_400 }))
            .chain(n =>
              fc.string({ unit: fc.constantFrom('a', 'é', '✓', '🚀'), minLength: n, maxLength: n }),
            ),
        ),
        metadata: fc.dictionary(fc.string({ unit: 'binary', maxLength: 5 }), fc.string({ unit: 'binary' })),
      },
      { requiredKeys: ['sec', 'nsec', 'line'] },
    );
    const streams = fc.array(
      fc.record({ labels: fc.string({ unit: 'binary', maxLength: 40 }), entries: fc.array(entry) }),
      { maxLength: 4 },
    );
    fc.assert(
      fc.property(streams, streams => {
        fc.pre(streams.every(s => valid(s.labels) && s.entries.every(e => valid(e.line))));
        fc.pre(
          streams.every(s =>
            s.entries.every(e =>
              Object.entries(e.metadata ?? {})
                .flat()
                .every(valid),
            ),
          ),
        );
        const expected = PushRequestType.encode(toMessage(streams)).finish();
        assert.deepEqual(encodeProto(streams), Buffer.from(expected));
      }),
      { numRuns: 300 },
    );
  });

  test('returns its own buffer: a later encoding does not change an earlier result', () => {
    const big = CASES.at(-1)!.streams;
    const first = encodeProto(big);
    const copy = Buffer.from(first);
    const small = encodeProto(CASES[1]!.streams);
    assert.deepEqual(Buffer.from(first), copy);
    assert.deepEqual(
      Buffer.from(small),
      Buffer.from(PushRequestType.encode(toMessage(CASES[1]!.streams)).finish()),
    );
  });
});

describe('encodePushRequest', () => {
  for (const { name, streams } of CASES) {
    test(`is snappy block format of encodeProto: ${name}`, () => {
      const body = encodePushRequest(streams);
      assert.ok(Buffer.isBuffer(body));
      assert.deepEqual(uncompress(body), Buffer.from(encodeProto(streams)));
    });
  }

  test("round-trips through the test receiver's strict decoder", () => {
    const streams = CASES.filter(c => c.name !== 'timestamps outside the uint32 fast path').flatMap(
      c => c.streams,
    );
    const usable = streams.filter(s => s.entries.length > 0);
    const decoded = decodePushBody(encodePushRequest(usable), 'tenant-a');
    const expected = usable.flatMap(s =>
      s.entries.map(e => ({
        labelsString: s.labels,
        sec: e.sec,
        nsec: e.nsec,
        line: e.line,
        metadata: e.metadata ?? {},
      })),
    );
    assert.deepEqual(
      decoded.map(d => ({
        labelsString: d.labelsString,
        sec: d.sec,
        nsec: d.nsec,
        line: d.line,
        metadata: d.metadata,
      })),
      expected,
    );
    assert.ok(decoded.every(d => d.tenant === 'tenant-a'));
    assert.deepEqual(decoded.find(d => d.labelsString.includes('wéb'))?.labels, {
      container: 'wéb',
      path: 'C:\\x "q"',
    });
  });

  test('a 1 MiB batch keeps every line (5 streams)', () => {
    const streams: PushStream[] = Array.from({ length: 5 }, (_, s) => ({
      labels: `{container="c${s}"}`,
      entries: Array.from({ length: 2100 }, (_, i) => ({
        sec: 1_790_000_000 + i,
        nsec: (i * 7919) % 1e9,
        line: `${s}:${i} ${'abcdefghij'.repeat(9)}`,
      })),
    }));
    const decoded = decodePushBody(encodePushRequest(streams));
    assert.equal(decoded.length, 10_500);
    assert.deepEqual(
      decoded.map(d => d.line),
      streams.flatMap(s => s.entries.map(e => e.line)),
    );
  });
});
