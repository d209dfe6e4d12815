//! Exponential backoff with jitter, and a sleep that an AbortSignal cuts short.

const { setTimeout: sleepTimer } = process.getBuiltinModule('node:timers/promises');

export interface BackoffOptions {
  /** First wait, in ms. */
  minMs: number;
  /** Longest wait, in ms. */
  maxMs: number;
  /** Each wait is this many times the previous one. @default 2 */
  factor?: number;
  /** Spread of each wait, as a fraction either side (0.2 = ±20 %). @default 0.2 */
  jitter?: number;
}

/** Produces the waits of one retry sequence; `reset()` after a success. */
export class Backoff {
  readonly #min: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  #attempt = 0;

  constructor(options: BackoffOptions) {
    this.#min = options.minMs;
    this.#max = Math.max(options.maxMs, options.minMs);
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.2;
  }

  /** How many waits were handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next wait in ms, jittered, never above the maximum. */
  next(): number {
    const base = Math.min(this.#max, this.#min * this.#factor ** this.#attempt);
    this.#attempt += 1;
    const spread = base * this.#jitter;
    const jittered = base - spread + Math.random() * 2 * spread;
    return Math.max(0, Math.min(this.#max, Math.round(jittered)));
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Waits `ms`; resolves false (instead of throwing) when `signal` aborts first. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await sleepTimer(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
