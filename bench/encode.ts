//! Measures the push body encoder: src/loki/encode.ts (entries encoded into byte records as they join a
//! batch, then one exact-size buffer per request) against the encoder it replaced (hand-written on
//! protobufjs's Writer, kept below for the comparison) and protobufjs reflection (a Type loaded from
//! src/loki/push.proto), and snappyjs compression, on a 1 MiB batch of ~100-byte lines over 5 streams.
//! Run: `node --import tsx bench/encode.ts`.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { compress } from 'snappyjs';
import type { PushEntry, PushStream } from '../src/loki/encode.js';
import { encodePushRequest, encodeRecords, encodeStreams } from '../src/loki/encode.js';

const TARGET_BYTES = 1024 * 1024;
const ROUNDS = 200;

const root = protobuf.loadSync(fileURLToPath(new URL('../src/loki/push.proto', import.meta.url)));
const PushRequest = root.lookupType('logproto.PushRequest');

/** Deterministic pseudo-random numbers, so every run encodes the same batch. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function makeBatch(): { streams: PushStream[]; lines: number; lineBytes: number } {
  const rand = rng(42);
  const words = ['alpha', 'request', 'user', 'cache', 'timeout', 'connection', 'database', 'worker', 'queue'];
  const pick = () => words[Math.floor(rand() * words.length)]!;
  const makeLine = (i: number): string => {
    const kind = i % 3;
    if (kind === 0) {
      return `{"level":"info","ts":"2026-08-21T10:00:00Z","msg":"${pick()} ${pick()}","id":${i},"took_ms":${Math.floor(rand() * 900)},"caller":"server/handler.go:${i % 400}"}`;
    }
    if (kind === 1) {
      return `10.0.${i % 255}.${(i * 7) % 255} - - "GET /api/${pick()}/${i} HTTP/1.1" 200 ${Math.floor(rand() * 9000)} "-" "Mozilla/5.0 (X11; Linux x86_64)"`;
    }
    const accent = i % 50 === 0 ? ' — délai dépassé' : '';
    return `${pick()} ${pick()} ${pick()} finished step ${i} of the ${pick()} job in ${Math.floor(rand() * 900)} ms (attempt ${(i % 3) + 1})${accent}`;
  };
  const streams: Array<{ labels: string; entries: PushEntry[] }> = [];
  for (let s = 0; s < 5; s++) {
    streams.push({ labels: `{container="app-${s}", host="docker-1", stream="stdout"}`, entries: [] });
  }
  let bytes = 0;
  let i = 0;
  const baseSec = 1_790_000_000;
  while (bytes < TARGET_BYTES) {
    const line = makeLine(i);
    const entry: PushEntry =
      i % 97 === 0
        ? { sec: baseSec + (i >> 10), nsec: (i * 7919) % 1e9, line, metadata: { trace_id: `t${i}` } }
        : { sec: baseSec + (i >> 10), nsec: (i * 7919) % 1e9, line };
    streams[i % 5]!.entries.push(entry);
    bytes += Buffer.byteLength(line);
    i += 1;
  }
  return { streams, lines: i, lineBytes: bytes };
}

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

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/**
 * Times every case round-robin (one call of each per round), so that load from other processes on a
 * shared machine hits all cases alike; prints and returns the median ms of each.
 */
function measureAll(cases: Array<[string, () => unknown]>): number[] {
  for (let i = 0; i < 20; i++) for (const [, fn] of cases) fn(); // warm-up
  const times: number[][] = cases.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    cases.forEach(([, fn], i) => {
      const start = process.hrtime.bigint();
      fn();
      times[i]!.push(Number(process.hrtime.bigint() - start) / 1e6);
    });
  }
  return cases.map(([label], i) => {
    const sorted = times[i]!.sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const p10 = sorted[Math.floor(sorted.length / 10)]!;
    print(`${label.padEnd(44)} median ${median.toFixed(2)} ms  p10 ${p10.toFixed(2)} ms`);
    return median;
  });
}

/** The encoder this project used before the byte records: protobufjs's Writer, field by field. */
function writerEncode(streams: readonly PushStream[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const stream of streams) {
    w.uint32(10).fork();
    if (stream.labels !== '') w.uint32(10).string(stream.labels);
    for (const entry of stream.entries) {
      w.uint32(18).fork();
      w.uint32(10).fork();
      if (entry.sec !== 0) w.uint32(8).int64(entry.sec);
      if (entry.nsec !== 0) w.uint32(16).int32(entry.nsec);
      w.ldelim();
      if (entry.line !== '') w.uint32(18).string(entry.line);
      for (const [name, value] of Object.entries(entry.metadata ?? {})) {
        w.uint32(26).fork();
        if (name !== '') w.uint32(10).string(name);
        if (value !== '') w.uint32(18).string(value);
        w.ldelim();
      }
      w.ldelim();
    }
    w.ldelim();
  }
  return w.finish();
}

const { streams, lines, lineBytes } = makeBatch();
const message = toMessage(streams);
const encoded = encodeStreams(streams);
const recordBytes = encodeRecords(encoded);
const reflectionBytes = PushRequest.encode(message).finish();
assert.deepEqual(recordBytes, Buffer.from(reflectionBytes), 'encoders disagree');
assert.deepEqual(Buffer.from(writerEncode(streams)), Buffer.from(reflectionBytes), 'encoders disagree');

print(`batch: ${lines} lines, ${lineBytes} line bytes, 5 streams, PushRequest ${recordBytes.length} bytes`);
const [append, assemble, writer, reflection, , snappy, total] = measureAll([
  ['records: append every entry', () => encodeStreams(streams)],
  ['records: the request from encoded records', () => encodeRecords(encoded)],
  ['protobufjs Writer encoder (the one replaced)', () => writerEncode(streams)],
  ['reflection encode (prebuilt message)', () => PushRequest.encode(message).finish()],
  ['reflection encode (build message + encode)', () => PushRequest.encode(toMessage(streams)).finish()],
  ['snappyjs compress of the PushRequest', () => compress(recordBytes)],
  ['encodePushRequest (records + snappyjs)', () => encodePushRequest(streams)],
]) as [number, number, number, number, number, number, number];
const body = encodePushRequest(streams);
const mbs = (ms: number): string => (lineBytes / 1e3 / ms).toFixed(0);
print(
  `compressed ${body.length} bytes (ratio ${(recordBytes.length / body.length).toFixed(3)}); ` +
    `records ${mbs(append + assemble)} MB/s (append ${mbs(append)}, request ${mbs(assemble)}), ` +
    `Writer ${mbs(writer)} MB/s, reflection ${mbs(reflection)} MB/s, ` +
    `snappyjs ${(recordBytes.length / 1e3 / snappy).toFixed(0)} MB/s, end to end ${((total * 1e6) / lines).toFixed(0)} ns/line`,
);
