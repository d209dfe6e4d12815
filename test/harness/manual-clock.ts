// A clock whose time and timers a unit test moves by hand: the shape of the pacer's and the read
// tick's clocks (src/targets/read-pacer.ts, read-tick.ts).

export class ManualClock {
  #now: number;
  #timers: Array<{ at: number; fn: () => void }> = [];
  #afterReads: Array<() => void> = [];
  /** Run after-reads callbacks at once rather than at `reads()`. */
  readonly #immediate: boolean;

  constructor(start: number, options: { afterReadsAtOnce?: boolean } = {}) {
    this.#now = start;
    this.#immediate = options.afterReadsAtOnce ?? false;
  }

  now = (): number => this.#now;

  setTimeout = (fn: () => void, ms: number): unknown => {
    const t = { at: this.#now + ms, fn };
    this.#timers.push(t);
    return t;
  };

  clearTimeout = (handle: unknown): void => {
    this.#timers = this.#timers.filter(t => t !== handle);
  };

  afterReads = (fn: () => void): void => {
    if (this.#immediate) fn();
    else this.#afterReads.push(fn);
  };

  /** Timers not yet run, with the time each is due at. */
  get timers(): ReadonlyArray<{ at: number }> {
    return this.#timers;
  }

  /** Moves the clock to `to`, running the timers due by then in time order, each at its own time. */
  to(to: number): void {
    for (;;) {
      const next = this.#timers.filter(t => t.at <= to).sort((a, b) => a.at - b.at)[0];
      if (next === undefined) break;
      this.#timers = this.#timers.filter(t => t !== next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = to;
  }

  /** Moves the clock by `ms`. */
  advance(ms: number): void {
    this.to(this.#now + ms);
  }

  /** The event loop's poll phase ran (resumed sockets read): the after-reads callbacks run. */
  reads(): void {
    const fns = this.#afterReads;
    this.#afterReads = [];
    for (const fn of fns) fn();
  }
}
