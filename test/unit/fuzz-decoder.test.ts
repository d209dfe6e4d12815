// Property tests of the log decoder (src/docker/lines.ts) with fast-check: any chunking of a valid
// stream gives the same lines as the whole stream, and any bytes at all (random, cut short, huge frame
// sizes, both framings, every size option) only ever reach the sink: the decoder never throws.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_FRAME_SIZE } from '../../src/docker/frames.js';
import { LogDecoder } from '../../src/docker/lines.js';
import {
  decode,
  type Event,
  frame,
  muxLine,
  RecordingSink,
  stamp,
  ttyLine,
} from '../fixtures/frames/streams.js';

const S = 1795235073;
const RUNS = Number(process.env.DOCKTAIL_FUZZ_RUNS ?? 500);

/** Text of a line: mostly short, unicode included, sometimes past the engine's 16 KiB part size. */
const lineText = fc
  .oneof(
    { weight: 8, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 16_000, max: 40_000 }), fc.constantFrom('a', 'é', '€', '𝄞'))
        .map(([n, c]) => c.repeat(Math.ceil(n / Buffer.byteLength(c)))),
    },
  )
  .map(s => s.replaceAll('\n', ' '));

interface Line {
  type: 1 | 2;
  /** Nanoseconds after S; never decreasing, repeats allowed. */
  step: number;
  text: string;
}

const lines = fc.array(
  fc.record({
    type: fc.constantFrom<1 | 2>(1, 2),
    step: fc.integer({ min: 0, max: 2_000_000_000 }),
    text: lineText,
  }),
  { maxLength: 25 },
);

/** Builds a multiplexed stream and the lines the decoder must report for it. */
function muxStream(input: readonly Line[]): { bytes: Buffer; expected: Event[] } {
  const parts: Buffer[] = [];
  const expected: Event[] = [];
  let t = 0;
  for (const l of input) {
    t += l.step;
    const sec = S + Math.floor(t / 1e9);
    const nsec = t % 1e9;
    parts.push(muxLine(l.type, stamp(sec, nsec), l.text));
    expected.push(['line', l.type === 1 ? 'stdout' : 'stderr', sec, nsec, l.text, false]);
  }
  return { bytes: Buffer.concat(parts), expected };
}

/** A TTY stream: `\r\n` endings, all on stdout. Texts that could read as a glued timestamp are avoided. */
function ttyStream(input: readonly Line[]): { bytes: Buffer; expected: Event[] } {
  const parts: Buffer[] = [];
  const expected: Event[] = [];
  let t = 0;
  for (const l of input) {
    t += l.step;
    const sec = S + Math.floor(t / 1e9);
    const nsec = t % 1e9;
    const text = l.text.replaceAll('\r', ' ');
    parts.push(ttyLine(stamp(sec, nsec), `${text}\r`));
    expected.push(['line', 'stdout', sec, nsec, text, false]);
  }
  return { bytes: Buffer.concat(parts), expected };
}

/** Cuts `buf` at the given fractions of its length. */
function cutAt(buf: Buffer, fractions: readonly number[]): Buffer[] {
  const points = [...new Set(fractions.map(f => Math.floor(f * buf.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(buf.subarray(from, p));
    from = p;
  }
  out.push(buf.subarray(from));
  return out;
}

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 });

const decoderOptions = fc.record({
  tty: fc.boolean(),
  maxLineSize: fc.constantFrom(0, 1, 5, 100, 16_384, 20_000),
  truncate: fc.boolean(),
  ttyPartSize: fc.constantFrom(undefined, 4, 16_384),
});

/** Feeds chunks to a fresh decoder; any throw fails the property (fast-check reports the input). */
function feed(
  chunks: readonly Buffer[],
  options: { tty: boolean; maxLineSize: number; truncate: boolean; ttyPartSize?: number | undefined },
  flush: boolean,
): Event[] {
  const sink = new RecordingSink();
  const o = { tty: options.tty, maxLineSize: options.maxLineSize, truncate: options.truncate, sink };
  const decoder = new LogDecoder(
    options.ttyPartSize === undefined ? o : { ...o, ttyPartSize: options.ttyPartSize },
  );
  for (const c of chunks) decoder.write(c);
  decoder.end(flush);
  // Nothing after the end, and no call at all after a protocol error.
  decoder.write(Buffer.from('more bytes\n'));
  decoder.end(true);
  const stop = sink.events.findIndex(e => e[0] === 'protocolError');
  assert.ok(
    stop === -1 || stop === sink.events.length - 1,
    'nothing reaches the sink after a protocol error',
  );
  return sink.events;
}

describe('LogDecoder properties', () => {
  it('any chunking of a valid multiplexed stream gives exactly its lines', () => {
    fc.assert(
      fc.property(lines, cuts, (input, at) => {
        const { bytes, expected } = muxStream(input);
        assert.deepEqual(decode(cutAt(bytes, at)), expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('any chunking of a valid TTY stream gives exactly its lines', () => {
    fc.assert(
      fc.property(lines, cuts, (input, at) => {
        const { bytes, expected } = ttyStream(input);
        assert.deepEqual(decode(cutAt(bytes, at), { tty: true }), expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('every size option gives the same result whole and chunked, and respects the limit', () => {
    fc.assert(
      fc.property(lines, cuts, decoderOptions, (input, at, options) => {
        const { bytes } = options.tty ? ttyStream(input) : muxStream(input);
        const whole = feed([bytes], options, true);
        assert.deepEqual(feed(cutAt(bytes, at), options, true), whole);
        const limit = options.maxLineSize;
        for (const e of whole) {
          assert.notEqual(e[0], 'protocolError');
          if (e[0] === 'line' && limit > 0)
            assert.ok(Buffer.byteLength(e[4]) <= limit, 'line over the limit');
          if (e[0] === 'dropped') assert.ok(limit > 0 && !options.truncate && e[4] > limit);
        }
        assert.equal(whole.length, input.length, 'one outcome (line or dropped) per line');
      }),
      { numRuns: RUNS },
    );
  });

  it('a valid stream cut short gives a prefix of its lines, and never throws', () => {
    fc.assert(
      fc.property(lines, fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(), (input, f, tty) => {
        const { bytes, expected } = tty ? ttyStream(input) : muxStream(input);
        const cut = bytes.subarray(0, Math.floor(f * bytes.length));
        const got = decode([cut], { tty }, false);
        assert.deepEqual(got, expected.slice(0, got.length));
      }),
      { numRuns: RUNS },
    );
  });

  it('random bytes, in any chunking and with any options, only reach the sink', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        cuts,
        decoderOptions,
        fc.boolean(),
        (raw, at, options, flush) => {
          const bytes = Buffer.from(raw);
          const whole = feed([bytes], options, flush);
          const chunked = feed(cutAt(bytes, at), options, flush);
          // The lines (and their order) do not depend on where the chunks end.
          const keep = (events: Event[]) => events.filter(e => e[0] === 'line' || e[0] === 'dropped');
          assert.deepEqual(keep(chunked), keep(whole));
          assert.equal(
            chunked.some(e => e[0] === 'protocolError'),
            whole.some(e => e[0] === 'protocolError'),
          );
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it('valid frames mixed with garbage frames, huge sizes and in-band errors never throw', () => {
    const piece = fc.oneof(
      lines.map(l => muxStream(l).bytes),
      // A header with any type and size, and a few payload bytes.
      fc
        .tuple(
          fc.integer({ min: 0, max: 255 }),
          fc.nat({ max: 0xffffffff }),
          fc.uint8Array({ maxLength: 64 }),
        )
        .map(([type, size, payload]) => {
          const h = Buffer.alloc(8);
          h[0] = type;
          h.writeUInt32BE(size, 4);
          return Buffer.concat([h, payload]);
        }),
      fc.string({ maxLength: 80 }).map(s => frame(3, `Error grabbing logs: ${s}\n`)),
      fc.string({ maxLength: 80 }).map(s => frame(1, s)),
      fc.uint8Array({ maxLength: 100 }).map(b => Buffer.from(b)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), cuts, decoderOptions, (pieces, at, options) => {
        const bytes = Buffer.concat(pieces);
        const whole = feed([bytes], options, true);
        feed(cutAt(bytes, at), options, false);
        for (const e of whole) if (e[0] === 'line') assert.equal(typeof e[4], 'string');
      }),
      { numRuns: RUNS },
    );
  });

  it('TTY streams with glued parts, in-band errors and broken timestamps never throw', () => {
    const token = fc.constantFrom(
      stamp(S, 1),
      `${stamp(S, 2)} `,
      '2026-13-01T00:00:00.000000000Z ',
      '2026-01-01T00:00:00.Z ',
      'Error ',
      'Error grabbing logs: boom\n',
      '\r\n',
      '\n',
      ' ',
      'x'.repeat(16_384),
      'é',
    );
    const piece = fc.oneof(
      lines.map(l => ttyStream(l).bytes),
      token.map(t => Buffer.from(t)),
      fc.uint8Array({ maxLength: 60 }).map(b => Buffer.from(b)),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 10 }),
        cuts,
        fc.constantFrom(4, 16, 16_384),
        (pieces, at, partSize) => {
          const bytes = Buffer.concat(pieces);
          const options = { tty: true, maxLineSize: 0, truncate: false, ttyPartSize: partSize };
          const whole = feed([bytes], options, true);
          const chunked = feed(cutAt(bytes, at), options, true);
          const keep = (events: Event[]) => events.filter(e => e[0] !== 'protocolError');
          assert.deepEqual(keep(chunked), keep(whole));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('measures the limit on the line as sent: invalid UTF-8 bytes grow to 3 bytes each', () => {
    // Found by the property above: 100 bytes of 0xff within max_line_size 100 went out as 300 bytes.
    const stream = muxLine(1, stamp(S, 1), Buffer.alloc(100, 0xff));
    const [cut] = decode([stream], { maxLineSize: 100, truncate: true });
    assert.equal(cut?.[0], 'line');
    assert.ok(Buffer.byteLength(cut[4]) <= 100 && cut[5] === true, `${Buffer.byteLength(cut[4])} bytes`);
    assert.deepEqual(decode([stream], { maxLineSize: 100, truncate: false }), [
      ['dropped', 'stdout', S, 1, 300],
    ]);
    // A third of the limit or less can never grow past it, and valid text is never touched.
    assert.deepEqual(decode([stream], { maxLineSize: 300, truncate: false })[0]?.[5], false);
    assert.deepEqual(decode([muxLine(1, stamp(S, 1), '€'.repeat(40))], { maxLineSize: 120 })[0], [
      'line',
      'stdout',
      S,
      1,
      '€'.repeat(40),
      false,
    ]);
  });

  it('a size field past the limit stops the decoder at once, without allocating it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MAX_FRAME_SIZE + 1, max: 0xffffffff }),
        fc.constantFrom(0, 1, 2, 3),
        (size, type) => {
          const h = Buffer.alloc(8);
          h[0] = type;
          h.writeUInt32BE(size, 4);
          const before = process.memoryUsage().arrayBuffers;
          const events = feed(
            [Buffer.concat([muxLine(1, stamp(S, 1), 'ok'), h, Buffer.alloc(16)])],
            { tty: false, maxLineSize: 0, truncate: false },
            true,
          );
          assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024);
          assert.deepEqual(events[0], ['line', 'stdout', S, 1, 'ok', false]);
          assert.equal(events.at(-1)?.[0], 'protocolError');
        },
      ),
      { numRuns: 50 },
    );
  });
});
