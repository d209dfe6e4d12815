//! The read tick: quiet streams are read together, once per batch wait, right before the batches go.
//!
//! A quiet container's lines come one per engine write, and reading each as it comes costs a wakeup, an
//! epoll wait and a read per line: for a fleet of quiet containers that was most of docktail's CPU
//! (and of a bare reader's). Their lines wait in a batch for up to `batchwait` anyway, so they can as
//! well wait in the socket: a quiet stream (read-pacer.ts) pauses after a read and is resumed at the next
//! tick, when every such stream reads what gathered meanwhile (SLICE streams per pass of the event loop);
//! right after the last pass the tick sends the batches that are due before the next tick. A line so
//! waits at most one tick in the socket and is then sent at once: its delay stays within `batchwait`
//! plus the send, as a line's in a batch does.

/** Clock and timers, replaceable in tests. */
export interface TickClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Runs `fn` after the reads that the resumed streams are due (node: the check phase after the poll). */
  afterReads(fn: () => void): void;
}

const SYSTEM_CLOCK: TickClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: handle => clearTimeout(handle as NodeJS.Timeout),
  afterReads: fn => setImmediate(fn),
};

/** Streams resumed in one pass of the event loop (their reads run in that pass). */
export const SLICE = 64;

/** Shorter batch waits get no tick: there is too little to gather (measured in README, Performance). */
export const MIN_TICK_MS = 500;

export class ReadTick {
  /** The tick's period (ms): the shortest batch wait of the clients. */
  readonly periodMs: number;
  readonly #afterDrain: () => void;
  readonly #clock: TickClock;
  #waiting: Array<() => void> = [];
  #timer: unknown;
  #stopped = false;

  /**
   * `afterDrain` runs after each tick's reads: it sends what is due before the next tick. A period under
   * MIN_TICK_MS is refused (the agent then runs without a tick).
   */
  constructor(periodMs: number, afterDrain: () => void, clock: TickClock = SYSTEM_CLOCK) {
    if (!(periodMs >= MIN_TICK_MS))
      throw new RangeError(`a read tick needs a period of ${MIN_TICK_MS} ms or more`);
    this.periodMs = periodMs;
    this.#afterDrain = afterDrain;
    this.#clock = clock;
  }

  /** The tick period that time `now` (clock ms) falls in. */
  period(now: number): number {
    return Math.floor(now / this.periodMs);
  }

  /** Calls `resume` at the next tick (the stream has paused itself). */
  defer(resume: () => void): void {
    if (this.#stopped) return;
    this.#waiting.push(resume);
    if (this.#timer !== undefined) return;
    const now = this.#clock.now();
    const next = (this.period(now) + 1) * this.periodMs;
    // +1: node's timers run on a whole-millisecond clock and may fire up to 1 ms before `next`.
    this.#timer = this.#clock.setTimeout(() => this.#tick(), next - now + 1);
  }

  /** Streams waiting for the next tick. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** No more ticks: the followers have stopped, and nothing waits for a read any more. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#waiting = [];
  }

  #tick(): void {
    this.#timer = undefined;
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#resumeFrom(waiting, 0);
  }

  /**
   * Resumes SLICE streams, lets them read, and goes on with the next SLICE: one pass of the event loop
   * reads a bounded number of streams, so a tick over thousands of quiet streams does not hold the loop
   * (timers, /metrics) for the whole of it. After the last slice's reads, the batches go.
   */
  #resumeFrom(waiting: Array<() => void>, from: number): void {
    if (this.#stopped) return;
    const end = Math.min(waiting.length, from + SLICE);
    for (let i = from; i < end; i++) waiting[i]!();
    this.#clock.afterReads(() => {
      if (end < waiting.length) this.#resumeFrom(waiting, end);
      else if (!this.#stopped) this.#afterDrain();
    });
  }
}
