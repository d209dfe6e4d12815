//! One batch of entries for one tenant, grouped by stream, with Promtail's size accounting
//! (line bytes plus structured metadata bytes) and its creation time for the batch-wait check.
//!
//! An entry is encoded when it is added (encode.ts `EntryRecords`): the batch keeps its bytes and who
//! settles it, not the entry. With one client that is the entry's AckHandle and seq, kept in runs of
//! consecutive seqs, so the entry object and its line string die young; with several clients it is the
//! entry itself, whose `pending` count the last client's outcome brings to zero.

import type { AckHandle, LogEntry } from '../core/types.js';
import { settleEntry } from '../core/types.js';
import { type EncodedStream, EntryRecords } from './encode.js';

/** Entries of one stream inside a batch; `labels` is the stream's label string after external labels. */
interface BatchStream extends EncodedStream {
  readonly labels: string;
  readonly records: EntryRecords;
  /**
   * Who settles the entries, in runs: run i settles seqs `firsts[i]` … `firsts[i] + counts[i] - 1` with
   * the AckHandle `owners[i]`, or (when `firsts[i]` is -1) is one entry shared by several clients. A
   * container's lines follow one another with consecutive seqs, so a busy stream's batch is one run:
   * nothing per line stays on the heap while the batch waits.
   */
  readonly owners: Array<AckHandle | LogEntry>;
  readonly firsts: number[];
  readonly counts: number[];
}

/**
 * Bytes an entry counts for in a batch, as Promtail counts them: the line's UTF-8 bytes plus the name
 * and value bytes of its structured metadata. Labels are not counted: they are per stream, not per line.
 */
export function entrySize(entry: LogEntry): number {
  const size = Buffer.byteLength(entry.line, 'utf8');
  return entry.metadata === undefined ? size : size + metadataSize(entry);
}

/**
 * At least `entrySize(entry)`, without measuring the line: a UTF-16 unit is at most 3 UTF-8 bytes. Lets
 * the client measure exactly only an entry that may not fit its batch.
 */
export function entrySizeBound(entry: LogEntry): number {
  return entry.metadata === undefined ? 3 * entry.line.length : 3 * entry.line.length + metadataSize(entry);
}

function metadataSize(entry: LogEntry): number {
  let size = 0;
  const metadata = entry.metadata!;
  for (const name in metadata) size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(metadata[name]!);
  return size;
}

export class Batch {
  readonly tenant: string;
  /** `performance.now()` when the batch was created: its age decides when it is sent. */
  readonly createdAt: number;
  readonly #streams = new Map<string, BatchStream>();
  #bytes = 0;
  #count = 0;
  // Oldest Docker timestamp in the batch, for the latency metric.
  #oldestSec = Number.POSITIVE_INFINITY;
  #oldestNsec = 0;

  constructor(tenant: string, createdAt: number = performance.now()) {
    this.tenant = tenant;
    this.createdAt = createdAt;
  }

  /** Line (and metadata) bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries held. */
  get count(): number {
    return this.#count;
  }

  /** Number of streams. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Encodes `entry` under the (merged) label string `labels`; returns its size (see `entrySize`). */
  add(labels: string, entry: LogEntry): number {
    let stream = this.#streams.get(labels);
    if (stream === undefined) {
      stream = { labels, records: new EntryRecords(), owners: [], firsts: [], counts: [] };
      this.#streams.set(labels, stream);
    }
    const size = stream.records.append(entry.sec, entry.nsec, entry.line, entry.metadata);
    const { owners, firsts, counts } = stream;
    const last = owners.length - 1;
    if (entry.pending !== 1) {
      owners.push(entry);
      firsts.push(-1);
      counts.push(1);
    } else if (
      last >= 0 &&
      owners[last] === entry.ack &&
      firsts[last]! >= 0 &&
      firsts[last]! + counts[last]! === entry.seq
    ) {
      counts[last]! += 1;
    } else {
      owners.push(entry.ack);
      firsts.push(entry.seq);
      counts.push(1);
    }
    this.#bytes += size;
    this.#count += 1;
    if (entry.sec < this.#oldestSec || (entry.sec === this.#oldestSec && entry.nsec < this.#oldestNsec)) {
      this.#oldestSec = entry.sec;
      this.#oldestNsec = entry.nsec;
    }
    return size;
  }

  /** The streams with their encoded entries, in the order they were first seen. */
  streams(): EncodedStream[] {
    return [...this.#streams.values()];
  }

  /**
   * Reports this client's outcome for every entry, stream by stream, in order. An error thrown while
   * settling one entry goes to `onError` and the others are still settled.
   */
  settle(onError: (err: unknown) => void): void {
    for (const stream of this.#streams.values()) {
      const { owners, firsts, counts } = stream;
      for (let i = 0; i < owners.length; i++) {
        const first = firsts[i]!;
        if (first < 0) {
          try {
            settleEntry(owners[i] as LogEntry);
          } catch (err) {
            onError(err);
          }
          continue;
        }
        const ack = owners[i] as AckHandle;
        const end = first + counts[i]!;
        for (let seq = first; seq < end; seq++) {
          try {
            ack.settle(seq);
          } catch (err) {
            onError(err);
          }
        }
      }
    }
  }

  /** Gives the encoded entries' buffers back for reuse; after its entries are settled. */
  release(): void {
    for (const stream of this.#streams.values()) stream.records.release();
  }

  /** The oldest Docker timestamp in the batch, in seconds since the epoch (NaN when empty). */
  oldestTimestamp(): number {
    return this.#count === 0 ? Number.NaN : this.#oldestSec + this.#oldestNsec / 1e9;
  }

  /**
   * Splits the batch in two halves by entry count (for a 413); this batch keeps its counts but is not
   * to be sent or settled afterwards (the halves are). The entries are
   * taken stream by stream in order, so the first half holds the earlier entries of every stream it
   * shares with the second: sending the halves in order keeps per-stream order. Both halves are
   * non-empty when count ≥ 2.
   */
  split(): [Batch, Batch] {
    const first = new Batch(this.tenant, this.createdAt);
    const second = new Batch(this.tenant, this.createdAt);
    const half = Math.floor(this.#count / 2);
    let index = 0;
    for (const stream of this.#streams.values()) {
      const n = stream.records.count;
      if (index + n <= half) {
        first.#adopt(stream);
      } else if (index >= half) {
        second.#adopt(stream);
      } else {
        const k = half - index;
        const rest = stream.records.splitAt(k);
        const [head, tail] = splitRuns(stream, k);
        second.#adopt({ labels: stream.labels, records: rest, ...tail });
        first.#adopt({ labels: stream.labels, records: stream.records, ...head });
      }
      index += n;
    }
    for (const half of [first, second]) {
      half.#oldestSec = this.#oldestSec;
      half.#oldestNsec = this.#oldestNsec;
    }
    return [first, second];
  }

  #adopt(stream: BatchStream): void {
    this.#streams.set(stream.labels, stream);
    this.#count += stream.records.count;
    this.#bytes += stream.records.accountedBytes();
  }
}

type Runs = Pick<BatchStream, 'owners' | 'firsts' | 'counts'>;

/** The settle runs of a stream's first `k` entries, and of the rest. */
function splitRuns(stream: Runs, k: number): [Runs, Runs] {
  const head: Runs = { owners: [], firsts: [], counts: [] };
  const tail: Runs = { owners: [], firsts: [], counts: [] };
  let index = 0;
  for (let i = 0; i < stream.owners.length; i++) {
    const owner = stream.owners[i]!;
    const first = stream.firsts[i]!;
    const count = stream.counts[i]!;
    const inHead = Math.max(0, Math.min(count, k - index));
    if (inHead > 0) {
      head.owners.push(owner);
      head.firsts.push(first);
      head.counts.push(inHead);
    }
    if (inHead < count) {
      // A shared entry (first -1) is a run of one, so only a run of seqs is ever cut.
      tail.owners.push(owner);
      tail.firsts.push(first < 0 ? first : first + inHead);
      tail.counts.push(count - inHead);
    }
    index += count;
  }
  return [head, tail];
}
