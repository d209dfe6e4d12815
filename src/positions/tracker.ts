//! Per-container acknowledgement tracking: which lines Loki has settled, and the cursor they add up to.
//! `CursorTracker` turns out-of-order settles into an in-order committed cursor; `ResumeFilter` skips the
//! lines a cursor already covers when a stream is reopened from it.
//!
//! What a cursor's `count` means. Docker's `since` is inclusive and is only checked until the first line
//! that passes it: after that line the engine forwards every line, even one whose timestamp is older
//! (timestamps are not strictly monotonic; see protocols.md, moby `logfile.go forwarder.Do`). A resume from
//! `since=H` therefore replays exactly "the first line stamped H, and everything after it". So a cursor is
//! (H = the highest timestamp accepted so far, count = how many lines were accepted from the first line
//! stamped H on). With monotonic timestamps this is simply "how many lines carry exactly H"; with an
//! out-of-order line it stays correct, and the committed cursor never moves backwards.

import type { AckHandle, Cursor } from '../core/types.js';
import { compareTimestamps } from '../core/types.js';

/** Options of a CursorTracker; the defaults suit production, tests shrink them. */
export interface CursorTrackerOptions {
  /** Slots allocated up front; rounded up to a power of two. The ring grows past it when needed. @default 64 */
  initialCapacity?: number;
}

// Small, because every followed container has a tracker: 64 slots are ~1 KB, where 1024 made 17 KB of
// a quiet follower's ~28 KB. A burst doubles the ring as needed (amortised O(1)) and it shrinks back.
const DEFAULT_CAPACITY = 64;

function powerOfTwoAtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * Tracks the lines of one container between hand-off and Loki's final answer.
 *
 * The follower calls `issue()` for every line it hands on, in read order (including lines a later stage
 * drops: those are settled too, so counts stay true to the Docker stream). Whoever learns a line's final
 * outcome calls `settle(seq)`, in any order. The committed cursor is that of the highest seq such that every
 * seq up to it is settled; `onCommit` hears about each advance once.
 *
 * The in-flight window lives in a ring of typed arrays (no object per line): issue and settle are O(1)
 * amortised. The ring doubles when full and shrinks back after a burst.
 */
export class CursorTracker implements AckHandle {
  readonly #onCommit: (cursor: Cursor) => void;
  readonly #minCapacity: number;

  // The ring: slot i holds the cursor the container reaches once the line in it (and all before) settle.
  #sec: Float64Array;
  #nsec: Int32Array;
  #count: Uint32Array;
  #settled: Uint8Array;
  #mask: number;

  /** Seq of the oldest line not yet committed; its slot is #headSlot. */
  #head = 0;
  #headSlot = 0;
  /** Seq the next issued line gets. */
  #tail = 0;
  #unsettled = 0;

  // Read side: the cursor after the last issued line (seeded from the initial cursor).
  #readSec = 0;
  #readNsec = 0;
  #readCount = 0;
  #hasRead = false;

  #committed: Cursor | undefined;

  // Shrinking: the largest window seen since #epochStart (a seq); checked once a ring's worth has settled.
  #peak = 0;
  #epochStart = 0;

  constructor(
    initial: Cursor | undefined,
    onCommit: (cursor: Cursor) => void,
    options: CursorTrackerOptions = {},
  ) {
    this.#onCommit = onCommit;
    this.#minCapacity = powerOfTwoAtLeast(Math.max(2, options.initialCapacity ?? DEFAULT_CAPACITY));
    const cap = this.#minCapacity;
    this.#sec = new Float64Array(cap);
    this.#nsec = new Int32Array(cap);
    this.#count = new Uint32Array(cap);
    this.#settled = new Uint8Array(cap);
    this.#mask = cap - 1;
    if (initial !== undefined) {
      this.#committed = { sec: initial.sec, nsec: initial.nsec, count: initial.count };
      this.#readSec = initial.sec;
      this.#readNsec = initial.nsec;
      this.#readCount = initial.count;
      this.#hasRead = true;
    }
  }

  /**
   * Registers the next line handed on, with its Docker timestamp; returns its seq. When the line carries
   * the current highest timestamp (or an older one) the count continues, including from the initial cursor
   * (the follower skipped `initial.count` lines before it); a newer timestamp starts a new count at 1.
   */
  issue(sec: number, nsec: number): number {
    if (!this.#hasRead || compareTimestamps(sec, nsec, this.#readSec, this.#readNsec) > 0) {
      this.#readSec = sec;
      this.#readNsec = nsec;
      this.#readCount = 1;
      this.#hasRead = true;
    } else {
      this.#readCount += 1;
    }
    let window = this.#tail - this.#head;
    if (window === this.#mask + 1) this.#resize((this.#mask + 1) * 2);
    const slot = (this.#headSlot + window) & this.#mask;
    this.#sec[slot] = this.#readSec;
    this.#nsec[slot] = this.#readNsec;
    this.#count[slot] = this.#readCount;
    this.#settled[slot] = 0;
    window += 1;
    if (window > this.#peak) this.#peak = window;
    this.#unsettled += 1;
    const seq = this.#tail;
    this.#tail = seq + 1;
    return seq;
  }

  /**
   * Records the final outcome of line `seq`. A seq already settled, already committed or never issued is
   * ignored: a second settle must not count twice, and a stray one must not throw into a Loki client.
   * `onCommit` runs synchronously when the committed cursor advances; what it throws reaches the caller.
   */
  settle(seq: number): void {
    const offset = seq - this.#head;
    if (offset < 0 || seq >= this.#tail || !Number.isInteger(seq)) return;
    const slot = (this.#headSlot + offset) & this.#mask;
    if (this.#settled[slot] === 1) return;
    this.#settled[slot] = 1;
    this.#unsettled -= 1;
    if (offset !== 0) return;

    // The oldest line settled: move the head over every settled line that follows it.
    const mask = this.#mask;
    let head = this.#head;
    let headSlot = this.#headSlot;
    const tail = this.#tail;
    while (head < tail && this.#settled[headSlot] === 1) {
      head += 1;
      headSlot = (headSlot + 1) & mask;
    }
    const last = (headSlot - 1) & mask;
    const cursor: Cursor = { sec: this.#sec[last]!, nsec: this.#nsec[last]!, count: this.#count[last]! };
    this.#head = head;
    this.#headSlot = headSlot;
    this.#committed = cursor;
    this.#maybeShrink();
    this.#onCommit(cursor);
  }

  /** The cursor Loki has accepted up to (the initial one until something settles). */
  get committed(): Cursor | undefined {
    return this.#committed;
  }

  /** Lines issued and not settled yet. */
  get inFlight(): number {
    return this.#unsettled;
  }

  /** The cursor after the last issued line: where to reopen a stream within this process. */
  get readCursor(): Cursor | undefined {
    if (!this.#hasRead) return undefined;
    return { sec: this.#readSec, nsec: this.#readNsec, count: this.#readCount };
  }

  /** Slots in the ring now (diagnostics and tests). */
  get capacity(): number {
    return this.#mask + 1;
  }

  /** Copies the live window [head, tail) to fresh arrays of `capacity` slots, starting at slot 0. */
  #resize(capacity: number): void {
    const window = this.#tail - this.#head;
    const sec = new Float64Array(capacity);
    const nsec = new Int32Array(capacity);
    const count = new Uint32Array(capacity);
    const settled = new Uint8Array(capacity);
    const oldCap = this.#mask + 1;
    const first = Math.min(window, oldCap - this.#headSlot);
    const from = this.#headSlot;
    sec.set(this.#sec.subarray(from, from + first));
    nsec.set(this.#nsec.subarray(from, from + first));
    count.set(this.#count.subarray(from, from + first));
    settled.set(this.#settled.subarray(from, from + first));
    if (first < window) {
      const rest = window - first;
      sec.set(this.#sec.subarray(0, rest), first);
      nsec.set(this.#nsec.subarray(0, rest), first);
      count.set(this.#count.subarray(0, rest), first);
      settled.set(this.#settled.subarray(0, rest), first);
    }
    this.#sec = sec;
    this.#nsec = nsec;
    this.#count = count;
    this.#settled = settled;
    this.#mask = capacity - 1;
    this.#headSlot = 0;
    this.#epochStart = this.#head;
    this.#peak = window;
  }

  /**
   * After a burst the ring would keep its peak size forever. Once a whole ring's worth of lines has been
   * committed since the last check, shrink if the window never used a quarter of it: the copy is at most
   * a quarter ring and happens at most once per ring of lines, so the cost stays O(1) per line.
   */
  #maybeShrink(): void {
    const capacity = this.#mask + 1;
    if (capacity === this.#minCapacity || this.#head - this.#epochStart < capacity) return;
    if (this.#peak * 4 <= capacity) {
      this.#resize(Math.max(this.#minCapacity, powerOfTwoAtLeast(this.#peak * 2)));
    } else {
      this.#epochStart = this.#head;
      this.#peak = this.#tail - this.#head;
    }
  }
}

/**
 * Skips the lines a resume cursor already covers, while a stream reopened with `since=<cursor>` replays
 * them. Feed it every line (after partial frames are joined) until it says no once; from then on it always
 * says no, at the cost of one field read.
 *
 * - Before the first line stamped at or after the cursor (the anchor), older lines are skipped without
 *   counting: they precede the position (Docker does not send them).
 * - From the anchor on, the first `count` lines with a timestamp not after the cursor are skipped (Docker
 *   forwards older lines after the anchor; the tracker counted them the same way).
 * - The first line past those, or any line stamped after the cursor, ends the skipping.
 */
export class ResumeFilter {
  readonly #sec: number;
  readonly #nsec: number;
  readonly #count: number;
  #anchored = false;
  #skipped = 0;
  #done: boolean;

  constructor(cursor: Cursor | undefined) {
    this.#sec = cursor?.sec ?? 0;
    this.#nsec = cursor?.nsec ?? 0;
    this.#count = cursor?.count ?? 0;
    this.#done = cursor === undefined;
  }

  /** True when the line was accepted before and must not be handed on. */
  skip(sec: number, nsec: number): boolean {
    if (this.#done) return false;
    const cmp = compareTimestamps(sec, nsec, this.#sec, this.#nsec);
    if (cmp > 0) {
      this.#done = true;
      return false;
    }
    if (cmp < 0 && !this.#anchored) return true;
    this.#anchored = true;
    if (this.#skipped < this.#count) {
      this.#skipped += 1;
      return true;
    }
    this.#done = true;
    return false;
  }

  /** False once a line was let through: nothing more will be skipped. */
  get active(): boolean {
    return !this.#done;
  }

  /** Lines skipped as counted by the cursor (older lines before the anchor not included). */
  get skipped(): number {
    return this.#skipped;
  }
}
