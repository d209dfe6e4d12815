//! One batch of entries for one tenant, grouped by stream, with Promtail's size accounting
//! (line bytes plus structured metadata bytes) and its creation time for the batch-wait check.

import type { LogEntry } from '../core/types.js';
import type { PushStream } from './encode.js';

/** Entries of one stream inside a batch; `labels` is the stream's label string after external labels. */
export interface BatchStream extends PushStream {
  readonly labels: string;
  readonly entries: LogEntry[];
}

/**
 * Bytes an entry counts for in a batch, as Promtail counts them: the line's UTF-8 bytes plus the name
 * and value bytes of its structured metadata. Labels are not counted: they are per stream, not per line.
 */
export function entrySize(entry: LogEntry): number {
  let size = Buffer.byteLength(entry.line, 'utf8');
  const metadata = entry.metadata;
  if (metadata !== undefined) {
    for (const name in metadata) size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(metadata[name]!);
  }
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

  /** Adds `entry` under the (merged) label string `labels`; `size` is its `entrySize`. */
  add(labels: string, entry: LogEntry, size: number): void {
    let stream = this.#streams.get(labels);
    if (stream === undefined) {
      stream = { labels, entries: [] };
      this.#streams.set(labels, stream);
    }
    stream.entries.push(entry);
    this.#bytes += size;
    this.#count += 1;
    if (entry.sec < this.#oldestSec || (entry.sec === this.#oldestSec && entry.nsec < this.#oldestNsec)) {
      this.#oldestSec = entry.sec;
      this.#oldestNsec = entry.nsec;
    }
  }

  /** The streams, in the order they were first seen. */
  streams(): BatchStream[] {
    return [...this.#streams.values()];
  }

  /** Calls `fn` for every entry, stream by stream, in order. */
  forEachEntry(fn: (entry: LogEntry) => void): void {
    for (const stream of this.#streams.values()) for (const entry of stream.entries) fn(entry);
  }

  /** The oldest Docker timestamp in the batch, in seconds since the epoch (NaN when empty). */
  oldestTimestamp(): number {
    return this.#count === 0 ? Number.NaN : this.#oldestSec + this.#oldestNsec / 1e9;
  }

  /**
   * Splits the batch in two halves by entry count (for a 413). The entries are taken stream by stream
   * in order, so the first half holds the earlier entries of every stream it shares with the second:
   * sending the halves in order keeps per-stream order. Both halves are non-empty when count ≥ 2.
   */
  split(): [Batch, Batch] {
    const first = new Batch(this.tenant, this.createdAt);
    const second = new Batch(this.tenant, this.createdAt);
    const half = Math.floor(this.#count / 2);
    let index = 0;
    for (const stream of this.#streams.values()) {
      for (const entry of stream.entries) {
        (index < half ? first : second).add(stream.labels, entry, entrySize(entry));
        index += 1;
      }
    }
    return [first, second];
  }
}
