//! When a follower reads its logs connection: at once while the container is quiet, in gathered reads
//! while it is busy, and not at all while the sink is full.
//!
//! The engine writes every log line to the connection on its own, and a unix socket holds only a few
//! hundred such writes, so a reader that keeps up with a busy container wakes up for every dozen lines
//! or so, each time with a read call and an epoll wait of its own: that was a third of docktail's CPU on
//! a backlog. A busy stream (a read soon after the one before, or right after a gathering pause) is
//! paused for GATHER_MS after a small read, so the next read takes what gathered meanwhile, a hundred
//! lines or more (measured in ARCHITECTURE.md, "Gathered reads"). The pause is short enough that the
//! socket does not fill at the engine's rate, so the engine is not held back, and it costs a quiet
//! container nothing: its reads are far apart and flow as they come.

/** What the pacer pauses: a logs body. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

/** Clock and timer, replaceable in tests. */
export interface PacerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
}

/** A read smaller than this, on a busy stream, is followed by a gathering pause. */
export const GATHER_BELOW_BYTES = 16 * 1024;
/** A read this soon (ms) after the previous one, or after a gathering pause, marks the stream busy. */
export const BUSY_GAP_MS = 1;
/** How long a busy stream gathers before the next read (ms); longer would fill the socket. */
export const GATHER_MS = 1;

const SYSTEM_CLOCK: PacerClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
};

export class ReadPacer {
  readonly #body: Pausable;
  readonly #clock: PacerClock;
  #last = Number.NEGATIVE_INFINITY;
  #gathering = false;
  #held = false;
  #stopped = false;

  constructor(body: Pausable, clock: PacerClock = SYSTEM_CLOCK) {
    this.#body = body;
    this.#clock = clock;
  }

  /** After each read of `bytes` bytes (and after the reader handled it). */
  read(bytes: number): void {
    const now = this.#clock.now();
    const busy = now - this.#last < BUSY_GAP_MS;
    this.#last = now;
    if (!busy || bytes >= GATHER_BELOW_BYTES || this.#gathering || this.#held || this.#stopped) return;
    this.#gathering = true;
    this.#body.pause();
    this.#clock.setTimeout(() => {
      this.#gathering = false;
      this.#last = this.#clock.now();
      this.#wake();
    }, GATHER_MS);
  }

  /** The sink is full: no reads until `release()`. */
  hold(): void {
    this.#held = true;
    this.#body.pause();
  }

  /** The sink drained: reads go on (after a gathering pause, if one is running). */
  release(): void {
    this.#held = false;
    this.#wake();
  }

  /** The body is done with: nothing is resumed any more. */
  stop(): void {
    this.#stopped = true;
  }

  #wake(): void {
    if (!this.#held && !this.#gathering && !this.#stopped) this.#body.resume();
  }
}
