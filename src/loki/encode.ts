//! Loki push body encoding: a `logproto.PushRequest` (see push.proto) written field by field with
//! protobufjs's Writer, then snappy block-compressed. The only importer of protobufjs and snappyjs in src/.
//!
//! The output is byte-identical to protobufjs reflection encoding a message built from push.proto
//! (test/unit/encode.test.ts checks it): fields in number order, proto3 zero values omitted, the
//! timestamp message always present (as gogoproto's non-nullable `stdtime` writes it).

import protobuf from 'protobufjs/minimal.js';
import { compress } from 'snappyjs';
import type { Labels } from '../core/types.js';

/** What the encoder reads from an entry; a `LogEntry` fits. */
export interface PushEntry {
  readonly sec: number;
  readonly nsec: number;
  readonly line: string;
  readonly metadata?: Labels | undefined;
}

/** One stream of a push request: Loki's label string and its entries, in order. */
export interface PushStream {
  readonly labels: string;
  readonly entries: readonly PushEntry[];
}

// Tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
const TAG_STREAMS = 10; // PushRequest.streams = 1
const TAG_LABELS = 10; // StreamAdapter.labels = 1
const TAG_ENTRIES = 18; // StreamAdapter.entries = 2
const TAG_TIMESTAMP = 10; // EntryAdapter.timestamp = 1
const TAG_LINE = 18; // EntryAdapter.line = 2
const TAG_METADATA = 26; // EntryAdapter.structuredMetadata = 3
const TAG_SECONDS = 8; // Timestamp.seconds = 1 (int64)
const TAG_NANOS = 16; // Timestamp.nanos = 2 (int32)
const TAG_NAME = 10; // LabelPairAdapter.name = 1
const TAG_VALUE = 18; // LabelPairAdapter.value = 2

/** A writer whose buffer is larger than this is not kept for the next batch. */
const MAX_RETAINED_BYTES = 8 * 1024 * 1024;

// One writer reused across batches, so its buffer grows once instead of doubling from 128 bytes on
// every batch. Batches are encoded synchronously, so sharing it is safe.
let shared: protobuf.Writer = protobuf.Writer.create();

function varint32Size(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

function writeTimestamp(w: protobuf.Writer, sec: number, nsec: number): void {
  if (sec >= 0 && sec <= 0xffffffff && nsec >= 0) {
    // Fast path (every real Docker timestamp): a non-negative int64 below 2^32 has the same varint
    // bytes as a uint32, so the length is known up front and no fork is needed.
    const len = (sec !== 0 ? 1 + varint32Size(sec) : 0) + (nsec !== 0 ? 1 + varint32Size(nsec) : 0);
    w.uint32(TAG_TIMESTAMP).uint32(len);
    if (sec !== 0) w.uint32(TAG_SECONDS).uint32(sec);
    if (nsec !== 0) w.uint32(TAG_NANOS).uint32(nsec);
    return;
  }
  w.uint32(TAG_TIMESTAMP).fork();
  if (sec !== 0) w.uint32(TAG_SECONDS).int64(sec);
  if (nsec !== 0) w.uint32(TAG_NANOS).int32(nsec);
  w.ldelim();
}

function writeRequest(w: protobuf.Writer, streams: readonly PushStream[]): void {
  for (let s = 0; s < streams.length; s++) {
    const stream = streams[s]!;
    w.uint32(TAG_STREAMS).fork();
    if (stream.labels !== '') w.uint32(TAG_LABELS).string(stream.labels);
    const entries = stream.entries;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      w.uint32(TAG_ENTRIES).fork();
      writeTimestamp(w, entry.sec, entry.nsec);
      if (entry.line !== '') w.uint32(TAG_LINE).string(entry.line);
      const metadata = entry.metadata;
      if (metadata !== undefined) {
        for (const name in metadata) {
          const value = metadata[name]!;
          w.uint32(TAG_METADATA).fork();
          if (name !== '') w.uint32(TAG_NAME).string(name);
          if (value !== '') w.uint32(TAG_VALUE).string(value);
          w.ldelim();
        }
      }
      w.ldelim();
    }
    w.ldelim();
  }
}

function encodeShared(streams: readonly PushStream[]): Uint8Array {
  const w = shared;
  w.pos = 0;
  w.states = null;
  try {
    writeRequest(w, streams);
  } catch (err) {
    shared = protobuf.Writer.create();
    throw err;
  }
  return w.finish(true);
}

function release(): void {
  if (shared.buf.length > MAX_RETAINED_BYTES) shared = protobuf.Writer.create();
}

/** The uncompressed protobuf `PushRequest` for `streams`, in a buffer of its own. */
export function encodeProto(streams: readonly PushStream[]): Uint8Array {
  const view = encodeShared(streams);
  const copy = Buffer.allocUnsafe(view.length);
  copy.set(view);
  release();
  return copy;
}

/** The HTTP body of a push: the `PushRequest` for `streams`, snappy block-compressed. */
export function encodePushRequest(streams: readonly PushStream[]): Buffer {
  const view = encodeShared(streams);
  // snappyjs returns a Buffer for Buffer input; the view is read, not kept.
  const body = compress(Buffer.from(view.buffer, view.byteOffset, view.byteLength));
  release();
  return body;
}
