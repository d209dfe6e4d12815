import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type FrameHandler,
  FrameParser,
  MAX_FRAME_SIZE,
  type StreamName,
  type TtyHandler,
  TtySplitter,
} from '../../src/docker/frames.js';
import { between, bytewise, chunk, frame, prng, stamp } from '../fixtures/frames/streams.js';

type FrameEvent = [string, string] | ['invalid', string];

/** Records frames as [kind, payload as latin1]; `stopAfter` makes frame() return false after n frames. */
class Frames implements FrameHandler {
  readonly events: FrameEvent[] = [];
  readonly buffers: Buffer[] = [];
  readonly stopAfter: number;
  constructor(stopAfter = Number.POSITIVE_INFINITY) {
    this.stopAfter = stopAfter;
  }
  frame(stream: StreamName, buf: Buffer, start: number, end: number): boolean {
    this.events.push([stream, buf.toString('latin1', start, end)]);
    this.buffers.push(buf);
    return this.events.length < this.stopAfter;
  }
  systemError(buf: Buffer, start: number, end: number): void {
    this.events.push(['system', buf.toString('latin1', start, end)]);
  }
  invalid(message: string): void {
    this.events.push(['invalid', message]);
  }
}

function parseFrames(chunks: readonly Buffer[], stopAfter?: number): Frames {
  const h = new Frames(stopAfter);
  const p = new FrameParser(h);
  for (const c of chunks) p.write(c);
  return h;
}

const ts = stamp(1795235073, 950446390);

describe('FrameParser', () => {
  const payloads: Array<[number, string]> = [
    [1, `${ts} hello\n`],
    [2, `${ts} err\n`],
    [0, `${ts} stdin goes to stdout\n`],
    [1, ''], // an empty frame carries nothing
    [3, 'Error grabbing logs: boom\n'],
    [1, `${ts} ${'x'.repeat(16384)}`],
    [1, `${ts} ${'y'.repeat(70000)}\n`],
    [2, `${ts} é€😀\n`],
  ];
  const stream = Buffer.concat(payloads.map(([t, p]) => frame(t, p)));
  const expected: FrameEvent[] = payloads
    .filter(([, p]) => p !== '')
    .map(([t, p]) => [t === 3 ? 'system' : t === 2 ? 'stderr' : 'stdout', Buffer.from(p).toString('latin1')]);

  it('gives the same frames for any chunking (whole, byte by byte, random)', () => {
    assert.deepEqual(parseFrames([stream]).events, expected);
    assert.deepEqual(parseFrames(bytewise(stream)).events, expected);
    for (let seed = 1; seed <= 300; seed++) {
      const rand = prng(seed);
      const [min, max] = seed % 3 === 0 ? [1, 7] : seed % 3 === 1 ? [1, 300] : [1000, 70000];
      assert.deepEqual(parseFrames(chunk(stream, rand, min, max)).events, expected, `seed ${seed}`);
    }
  });

  it('hands over frames inside a chunk as views of that chunk, without copying', () => {
    const h = parseFrames([stream]);
    for (const buf of h.buffers) assert.equal(buf, stream);
  });

  it('stops at a header that is not a frame header (a JSON error body)', () => {
    const body = Buffer.from('{"message":"No such container: abc"}');
    const h = parseFrames([Buffer.concat([frame(1, `${ts} before\n`), body, frame(1, `${ts} after\n`)])]);
    assert.equal(h.events.length, 2);
    assert.deepEqual(h.events[0], ['stdout', `${ts} before\n`]);
    assert.equal(h.events[1]![0], 'invalid');
    assert.match(h.events[1]![1], /bad frame header 7b226d6573736167/);
  });

  it('stops at a non-zero padding byte or an unknown type, even split across chunks', () => {
    for (const head of [
      [1, 0, 1, 0, 0, 0, 0, 1],
      [4, 0, 0, 0, 0, 0, 0, 1],
      [0x32, 0x30, 0x32, 0x36, 0x2d, 0x31, 0x31, 0x2d], // a TTY stream (`2026-11-`) read as frames
    ]) {
      const bytes = Buffer.concat([Buffer.from(head), Buffer.from('payload')]);
      for (const chunks of [[bytes], bytewise(bytes)]) {
        const h = new Frames();
        const p = new FrameParser(h);
        for (const c of chunks) p.write(c);
        assert.equal(h.events.length, 1, JSON.stringify(head));
        assert.equal(h.events[0]![0], 'invalid');
        assert.equal(p.stopped, true);
      }
    }
  });

  it('rejects a huge size field at once, without waiting for or allocating the payload', () => {
    for (const size of [MAX_FRAME_SIZE + 1, 0xffffffff]) {
      const head = Buffer.alloc(8);
      head[0] = 1;
      head.writeUInt32BE(size, 4);
      const h = new Frames();
      const p = new FrameParser(h);
      p.write(head);
      assert.equal(h.events.length, 1);
      assert.match(h.events[0]![1], new RegExp(`frame size ${size} exceeds`));
      p.write(frame(1, `${ts} after\n`));
      assert.equal(h.events.length, 1, 'nothing after a protocol error');
    }
    // The limit itself is accepted.
    const big = Buffer.alloc(MAX_FRAME_SIZE, 0x61);
    const h = parseFrames(chunk(frame(1, big), prng(3), 20000, 60000));
    assert.equal(h.events.length, 1);
    assert.equal(h.events[0]![1].length, MAX_FRAME_SIZE);
  });

  it('stops when the handler says so, and reports midFrame', () => {
    const h = parseFrames([stream], 2);
    assert.equal(h.events.length, 2);
    const p = new FrameParser(new Frames());
    const one = frame(1, `${ts} x\n`);
    p.write(one.subarray(0, 5));
    assert.equal(p.midFrame, true);
    p.write(one.subarray(5, 12));
    assert.equal(p.midFrame, true);
    p.write(one.subarray(12));
    assert.equal(p.midFrame, false);
  });
});

type TtyEvent = ['part', number, number, string, boolean] | ['system', string] | ['invalid', string];

class Parts implements TtyHandler {
  readonly events: TtyEvent[] = [];
  part(sec: number, nsec: number, buf: Buffer, start: number, end: number, complete: boolean): void {
    this.events.push(['part', sec, nsec, buf.toString('latin1', start, end), complete]);
  }
  systemError(buf: Buffer, start: number, end: number): void {
    this.events.push(['system', buf.toString('latin1', start, end)]);
  }
  invalid(message: string): void {
    this.events.push(['invalid', message]);
  }
}

/** Splits, then merges consecutive incomplete parts so that results compare across chunkings. */
function split(chunks: readonly Buffer[], partSize?: number): TtyEvent[] {
  const h = new Parts();
  const s = new TtySplitter(h, partSize === undefined ? {} : { partSize });
  for (const c of chunks) s.write(c);
  s.finish();
  const out: TtyEvent[] = [];
  let open: ['part', number, number, string, boolean] | undefined;
  for (const e of h.events) {
    if (e[0] === 'part' && open !== undefined && open[1] === e[1] && open[2] === e[2]) {
      open[3] += e[3];
      open[4] = e[4];
    } else {
      out.push(e[0] === 'part' ? [...e] : e);
    }
    const last = out[out.length - 1]!;
    open = last[0] === 'part' && !last[4] ? last : undefined;
  }
  return out;
}

describe('TtySplitter', () => {
  const t1 = stamp(1795235073, 1);
  const t2 = stamp(1795235074, 2);
  it('splits timestamped raw messages, for any chunking', () => {
    const text = `${t1} hello\r\n${t1} err\r\nError grabbing logs: bad\n${t2} \r\n${t2} no-newline`;
    const expected: TtyEvent[] = [
      ['part', 1795235073, 1, 'hello\r', true],
      ['part', 1795235073, 1, 'err\r', true],
      ['system', 'Error grabbing logs: bad'],
      ['part', 1795235074, 2, '\r', true],
      ['part', 1795235074, 2, 'no-newline', false],
    ];
    const bytes = Buffer.from(text);
    assert.deepEqual(split([bytes]), expected);
    assert.deepEqual(split(bytewise(bytes)), expected);
    for (let seed = 1; seed <= 100; seed++) {
      assert.deepEqual(split(chunk(bytes, prng(seed), 1, 40)), expected, `seed ${seed}`);
    }
  });

  it('finds a timestamp glued after a full part, and only there', () => {
    const rand = prng(11);
    const a = 'a'.repeat(10);
    const cases: Array<[string, TtyEvent[]]> = [
      // Engine split of a 25-byte line with partSize 10: parts glued, each with the line's timestamp
      // (consecutive parts with one timestamp are merged by split() above).
      [`${t1} ${a}${t1} ${a}${t1} bbbbb\r\n`, [['part', 1795235073, 1, `${a}${a}bbbbb\r`, true]]],
      // A glued part with another timestamp is cut off there.
      [
        `${t1} ${a}${t2} bbbbb\r\n`,
        [
          ['part', 1795235073, 1, a, false],
          ['part', 1795235074, 2, 'bbbbb\r', true],
        ],
      ],
      // Exactly a part long: the `\n` comes in a message of its own.
      [`${t1} aaaaaaaaa\r${t1} \n`, [['part', 1795235073, 1, 'aaaaaaaaa\r', true]]],
      // No timestamp after the full part: the bytes stay text of the line, `\n` included.
      [
        `${t1} ${a}not a ts\n${t2} x\n`,
        [
          ['part', 1795235073, 1, `${a}not a ts`, true],
          ['part', 1795235074, 2, 'x', true],
        ],
      ],
      [
        `${t1} ${a}\n${t2} x\n`,
        [
          ['part', 1795235073, 1, a, true],
          ['part', 1795235074, 2, 'x', true],
        ],
      ],
      // A timestamp-looking text inside a short message is left alone.
      [`${t1} ab${t2} c\n`, [['part', 1795235073, 1, `ab${t2} c`, true]]],
      // Stream ends right after a full part, with bytes that might have begun a timestamp.
      [`${t1} ${a}2026-11`, [['part', 1795235073, 1, `${a}2026-11`, false]]],
    ];
    for (const [text, expected] of cases) {
      const bytes = Buffer.from(text);
      assert.deepEqual(split([bytes], 10), expected, text);
      assert.deepEqual(split(bytewise(bytes), 10), expected, `${text} bytewise`);
      for (let i = 0; i < 30; i++) {
        assert.deepEqual(split(chunk(bytes, rand, 1, between(rand, 2, 50)), 10), expected, text);
      }
    }
  });

  it('stops when a message does not start with a timestamp', () => {
    for (const text of [
      'hello\r\n',
      `\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0025${t1} x\n`,
      `${t1} ok\nnope\n`,
    ]) {
      for (const chunks of [[Buffer.from(text)], bytewise(Buffer.from(text))]) {
        const h = new Parts();
        const s = new TtySplitter(h);
        for (const c of chunks) s.write(c);
        s.write(Buffer.from(`${t2} later\n`));
        s.finish();
        const last = h.events[h.events.length - 1]!;
        assert.equal(last[0], 'invalid', text);
        assert.match(last[1] as string, /not a timestamped TTY log stream/);
        assert.equal(s.stopped, true);
        assert.ok(h.events.every(e => e[0] !== 'part' || e[3] !== 'later'));
      }
    }
  });
});
