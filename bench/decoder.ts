//! Micro-benchmark of the log stream decoder: a 1M-line multiplexed stream (100-byte lines, 90% stdout,
//! a 30-byte timestamp per line) fed in random 16–64 KiB chunks, then the same lines as a raw TTY stream.
//! Run: node --import tsx bench/decoder.ts

import { type DecodedLineSink, LogDecoder } from '../src/docker/lines.js';

const LINES = 1_000_000;
const LINE_BYTES = 100;

/** Small seeded PRNG (mulberry32) so runs are comparable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The stream as frames, or (tty) as the raw `<ts> text\r\n` messages of a TTY container. */
function build(tty: boolean): Buffer {
  const rand = prng(42);
  const frame = 8 + 31 + LINE_BYTES + 2;
  const out = Buffer.allocUnsafe(LINES * frame);
  const filler = 'abcdefghijklmnopqrstuvwxyz0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ'.repeat(4);
  let ns = 1_795_235_073_000_000_000n;
  let pos = 0;
  for (let i = 0; i < LINES; i++) {
    ns += BigInt(1 + Math.floor(rand() * 2000));
    const sec = Number(ns / 1_000_000_000n);
    const nsec = Number(ns % 1_000_000_000n);
    const iso = new Date(sec * 1000).toISOString().slice(0, 19);
    const head = `${iso}.${String(nsec).padStart(9, '0')}Z `;
    const text = `line ${i} ${filler}`.slice(0, LINE_BYTES);
    const type = rand() < 0.9 ? 1 : 2;
    if (!tty) {
      out[pos] = type;
      out[pos + 1] = 0;
      out[pos + 2] = 0;
      out[pos + 3] = 0;
      out.writeUInt32BE(31 + LINE_BYTES + 1, pos + 4);
      pos += 8;
    }
    pos += out.write(head, pos, 'latin1');
    pos += out.write(text, pos, 'latin1');
    if (tty) out[pos++] = 0x0d;
    out[pos++] = 0x0a;
  }
  return out.subarray(0, pos);
}

function chunks(stream: Buffer): Buffer[] {
  const rand = prng(7);
  const list: Buffer[] = [];
  for (let pos = 0; pos < stream.length; ) {
    const size = 16 * 1024 + Math.floor(rand() * 48 * 1024);
    list.push(stream.subarray(pos, pos + size));
    pos += size;
  }
  return list;
}

/** Output without console (the lint rule for non-test code). */
function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

let lines = 0;
let chars = 0;
let lastSec = 0;
const sink: DecodedLineSink = {
  line(_stream, sec, _nsec, text) {
    lines++;
    chars += text.length;
    lastSec = sec;
  },
  dropped() {},
  engineError(message) {
    throw new Error(message);
  },
  protocolError(message) {
    throw new Error(message);
  },
};

for (const tty of [false, true]) {
  const stream = build(tty);
  const parts = chunks(stream);
  const kind = tty ? 'raw TTY' : 'multiplexed';
  print(`${kind} stream: ${LINES} lines, ${(stream.length / 1e6).toFixed(1)} MB in ${parts.length} chunks`);
  for (let run = 0; run < 5; run++) {
    lines = 0;
    chars = 0;
    const t0 = process.hrtime.bigint();
    const decoder = new LogDecoder({ tty, maxLineSize: 256 * 1024, truncate: false, sink });
    for (const part of parts) decoder.write(part);
    decoder.end(true);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (lines !== LINES || chars !== LINES * LINE_BYTES)
      throw new Error(`got ${lines} lines, ${chars} chars`);
    const rate = `${(lines / s / 1e6).toFixed(2)} M lines/s, ${(stream.length / s / 1e6).toFixed(0)} MB/s`;
    print(`  run ${run + 1}: ${s.toFixed(3)} s, ${rate} (last sec ${lastSec})`);
  }
}
