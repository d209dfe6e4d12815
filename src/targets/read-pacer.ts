//! When a follower reads its logs connection: at the read tick while the container is quiet, in
//! gathered reads while it is busy, as data comes in between, and not at all while the sink is full.
//!
//! The engine writes every log line to the connection on its own, and a unix socket holds only a few
//! hundred such writes, so a reader that keeps up with a busy container wakes up for every dozen lines
//! or so, each time with a read call and an epoll wait of its own: that was a third of docktail's CPU on
//! a backlog. A busy stream (a read soon after the one before, or right after a gathering pause) is
//! paused for GATHER_MS after a small read, so the next read takes what gathered meanwhile, a hundred
//! lines or more (measured in ARCHITECTURE.md, "Gathered reads"). The pause is short enough that the
//! socket does not fill at the engine's rate, so the engine is not held back.
//!
//! A quiet stream (under QUIET_BYTES in the tick period before and so far in this one) pauses after each
//! read until the read tick (read-tick.ts), which resumes every such stream at once, once per batch
//! wait. A stream is never quiet in the period of its first read, so one opened on a backlog reads it
//! at full speed. One that turns busy waits for the tick once (its socket may fill meanwhile, which
//! holds back only the engine's writer for this stream) and then reads as data comes.

/** What the pacer pauses: a logs body. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

/**
 * Bytes a stream reads in one tick period, at most, to be read at the tick. The engine writes each line
 * on its own, and a unix socket holds some hundreds of such writes: 8 KiB is ~60 lines of 100 bytes, far
 * from filling it, so the engine is not held back by a stream waiting for the tick.
 */
export const QUIET_BYTES = 8 * 1024;

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

/** What the pacer needs of the read tick. */
export interface Tick {
  /** The tick period that clock time `now` falls in. */
  period(now: number): number;
  /** Calls `resume` at the next tick. */
  defer(resume: () => void): void;
}

export class ReadPacer {
  readonly #body: Pausable;
  readonly #clock: PacerClock;
  readonly #tick: Tick | undefined;
  #last = Number.NEGATIVE_INFINITY;
  #gathering = false;
  #held = false;
  #stopped = false;
  /** Paused until the next tick. */
  #deferred = false;
  /** The tick period that #periodBytes counts (none before the first read), and whether the one before it was quiet. */
  #period = Number.NaN;
  #periodBytes = 0;
  #quietBefore = false;

  /** `clock` and `tick` must run on the same clock; without a tick, quiet streams read as data comes. */
  constructor(body: Pausable, options: { clock?: PacerClock; tick?: Tick | undefined } = {}) {
    this.#body = body;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#tick = options.tick;
  }

  /** After each read of `bytes` bytes (and after the reader handled it). */
  read(bytes: number): void {
    const now = this.#clock.now();
    const busy = now - this.#last < BUSY_GAP_MS;
    this.#last = now;
    const quiet = this.#tick !== undefined && this.#quiet(now, bytes);
    if (this.#gathering || this.#held || this.#stopped || this.#deferred) return;
    if (quiet && !busy) {
      this.#deferred = true;
      this.#body.pause();
      this.#tick!.defer(() => {
        this.#deferred = false;
        this.#wake();
      });
      return;
    }
    if (!busy || bytes >= GATHER_BELOW_BYTES) return;
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

  /** Counts the read in its tick period; true when the stream is quiet (see the module comment). */
  #quiet(now: number, bytes: number): boolean {
    const period = this.#tick!.period(now);
    if (period !== this.#period) {
      // The period of the first read counts as busy; one with no read at all (period > #period + 1) as quiet.
      this.#quietBefore =
        !Number.isNaN(this.#period) && (period > this.#period + 1 || this.#periodBytes < QUIET_BYTES);
      this.#period = period;
      this.#periodBytes = 0;
    }
    this.#periodBytes += bytes;
    return this.#quietBefore && this.#periodBytes < QUIET_BYTES;
  }

  #wake(): void {
    if (!this.#held && !this.#gathering && !this.#stopped && !this.#deferred) this.#body.resume();
  }
}
