//! Loki push body encoding: a `logproto.PushRequest` (see push.proto), snappy block-compressed.
//! The only importer of snappyjs in src/ (its compressor, which writes into a buffer it is given).
//!
//! Entries are encoded when they join a batch, into `EntryRecords`: the `StreamAdapter.entries` fields of
//! one stream, back to back in pooled segments. A batch then holds bytes, not a string and an object per
//! line that the garbage collector would copy at every scavenge while the batch waits (see
//! ARCHITECTURE.md, "Batches hold bytes"). Sending a batch writes each stream's header in front of its
//! records, 64 KiB at a time, compressing each 64 KiB into a body buffer reused from body to body.
//!
//! The output is byte-identical to protobufjs reflection encoding a message built from push.proto
//! (test/unit/encode.test.ts checks it): fields in number order, proto3 zero values omitted, the
//! timestamp message always present (as gogoproto's non-nullable `stdtime` writes it).

import { SnappyCompressor } from 'snappyjs/snappy_compressor.js';
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

/** One stream of a push request with its entries encoded already. */
export interface EncodedStream {
  readonly labels: string;
  readonly records: EntryRecords;
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

/** Bytes of the varint of a non-negative integer below 2^32. */
function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** Writes the varint of a non-negative integer below 2^32 at `pos`; returns the position after it. */
function writeVarint(buf: Buffer, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[pos++] = value;
  return pos;
}

/** The varint of an int64 (two's complement, so a negative value takes 10 bytes), as bytes. */
function int64Varint(value: number): number[] {
  // A fraction or a non-number cannot come from Docker; it is written as protobufjs would (truncated, 0).
  let v = BigInt.asUintN(64, BigInt(Number.isFinite(value) ? Math.trunc(value) : 0));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** The varint of an int32 field (a negative value is sign-extended to 10 bytes, as protobuf does). */
function int32Varint(value: number): number[] {
  return value >= 0 ? int64Varint(value) : int64Varint(value | 0);
}

/** A Docker timestamp: whole seconds within uint32 and non-negative nanos, so plain varints fit. */
function isPlainTime(sec: number, nsec: number): boolean {
  return sec >= 0 && sec <= 0xffffffff && Number.isInteger(sec) && nsec >= 0 && nsec <= 0xffffffff;
}

/** The `Timestamp` message's fields (without its own tag and length) for any timestamp. */
function timestampFields(sec: number, nsec: number): number[] {
  const out: number[] = [];
  if (sec !== 0) out.push(TAG_SECONDS, ...int64Varint(sec));
  if (nsec !== 0) out.push(TAG_NANOS, ...int32Varint(nsec));
  return out;
}

/** Bytes of a stream's first segment: a quiet stream's share of a batch fits in one. */
export const SMALL_SEGMENT_BYTES = 4 * 1024;
/** Bytes of the segments a busier stream's records go on in. */
export const SEGMENT_BYTES = 64 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * The segments batches are built of, reused instead of left to the garbage collector: a buffer that
 * lived through two scavenges is only freed by a full collection, which V8 starts only after external
 * memory has grown by tens of MB, so short-lived batch buffers would pile up in the RSS. Each free list
 * keeps at most 4 MiB (8 MiB for the large ones); more is left to the garbage collector.
 */
const freeSmall: Buffer[] = [];
const freeLarge: Buffer[] = [];
const MAX_FREE_SMALL = 1024;
const MAX_FREE_LARGE = 128;

/** A segment for a record of `size` bytes: pooled up to SEGMENT_BYTES, a buffer of its own past that. */
function takeSegment(size: number): Buffer {
  if (size <= SMALL_SEGMENT_BYTES) return freeSmall.pop() ?? Buffer.allocUnsafeSlow(SMALL_SEGMENT_BYTES);
  if (size <= SEGMENT_BYTES) return freeLarge.pop() ?? Buffer.allocUnsafeSlow(SEGMENT_BYTES);
  return Buffer.allocUnsafeSlow(size);
}

function giveSegment(segment: Buffer): void {
  if (segment.length === SMALL_SEGMENT_BYTES && freeSmall.length < MAX_FREE_SMALL) freeSmall.push(segment);
  else if (segment.length === SEGMENT_BYTES && freeLarge.length < MAX_FREE_LARGE) freeLarge.push(segment);
}

/** Free segments held for reuse now, small and large (diagnostics and tests). */
export function freeSegmentCount(): number {
  return freeSmall.length + freeLarge.length;
}

/**
 * The encoded `entries` fields (EntryAdapter messages with their tag and length) of one stream of a
 * batch, in the order they were added. They are kept in pooled segments, none split across two: a
 * small one first, then large ones (a record larger than a segment gets a buffer of its own).
 * `release()` gives them back.
 */
export class EntryRecords {
  #segments: Buffer[] = [];
  /** Used bytes per segment; the last entry is brought up to date by #sync(). */
  #lengths: number[] = [];
  /** The segment being written: the last one. */
  #buf: Buffer = EMPTY;
  #length = 0;
  #byteLength = 0;
  #count = 0;

  /** Entries held. */
  get count(): number {
    return this.#count;
  }

  /** Bytes of the encoded records. */
  get byteLength(): number {
    return this.#byteLength;
  }

  /** Hands the records to `sink`, segment by segment. */
  writeTo(sink: ByteSink): void {
    this.#sync();
    for (let i = 0; i < this.#segments.length; i++) sink.write(this.#segments[i]!, this.#lengths[i]!);
  }

  /** Gives the segments back to the pool; the records are empty afterwards. */
  release(): void {
    for (const segment of this.#segments) giveSegment(segment);
    this.#segments = [];
    this.#lengths = [];
    this.#buf = EMPTY;
    this.#length = 0;
    this.#byteLength = 0;
    this.#count = 0;
  }

  /**
   * Encodes one entry at the end. Returns its size as Promtail counts batch bytes: the line's UTF-8
   * bytes plus the name and value bytes of its structured metadata.
   */
  append(sec: number, nsec: number, line: string, metadata?: Labels): number {
    this.#count += 1;
    if (metadata === undefined && isPlainTime(sec, nsec)) return this.#appendPlain(sec, nsec, line);
    return this.#appendGeneral(sec, nsec, line, metadata);
  }
  /**
   * The common case, in one pass over the line: the line is written where it goes if its UTF-8 length
   * equals its length in UTF-16 units (ASCII), and moved once if a longer UTF-8 length needs longer
   * length prefixes in front of it.
   */
  #appendPlain(sec: number, nsec: number, line: string): number {
    const tsLen = (sec !== 0 ? 1 + varintSize(sec) : 0) + (nsec !== 0 ? 1 + varintSize(nsec) : 0);
    const head = 2 + tsLen; // the timestamp field: tag, length (< 128), fields
    const units = line.length;
    // Room for the worst case: 3 UTF-8 bytes per UTF-16 unit, and 5-byte length prefixes. Where only a
    // line of fewer bytes would fit in the segment, it is measured, so a segment is not left early.
    let room = 1 + 5 + head + 1 + 5 + 3 * units;
    const free = this.#buf.length - this.#length;
    if (room > free && room - 2 * units <= free)
      room = 1 + 5 + head + 1 + 5 + Buffer.byteLength(line, 'utf8');
    this.#reserve(room);
    const buf = this.#buf;
    const pos = this.#length;
    let n = 0;
    let lineField = 0;
    let recordLen = head;
    let lineStart = 0;
    if (units !== 0) {
      const guessLen = head + 1 + varintSize(units) + units;
      lineStart = pos + 1 + varintSize(guessLen) + head + 1 + varintSize(units);
      n = buf.write(line, lineStart, 'utf8');
      lineField = 1 + varintSize(n);
      recordLen = head + lineField + n;
      const start = pos + 1 + varintSize(recordLen) + head + lineField;
      if (start !== lineStart) buf.copyWithin(start, lineStart, lineStart + n);
      lineStart = start;
    }
    let p = pos;
    buf[p++] = TAG_ENTRIES;
    p = writeVarint(buf, p, recordLen);
    buf[p++] = TAG_TIMESTAMP;
    buf[p++] = tsLen;
    if (sec !== 0) {
      buf[p++] = TAG_SECONDS;
      p = writeVarint(buf, p, sec);
    }
    if (nsec !== 0) {
      buf[p++] = TAG_NANOS;
      p = writeVarint(buf, p, nsec);
    }
    if (units !== 0) {
      buf[p++] = TAG_LINE;
      p = writeVarint(buf, p, n);
      p += n;
    }
    this.#byteLength += p - pos;
    this.#length = p;
    return n;
  }

  /** Any timestamp, and structured metadata: every length measured first. */
  #appendGeneral(sec: number, nsec: number, line: string, metadata: Labels | undefined): number {
    const ts = timestampFields(sec, nsec);
    const lineBytes = Buffer.byteLength(line, 'utf8');
    let size = lineBytes;
    let recordLen = 1 + varintSize(ts.length) + ts.length;
    if (lineBytes !== 0) recordLen += 1 + varintSize(lineBytes) + lineBytes;
    const pairs: Array<[string, number, string, number, number]> = [];
    if (metadata !== undefined) {
      for (const name in metadata) {
        const value = metadata[name]!;
        const nameBytes = Buffer.byteLength(name, 'utf8');
        const valueBytes = Buffer.byteLength(value, 'utf8');
        size += nameBytes + valueBytes;
        const pairLen =
          (nameBytes !== 0 ? 1 + varintSize(nameBytes) + nameBytes : 0) +
          (valueBytes !== 0 ? 1 + varintSize(valueBytes) + valueBytes : 0);
        pairs.push([name, nameBytes, value, valueBytes, pairLen]);
        recordLen += 1 + varintSize(pairLen) + pairLen;
      }
    }
    this.#reserve(1 + varintSize(recordLen) + recordLen);
    const buf = this.#buf;
    const pos = this.#length;
    let p = pos;
    buf[p++] = TAG_ENTRIES;
    p = writeVarint(buf, p, recordLen);
    buf[p++] = TAG_TIMESTAMP;
    p = writeVarint(buf, p, ts.length);
    for (const byte of ts) buf[p++] = byte;
    if (lineBytes !== 0) {
      buf[p++] = TAG_LINE;
      p = writeVarint(buf, p, lineBytes);
      p += buf.write(line, p, 'utf8');
    }
    for (const [name, nameBytes, value, valueBytes, pairLen] of pairs) {
      buf[p++] = TAG_METADATA;
      p = writeVarint(buf, p, pairLen);
      if (nameBytes !== 0) {
        buf[p++] = TAG_NAME;
        p = writeVarint(buf, p, nameBytes);
        p += buf.write(name, p, 'utf8');
      }
      if (valueBytes !== 0) {
        buf[p++] = TAG_VALUE;
        p = writeVarint(buf, p, valueBytes);
        p += buf.write(value, p, 'utf8');
      }
    }
    this.#byteLength += p - pos;
    this.#length = p;
    return size;
  }

  /**
   * Splits after the first `count` records: returns the records from there on and keeps the first ones.
   * For a batch Loki answered 413; walks the records' length prefixes.
   */
  splitAt(count: number): EntryRecords {
    this.#sync();
    const segments = this.#segments;
    const lengths = this.#lengths;
    const rest = new EntryRecords();
    // Find the cut: segment s, offset p.
    let s = 0;
    let p = 0;
    for (let i = 0; i < count && s < segments.length; i++) {
      const [len, body] = varintAt(segments[s]!, p + 1); // after TAG_ENTRIES
      p = body + len;
      if (p >= lengths[s]!) {
        s += 1;
        p = 0;
      }
    }
    if (s === segments.length) return rest;
    // The rest: the tail of segment s in a segment of its own, then the segments after it.
    const tail = lengths[s]! - p;
    if (tail > 0) {
      const head = takeSegment(tail);
      segments[s]!.copy(head, 0, p, lengths[s]);
      rest.#segments.push(head);
      rest.#lengths.push(tail);
    }
    for (let i = s + 1; i < segments.length; i++) {
      rest.#segments.push(segments[i]!);
      rest.#lengths.push(lengths[i]!);
    }
    const keep = p > 0 ? s + 1 : s;
    segments.length = keep;
    lengths.length = keep;
    if (p > 0) lengths[s] = p;
    this.#buf = keep > 0 ? segments[keep - 1]! : EMPTY;
    this.#length = keep > 0 ? lengths[keep - 1]! : 0;
    rest.#buf = rest.#segments.at(-1) ?? EMPTY;
    rest.#length = rest.#lengths.at(-1) ?? 0;
    let restBytes = 0;
    for (const len of rest.#lengths) restBytes += len;
    rest.#byteLength = restBytes;
    rest.#count = this.#count - count;
    this.#byteLength -= restBytes;
    this.#count = count;
    return rest;
  }

  /** The `append` sizes of every record held: line bytes plus structured metadata name and value bytes. */
  accountedBytes(): number {
    this.#sync();
    let size = 0;
    for (let s = 0; s < this.#segments.length; s++) {
      const buf = this.#segments[s]!;
      const length = this.#lengths[s]!;
      let p = 0;
      while (p < length) {
        const [len, body] = varintAt(buf, p + 1); // after TAG_ENTRIES
        const end = body + len;
        p = body;
        while (p < end) {
          const tag = buf[p]!;
          const [fieldLen, start] = varintAt(buf, p + 1);
          if (tag === TAG_LINE) size += fieldLen;
          if (tag === TAG_METADATA) {
            // LabelPairAdapter: name and value, each a tag, a length and the bytes.
            let q = start;
            while (q < start + fieldLen) {
              const [partLen, partStart] = varintAt(buf, q + 1);
              size += partLen;
              q = partStart + partLen;
            }
          }
          p = start + fieldLen;
        }
      }
    }
    return size;
  }

  /** Records the used length of the segment being written. */
  #sync(): void {
    if (this.#lengths.length > 0) this.#lengths[this.#lengths.length - 1] = this.#length;
  }

  /** Makes room for a record of at most `extra` bytes: in the segment being written, or a new one. */
  #reserve(extra: number): void {
    if (this.#length + extra <= this.#buf.length) return;
    this.#sync();
    // The first segment is small; the next ones are large, whatever this record's size.
    const next = takeSegment(this.#segments.length === 0 ? extra : Math.max(extra, SEGMENT_BYTES));
    this.#segments.push(next);
    this.#lengths.push(0);
    this.#buf = next;
    this.#length = 0;
  }
}

/** The varint at `p` of `buf` (below 2^53) and the position after it. */
function varintAt(buf: Buffer, p: number): [number, number] {
  let value = 0;
  let scale = 1;
  let byte: number;
  do {
    byte = buf[p++]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte >= 0x80);
  return [value, p];
}

/** Where bytes of a request go, piece by piece. */
export interface ByteSink {
  /** Takes `buf[0, length)`; `buf` may be reused once it returns. */
  write(buf: Buffer, length: number): void;
}

/** The sizes a `PushRequest` of these streams is written with. */
interface RequestLayout {
  readonly total: number;
  readonly labelBytes: readonly number[];
  readonly streamLens: readonly number[];
}

function requestLayout(streams: readonly EncodedStream[]): RequestLayout {
  let total = 0;
  const labelBytes: number[] = [];
  const streamLens: number[] = [];
  for (const stream of streams) {
    const lb = Buffer.byteLength(stream.labels, 'utf8');
    const len = (lb !== 0 ? 1 + varintSize(lb) + lb : 0) + stream.records.byteLength;
    labelBytes.push(lb);
    streamLens.push(len);
    total += 1 + varintSize(len) + len;
  }
  return { total, labelBytes, streamLens };
}

/** A stream's header (its field tag and length, and its labels field), reused from request to request. */
let header: Buffer = Buffer.allocUnsafeSlow(256);

/** Writes the `PushRequest` of encoded streams to `sink`, in order: each stream's header, then its records. */
function writeRequest(streams: readonly EncodedStream[], layout: RequestLayout, sink: ByteSink): void {
  for (let s = 0; s < streams.length; s++) {
    const stream = streams[s]!;
    const lb = layout.labelBytes[s]!;
    if (header.length < lb + 16) header = Buffer.allocUnsafeSlow(lb + 16);
    let p = 0;
    header[p++] = TAG_STREAMS;
    p = writeVarint(header, p, layout.streamLens[s]!);
    if (lb !== 0) {
      header[p++] = TAG_LABELS;
      p = writeVarint(header, p, lb);
      p += header.write(stream.labels, p, 'utf8');
    }
    sink.write(header, p);
    stream.records.writeTo(sink);
  }
}

/** The uncompressed protobuf `PushRequest` of streams whose entries are encoded already, in its own buffer. */
export function encodeRecords(streams: readonly EncodedStream[]): Buffer {
  const layout = requestLayout(streams);
  const out = Buffer.allocUnsafeSlow(layout.total);
  let p = 0;
  writeRequest(streams, layout, {
    write: (buf, length) => {
      p += buf.copy(out, p, 0, length);
    },
  });
  return out;
}

/** Snappy's block format compresses its input in fragments of this size, each on its own. */
const FRAGMENT_BYTES = 64 * 1024;

/** The bound snappyjs's compressor gives for `n` input bytes. */
const maxCompressedLength = (n: number) => 32 + n + Math.floor(n / 6);

/** A body buffer larger than this (or than a full batch's) is not kept for the next one. */
const MAX_RETAINED_BYTES = 8 * 1024 * 1024;

/**
 * A new body buffer has this much room over the body it is made for, and is made at first for a full
 * batch. Full batches differ in size by a few per cent, and each outgrown buffer stays in memory until
 * a full collection (V8 counts it as external memory, far below the amount that starts one). Grown to
 * fit exactly, the bench's backlog allocated four body buffers (4.0 MiB in all); with a quarter more
 * room, two (3.0 MiB: its first body was a partial batch), and its peak RSS fell by ~1.5 MB. Pages of
 * the room that no body reaches are never touched, so a client of small batches pays only for those.
 */
const BODY_HEADROOM = 1.25;

/**
 * Builds push bodies (snappy block-compressed `PushRequest`s) into one buffer reused from body to body.
 * Each client has one, and sends one body at a time: `encode` may overwrite the previous body, so the
 * caller calls `forget()` when that body may still be read (a request not known to have been written out).
 *
 * The request is never whole in memory: it is written 64 KiB at a time into a fragment buffer, and each
 * full fragment is compressed and appended to the body. Snappy compresses a block's fragments apart
 * (each with a fresh hash table, matches only inside it), so the body is byte for byte what compressing
 * the whole request would give, without a request-sized buffer (1.2 MB for a 1 MiB batch).
 */
export class BodyEncoder implements ByteSink {
  #out: Buffer | undefined;
  /** Bytes of the first buffer: room for the body of a full batch. */
  readonly #initialBytes: number;
  /** The fragment being filled, and the compressor's output for one fragment; shared by all encoders. */
  static readonly #fragment = Buffer.allocUnsafeSlow(FRAGMENT_BYTES);
  static readonly #compressed = Buffer.allocUnsafeSlow(maxCompressedLength(FRAGMENT_BYTES));
  #body: Buffer = EMPTY;
  #bodyLength = 0;
  #fill = 0;

  /**
   * `batchBytes`: the client's batch size. A full batch's request is its line bytes plus each entry's
   * fields (18 bytes for a 100-byte line), so with the headroom the first buffer holds a full batch of
   * lines of ~75 bytes or more.
   */
  constructor(batchBytes = 0) {
    this.#initialBytes = batchBytes > 0 ? Math.ceil(maxCompressedLength(batchBytes) * BODY_HEADROOM) : 0;
  }

  /** The body for `streams`: a view of this encoder's buffer, valid until the next `encode`. */
  encode(streams: readonly EncodedStream[]): Buffer {
    const layout = requestLayout(streams);
    const max = maxCompressedLength(layout.total);
    let out = this.#out;
    if (out === undefined || out.length < max)
      out = Buffer.allocUnsafeSlow(Math.max(Math.ceil(max * BODY_HEADROOM), this.#initialBytes));
    this.#body = out;
    this.#bodyLength = writeVarint(out, 0, layout.total);
    this.#fill = 0;
    writeRequest(streams, layout, this);
    if (this.#fill > 0) this.#compressFragment();
    this.#body = EMPTY;
    this.#out = out.length <= Math.max(MAX_RETAINED_BYTES, this.#initialBytes) ? out : undefined;
    return out.subarray(0, this.#bodyLength);
  }

  /** ByteSink: appends to the current fragment, compressing each one that fills. */
  write(buf: Buffer, length: number): void {
    const fragment = BodyEncoder.#fragment;
    let from = 0;
    while (from < length) {
      const n = Math.min(length - from, FRAGMENT_BYTES - this.#fill);
      buf.copy(fragment, this.#fill, from, from + n);
      this.#fill += n;
      from += n;
      if (this.#fill === FRAGMENT_BYTES) this.#compressFragment();
    }
  }

  #compressFragment(): void {
    const compressed = BodyEncoder.#compressed;
    const length = new SnappyCompressor(BodyEncoder.#fragment.subarray(0, this.#fill)).compressToBuffer(
      compressed,
    );
    // The compressor writes the fragment's own length first (a varint); the body has the request's.
    let start = 0;
    while (compressed[start]! >= 0x80) start++;
    this.#bodyLength += compressed.copy(this.#body, this.#bodyLength, start + 1, length);
    this.#fill = 0;
  }

  /** The last body may still be in use: the next `encode` writes into a new buffer. */
  forget(): void {
    this.#out = undefined;
  }
}

/** The HTTP body of a push of encoded streams, in a buffer of its own. */
export function compressRecords(streams: readonly EncodedStream[]): Buffer {
  return new BodyEncoder().encode(streams);
}

/** Encodes the entries of `streams` as a batch does when they join it. */
export function encodeStreams(streams: readonly PushStream[]): EncodedStream[] {
  return streams.map(stream => {
    const records = new EntryRecords();
    for (const e of stream.entries) records.append(e.sec, e.nsec, e.line, e.metadata);
    return { labels: stream.labels, records };
  });
}

/** The uncompressed protobuf `PushRequest` for `streams`, in a buffer of its own. */
export function encodeProto(streams: readonly PushStream[]): Buffer {
  return encodeRecords(encodeStreams(streams));
}

/** The HTTP body of a push: the `PushRequest` for `streams`, snappy block-compressed. */
export function encodePushRequest(streams: readonly PushStream[]): Buffer {
  return compressRecords(encodeStreams(streams));
}
