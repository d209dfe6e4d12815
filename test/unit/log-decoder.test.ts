import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { LogDecoder, SAFETY_CAP, utf8Cut } from '../../src/docker/lines.js';
import {
  between,
  bytewise,
  chunk,
  decode,
  type Event,
  frame,
  muxLine,
  prng,
  RecordingSink,
  stamp,
  ttyLine,
} from '../fixtures/frames/streams.js';

const S = 1795235073;
const fixture = (name: string) => readFileSync(new URL(`../fixtures/frames/${name}`, import.meta.url));

/** Every chunking gives `expected`: whole, byte by byte, and seeded random sizes (small to large). */
function assertAnyChunking(
  stream: Buffer,
  expected: Event[],
  options: Parameters<typeof decode>[1] = {},
  rounds = 60,
  label = '',
): void {
  assert.deepEqual(decode([stream], options), expected, `${label} whole`);
  assert.deepEqual(decode(bytewise(stream), options), expected, `${label} byte by byte`);
  for (let seed = 1; seed <= rounds; seed++) {
    const rand = prng(seed);
    const [min, max] = [
      [1, 7],
      [1, 300],
      [16 * 1024, 64 * 1024],
    ][seed % 3]!;
    assert.deepEqual(decode(chunk(stream, rand, min!, max!), options), expected, `${label} seed ${seed}`);
  }
}

describe('LogDecoder, multiplexed', () => {
  it('decodes the measured engine bytes', () => {
    assert.deepEqual(decode([fixture('mux-measured.bin')]), [
      ['line', 'stdout', 1795235921, 609381845, 'tick 1303', false],
      ['line', 'stderr', 1795235921, 709381845, 'oops é', false],
      ['engineError', "Error grabbing logs: invalid character '\\x00' looking for beginning of value"],
    ]);
  });

  it('gives the same lines for any chunking of a mixed stream', () => {
    const rand = prng(99);
    const parts: Buffer[] = [];
    const expected: Event[] = [];
    let nsec = 0;
    for (let i = 0; i < 400; i++) {
      nsec += between(rand, 0, 3); // repeated timestamps on purpose
      const sec = S + Math.floor(i / 100);
      const type = rand() < 0.8 ? 1 : 2;
      const stream = type === 1 ? 'stdout' : 'stderr';
      const kind = between(rand, 0, 9);
      let text: string;
      if (kind === 0) text = '';
      else if (kind === 1) text = 'ünïcødé €uro 😀 '.repeat(between(rand, 1, 30));
      else if (kind === 2) text = 'L'.repeat(16384 * between(rand, 1, 3) + between(rand, -1, 1));
      else text = `line ${i} ${'x'.repeat(between(rand, 0, 120))}`;
      parts.push(muxLine(type, stamp(sec, nsec), text));
      expected.push(['line', stream, sec, nsec, text, false]);
      if (i % 97 === 0) {
        parts.push(frame(3, `Error grabbing logs: hiccup ${i}\n`));
        expected.push(['engineError', `Error grabbing logs: hiccup ${i}`]);
      }
    }
    assertAnyChunking(Buffer.concat(parts), expected, {}, 45);
  });

  it('joins lines of 16384·k ± 1 bytes split into parts, stripping repeated timestamps', () => {
    for (const k of [1, 2, 3]) {
      for (const d of [-1, 0, 1]) {
        const text = Buffer.alloc(16384 * k + d, 0x61);
        text.write('START', 0);
        text.write('END', text.length - 3);
        const stream = Buffer.concat([muxLine(1, stamp(S, 5), text), muxLine(1, stamp(S, 6), 'next')]);
        const frames = Math.floor(text.length / 16384) + 1;
        assert.equal(stream.length, (frames + 1) * (8 + 31) + text.length + 1 + 5, 'engine framing');
        assertAnyChunking(
          stream,
          [
            ['line', 'stdout', S, 5, text.toString(), false],
            ['line', 'stdout', S, 6, 'next', false],
          ],
          {},
          9,
        );
      }
    }
  });

  it('keeps multibyte characters split across parts intact', () => {
    for (const ch of ['é', '€', '😀']) {
      for (let shift = 1; shift < Buffer.byteLength(ch); shift++) {
        // Place the character so that `shift` of its bytes end the first 16384-byte part.
        const text = `${'a'.repeat(16384 - shift)}${ch}${'b'.repeat(10)}`;
        assertAnyChunking(muxLine(2, stamp(S, 1), text), [['line', 'stderr', S, 1, text, false]], {}, 6);
      }
    }
  });

  it("joins a line's parts across the other stream's lines; another timestamp of its stream ends it", () => {
    // The engine writes stdout and stderr independently: a stderr line can come between the 16 KiB
    // parts of a stdout line (measured with json-file on engine 20.10).
    const a = 'A'.repeat(16384);
    const stream = Buffer.concat([
      frame(1, `${stamp(S, 1)} ${a}`), // stdout part 1 of a long line
      frame(2, `${stamp(S, 2)} stderr in between\n`),
      frame(1, `${stamp(S, 1)} rest\n`), // stdout part 2, after the interruption
      frame(1, `${stamp(S, 3)} no-newline`), // a last output without `\n` (container then restarted)
      frame(1, `${stamp(S + 9, 0)} after restart\n`),
      frame(2, `${stamp(S, 4)} ${a}`), // stderr partial, then stdout with the same timestamp
      frame(1, `${stamp(S, 4)} same ts other stream\n`),
      frame(2, `${stamp(S, 4)} tail\n`),
    ]);
    assertAnyChunking(
      stream,
      [
        ['line', 'stderr', S, 2, 'stderr in between', false],
        ['line', 'stdout', S, 1, `${a}rest`, false],
        ['line', 'stdout', S, 3, 'no-newline', false],
        ['line', 'stdout', S + 9, 0, 'after restart', false],
        ['line', 'stdout', S, 4, 'same ts other stream', false],
        ['line', 'stderr', S, 4, `${a}tail`, false],
      ],
      {},
      12,
    );
    // Over the limit: the interleaved line is dropped once, as one line.
    assertAnyChunking(
      Buffer.concat([
        frame(1, `${stamp(S, 1)} ${a}`),
        frame(2, `${stamp(S, 2)} e\n`),
        frame(1, `${stamp(S, 1)} b\n`),
      ]),
      [
        ['line', 'stderr', S, 2, 'e', false],
        ['dropped', 'stdout', S, 1, 16385],
      ],
      { maxLineSize: 1000 },
      12,
    );
  });

  it('flushes the held partials of both streams at the end, older first', () => {
    const stream = Buffer.concat([frame(2, `${stamp(S, 5)} err-last`), frame(1, `${stamp(S, 3)} out-last`)]);
    assert.deepEqual(decode([stream], {}, true), [
      ['line', 'stdout', S, 3, 'out-last', false],
      ['line', 'stderr', S, 5, 'err-last', false],
    ]);
    assert.deepEqual(decode([stream], {}, false), []);
  });

  it('flushes a held partial at the end only when asked', () => {
    const stream = Buffer.concat([frame(1, `${stamp(S, 1)} done\n`), frame(1, `${stamp(S, 2)} no-newline`)]);
    assert.deepEqual(decode([stream], {}, true), [
      ['line', 'stdout', S, 1, 'done', false],
      ['line', 'stdout', S, 2, 'no-newline', false],
    ]);
    assert.deepEqual(decode([stream], {}, false), [['line', 'stdout', S, 1, 'done', false]]);
    // A frame cut short is never emitted, even when flushing.
    const cut = Buffer.concat([stream, frame(1, `${stamp(S, 3)} cut\n`).subarray(0, 20)]);
    assert.deepEqual(decode([cut], {}, true), decode([stream], {}, true));
  });

  it('stops on garbage and reports it once: JSON body, bad header, huge size, bad timestamp', () => {
    const ok = frame(1, `${stamp(S, 1)} ok\n`);
    const huge = Buffer.from([1, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['json', Buffer.from('{"message":"No such container: x"}\n'), /bad frame header/],
      ['padding', Buffer.from([1, 0, 0, 1, 0, 0, 0, 3, 0x61, 0x62, 0x0a]), /bad frame header/],
      ['tty', Buffer.from(`${stamp(S, 2)} tty\r\n`), /bad frame header/],
      ['huge', huge, /frame size 2147483647/],
      ['no timestamp', frame(1, 'plain line\n'), /without a valid timestamp/],
      ['no space', frame(1, `${stamp(S, 2)}x\n`), /without a valid timestamp/],
      ['bad date', frame(1, '2026-13-01T00:00:00.000000000Z x\n'), /without a valid timestamp/],
    ];
    for (const [name, bad, message] of cases) {
      const stream = Buffer.concat([ok, frame(1, `${stamp(S, 1)} held`), bad, ok]);
      for (const chunks of [[stream], bytewise(stream), chunk(stream, prng(5), 1, 30)]) {
        const events = decode(chunks, {}, true);
        assert.equal(events.length, 2, name);
        assert.deepEqual(events[0], ['line', 'stdout', S, 1, 'ok', false], name);
        assert.equal(events[1]![0], 'protocolError', name);
        assert.match(events[1]![1] as string, message, name);
      }
    }
  });

  it('exposes stopped, and ignores writes after a protocol error or after end', () => {
    const sink = new RecordingSink();
    const d = new LogDecoder({ tty: false, maxLineSize: 0, truncate: false, sink });
    d.write(frame(1, `${stamp(S, 1)} one\n`));
    assert.equal(d.stopped, false);
    d.write(Buffer.from('{"message":"x"}'));
    assert.equal(d.stopped, true);
    d.write(frame(1, `${stamp(S, 1)} two\n`));
    d.end(true);
    assert.deepEqual(
      sink.events.map(e => e[0]),
      ['line', 'protocolError'],
    );
    const sink2 = new RecordingSink();
    const d2 = new LogDecoder({ tty: false, maxLineSize: 0, truncate: false, sink: sink2 });
    d2.end(true);
    d2.write(frame(1, `${stamp(S, 1)} late\n`));
    assert.deepEqual(sink2.events, []);
  });
});

describe('LogDecoder, max line size', () => {
  const cases: Array<[string, string, number, string]> = [
    // [name, line, max, truncated text]
    ['ascii', 'abcdefghij', 4, 'abcd'],
    ['2-byte char at the cut', 'aaéb', 3, 'aa'],
    ['2-byte char ends at the cut', 'aaéb', 4, 'aaé'],
    ['3-byte char at the cut', 'a€b', 2, 'a'],
    ['3-byte char at the cut (2 of 3)', 'a€b', 3, 'a'],
    ['3-byte char ends at the cut', 'a€b', 4, 'a€'],
    ['4-byte char at the cut', 'a😀b', 4, 'a'],
    ['4-byte char ends at the cut', 'a😀b', 5, 'a😀'],
    ['char at the start', '😀b', 3, ''],
  ];

  it('truncates on a UTF-8 character boundary, in one frame or across parts', () => {
    for (const [name, text, max, cut] of cases) {
      for (const pad of [0, 16384 - 2]) {
        // With pad, the line is long enough to arrive in several parts.
        const line = `${'p'.repeat(pad)}${text}`;
        const m = max + pad;
        const want = `${'p'.repeat(pad)}${cut}`;
        assertAnyChunking(
          Buffer.concat([muxLine(1, stamp(S, 1), line), muxLine(1, stamp(S, 2), 'short')]),
          [
            ['line', 'stdout', S, 1, want, true],
            [
              'line',
              'stdout',
              S,
              2,
              pad === 0 && max < 5 ? 'short'.slice(0, max) : 'short',
              pad === 0 && max < 5,
            ],
          ],
          { maxLineSize: m, truncate: true },
          3,
          `${name}, pad ${pad}`,
        );
      }
    }
  });

  it('drops an over-long line and reports its full size', () => {
    for (const len of [11, 16384, 16385, 40960, 200000]) {
      const line = 'z'.repeat(len);
      assertAnyChunking(
        Buffer.concat([muxLine(2, stamp(S, 1), line), muxLine(2, stamp(S, 2), 'x'.repeat(10))]),
        [
          ['dropped', 'stderr', S, 1, len],
          ['line', 'stderr', S, 2, 'x'.repeat(10), false],
        ],
        { maxLineSize: 10, truncate: false },
        3,
      );
    }
  });

  it('keeps a line of exactly the limit whole', () => {
    assert.deepEqual(decode([muxLine(1, stamp(S, 1), 'ab€')], { maxLineSize: 5, truncate: false }), [
      ['line', 'stdout', S, 1, 'ab€', false],
    ]);
  });

  it('gives each line its length in bytes: as read, or as sent when it was measured again', () => {
    const invalid = Buffer.from([0x61, 0xff, 0xfe, 0x62]); // "a", two invalid bytes, "b": 8 bytes as sent
    const sink = new RecordingSink();
    const d = new LogDecoder({ tty: false, maxLineSize: 30, truncate: true, sink });
    d.write(muxLine(1, stamp(S, 1), 'ascii'));
    d.write(muxLine(1, stamp(S, 2), 'é€'));
    d.write(muxLine(1, stamp(S, 3), invalid)); // within a third of the limit: not measured again
    d.write(muxLine(1, stamp(S, 4), Buffer.concat(Array.from({ length: 16 }, () => invalid)))); // 64 read, cut
    d.end(true);
    const texts = sink.events.map(e => e[4] as string);
    assert.deepEqual(texts.slice(0, 3), ['ascii', 'é€', 'a\ufffd\ufffdb']);
    assert.ok(texts[3]!.startsWith('a\ufffd\ufffdba') && sink.events[3]![5] === true);
    assert.deepEqual(sink.bytes, [5, 5, 4, Buffer.byteLength(texts[3]!)]);
    assert.ok(sink.bytes[3]! <= 30 && sink.bytes[3]! > 20);
  });

  it('cuts a line past the 16 MiB safety cap when no limit is set', () => {
    const line = Buffer.alloc(SAFETY_CAP + 16384 + 10, 0x71);
    const events = decode([muxLine(1, stamp(S, 1), line), muxLine(1, stamp(S, 2), 'after')]);
    assert.equal(events.length, 2);
    const [kind, , , , text, truncated] = events[0] as Extract<Event, ['line', ...unknown[]]>;
    assert.equal(kind, 'line');
    assert.equal(text.length, SAFETY_CAP);
    assert.equal(truncated, true);
    assert.deepEqual(events[1], ['line', 'stdout', S, 2, 'after', false]);
  });

  it('never holds more of a long line than the limit (or the safety cap) while joining it', () => {
    // A 64 MiB line fed as the same 16 KiB part frame over and over: the input costs no memory.
    const part = frame(1, `${stamp(S, 1)} ${'w'.repeat(16384)}`);
    const chunkOf = Buffer.concat(Array.from({ length: 4 }, () => part));
    for (const maxLineSize of [1000, 0]) {
      const sink = new RecordingSink();
      const d = new LogDecoder({ tty: false, maxLineSize, truncate: true, sink });
      let most = 0;
      for (let i = 0; i < 1024; i++) {
        d.write(chunkOf);
        most = Math.max(most, d.heldCapacity);
      }
      // What the decoder keeps for the line never passes the limit (or the safety cap), however long
      // the line runs; the rest is counted, not stored.
      assert.ok(most <= (maxLineSize || SAFETY_CAP), `held ${most} bytes with maxLineSize ${maxLineSize}`);
      assert.ok(most > 0, 'the line was held while it was joined');
      d.write(frame(1, `${stamp(S, 1)} end\n`));
      const [kind, , , , text, truncated] = sink.events[0] as Extract<Event, ['line', ...unknown[]]>;
      assert.equal(kind, 'line');
      assert.equal(text.length, maxLineSize || SAFETY_CAP);
      assert.equal(truncated, true);
    }
  });

  it('utf8Cut never ends inside a character', () => {
    const rand = prng(8);
    const alphabet = ['a', 'é', '€', '😀'];
    for (let i = 0; i < 2000; i++) {
      let s = '';
      for (let j = between(rand, 1, 12); j > 0; j--) s += alphabet[between(rand, 0, 3)];
      const buf = Buffer.from(s);
      const max = between(rand, 1, buf.length);
      const n = utf8Cut(buf, 0, max);
      assert.ok(n <= max && n >= max - 3);
      const text = buf.toString('utf8', 0, n);
      assert.ok(s.startsWith(text) && !text.includes('\ufffd'), `${s} ${max}`);
      assert.ok(
        Buffer.byteLength(s.slice(0, text.length + 2)) > max || text === s,
        'cut as late as possible',
      );
    }
  });
});

describe('LogDecoder, TTY', () => {
  const tty = { tty: true };

  it('decodes the measured engine bytes: \\r\\n endings, last line without newline', () => {
    const bytes = fixture('tty-measured.bin');
    const lines: Event[] = [
      ['line', 'stdout', 1795235073, 950426073, 'hello', false],
      ['line', 'stdout', 1795235073, 950446390, 'err', false],
    ];
    assertAnyChunking(
      bytes,
      [...lines, ['line', 'stdout', 1795235073, 996138030, 'no-newline', false]],
      tty,
      12,
    );
    assert.deepEqual(decode([bytes], tty, false), lines);
  });

  it('joins a long TTY line whose 16 KiB parts arrive glued, timestamps stripped', () => {
    for (const len of [16383, 16384, 16385, 40960]) {
      for (const ending of ['\r', '']) {
        const text = `${'é'.repeat(len / 2)}${len % 2 ? 'x' : ''}`;
        assert.equal(Buffer.byteLength(text), len);
        const stream = Buffer.concat([
          ttyLine(stamp(S, 1), `${text}${ending}`),
          ttyLine(stamp(S, 2), 'next\r'),
        ]);
        assertAnyChunking(
          stream,
          [
            ['line', 'stdout', S, 1, text, false],
            ['line', 'stdout', S, 2, 'next', false],
          ],
          tty,
          6,
        );
      }
    }
  });

  it('strips only a single trailing \\r, even when it ends a part', () => {
    const text = `${'a'.repeat(16383)}\r`; // `\r` is the last byte of the first part, `\n` comes alone
    assertAnyChunking(
      ttyLine(stamp(S, 1), text),
      [['line', 'stdout', S, 1, 'a'.repeat(16383), false]],
      tty,
      6,
    );
    assert.deepEqual(decode([ttyLine(stamp(S, 1), 'a\r\r')], tty), [['line', 'stdout', S, 1, 'a\r', false]]);
    // Not for a multiplexed stream: `\r` is part of the line there.
    assert.deepEqual(decode([muxLine(1, stamp(S, 1), 'a\r')]), [['line', 'stdout', S, 1, 'a\r', false]]);
  });

  it('truncates and drops TTY lines by their size without the \\r', () => {
    const line = ttyLine(stamp(S, 1), 'abcdé\r');
    assert.deepEqual(decode([line], { ...tty, maxLineSize: 6, truncate: false }), [
      ['line', 'stdout', S, 1, 'abcdé', false],
    ]);
    assert.deepEqual(decode(bytewise(line), { ...tty, maxLineSize: 5, truncate: true }), [
      ['line', 'stdout', S, 1, 'abcd', true],
    ]);
    assert.deepEqual(decode(bytewise(line), { ...tty, maxLineSize: 5, truncate: false }), [
      ['dropped', 'stdout', S, 1, 6],
    ]);
    const long = ttyLine(stamp(S, 1), `${'a'.repeat(40000)}\r`);
    assert.deepEqual(decode(chunk(long, prng(1), 1, 5000), { ...tty, maxLineSize: 20000, truncate: false }), [
      ['dropped', 'stdout', S, 1, 40000],
    ]);
  });

  it('reports an in-band engine error and stops on a stream that is not timestamped TTY', () => {
    const err = Buffer.from(`${stamp(S, 1)} a\r\nError grabbing logs: broken\n${stamp(S, 2)} b\r\n`);
    assertAnyChunking(
      err,
      [
        ['line', 'stdout', S, 1, 'a', false],
        ['engineError', 'Error grabbing logs: broken'],
        ['line', 'stdout', S, 2, 'b', false],
      ],
      tty,
      12,
    );
    for (const bad of [frame(1, `${stamp(S, 1)} mux\n`), Buffer.from('no timestamps\r\n')]) {
      const events = decode([Buffer.from(`${stamp(S, 1)} a\r\n`), bad, Buffer.from(`${stamp(S, 2)} b`)], tty);
      assert.deepEqual(events[0], ['line', 'stdout', S, 1, 'a', false]);
      assert.equal(events.length, 2);
      assert.equal(events[1]![0], 'protocolError');
    }
  });
});
