//! The shapes that travel between the stages of the flow:
//! follower → (pipeline) → Loki clients → acknowledgements → positions.
//! Nothing here imports another module of the project.

/** A label set: label name → value. Shared and never mutated once built. */
export type Labels = Readonly<Record<string, string>>;

/**
 * One Loki stream: its labels and their rendering in Loki's `{a="b", c="d"}` form (names sorted).
 * Built once per (target, Docker stream) and shared by every entry of that stream.
 */
export interface LokiStream {
  readonly labels: Labels;
  /** Loki's label string, also the key batches group entries by. */
  readonly key: string;
}

/**
 * Receives the final outcome of an entry: called once when every Loki client has accepted it
 * or definitively dropped it (HTTP 400, a drop stage, a line over the size limit…).
 */
export interface AckHandle {
  settle(seq: number): void;
}

/** One log line on its way to Loki. */
export interface LogEntry {
  stream: LokiStream;
  /** Docker timestamp, seconds since the epoch (whole). */
  sec: number;
  /** Docker timestamp, the nanoseconds within `sec` (0…999,999,999). */
  nsec: number;
  line: string;
  /** Loki structured metadata (EntryAdapter field 3), when a stage sets any. */
  metadata?: Labels;
  /** Tenant chosen by a pipeline stage; the client's tenant_id otherwise. */
  tenant?: string;
  /** Who learns the outcome, and under which sequence number. */
  ack: AckHandle;
  seq: number;
  /** How many clients still owe an outcome for this entry (set by the fan-out). */
  pending: number;
}

/**
 * Where entries go. `push` always takes the entry; it returns false when the sink is over its
 * capacity, and the producer must then stop reading and wait for `drained()` before pushing more.
 * This is how a slow or unreachable Loki stops the followers instead of filling memory.
 */
export interface EntrySink {
  push(entry: LogEntry): boolean;
  drained(): Promise<void>;
}

/**
 * A position in one container's log: the timestamp of the last line Loki accepted, and how many
 * lines with exactly that timestamp were accepted (Docker may give several lines one timestamp).
 */
export interface Cursor {
  sec: number;
  nsec: number;
  count: number;
}

/** Reports one client's outcome for an entry; the last one settles the entry with its AckHandle. */
export function settleEntry(entry: LogEntry): void {
  entry.pending -= 1;
  if (entry.pending === 0) entry.ack.settle(entry.seq);
}

/** Renders labels as Loki expects them: `{a="x", b="y\"z"}`, names sorted. */
export function formatLabels(labels: Labels): string {
  const names = Object.keys(labels).sort();
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (i > 0) out += ', ';
    out += `${name}=${JSON.stringify(labels[name])}`;
  }
  return `${out}}`;
}

/** Builds a shared LokiStream for a label set. */
export function lokiStream(labels: Labels): LokiStream {
  const frozen = Object.freeze({ ...labels });
  return { labels: frozen, key: formatLabels(frozen) };
}

/** `sec.nnnnnnnnn`, the form Docker's `since` takes and the positions file stores. */
export function formatTimestamp(sec: number, nsec: number): string {
  return `${sec}.${String(nsec).padStart(9, '0')}`;
}

/** Compares two timestamps: negative, zero or positive. */
export function compareTimestamps(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  return aSec !== bSec ? aSec - bSec : aNsec - bNsec;
}
