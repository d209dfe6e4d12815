//! Counts the follow streams open on one engine and weighs them against the engine host's inotify
//! budget. dockerd (json-file and local drivers) holds one inotify instance per open follow stream, and
//! `fs.inotify.max_user_instances` (often 128, per user, shared by every root process) caps them; past
//! it the engine silently falls back to polling each extra stream every 200 ms (higher latency, more
//! engine CPU) and leaves no instance for other root processes. docktail warns once with the fix.
//! It also counts the streams' socket reads, for the lines-per-read ratio.

import type { Logger } from '../core/logger.js';

const { readFileSync } = process.getBuiltinModule('node:fs');

/** Where the limit lives on Linux. */
export const INOTIFY_LIMIT_FILE = '/proc/sys/fs/inotify/max_user_instances';

/** Reads `fs.inotify.max_user_instances`; undefined when it cannot be read (not Linux, no /proc). */
export function readInotifyLimit(file: string = INOTIFY_LIMIT_FILE): number | undefined {
  try {
    const value = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A value to suggest: room for twice the streams followed now, and never less than 8192: the warning
 * comes once, at the first stream past the limit, and more containers may follow later.
 */
export function suggestedLimit(open: number): number {
  let n = 8192;
  while (n < open * 2) n *= 2;
  return n;
}

export interface FollowBudgetOptions {
  logger: Logger;
  /**
   * The engine runs on this host (a unix socket), so this host's limit is the engine's. For a remote
   * engine the limit cannot be read from here: streams are counted, and no warning is given.
   */
  local: boolean;
  /** Reads the limit; tests replace it. @default readInotifyLimit */
  readLimit?: () => number | undefined;
}

export class FollowBudget {
  readonly #log: Logger;
  readonly #local: boolean;
  readonly #readLimit: () => number | undefined;
  #open = 0;
  /** Reads of the follow streams' connections since start (docktail_follow_reads_total). */
  reads = 0;
  #limit: number | undefined;
  #limitRead = false;
  #warned = false;

  constructor(options: FollowBudgetOptions) {
    this.#log = options.logger;
    this.#local = options.local;
    this.#readLimit = options.readLimit ?? (() => readInotifyLimit());
  }

  /** Follow streams open now. */
  get open(): number {
    return this.#open;
  }

  /** The engine host's `fs.inotify.max_user_instances`, when known (local engines only). */
  get limit(): number | undefined {
    if (!this.#local) return undefined;
    if (!this.#limitRead) {
      this.#limitRead = true;
      this.#limit = this.#readLimit();
    }
    return this.#limit;
  }

  /** A follow stream opened; warns (once) when the streams now exceed the budget. */
  opened(): void {
    this.#open += 1;
    const limit = this.limit;
    if (this.#warned || limit === undefined || this.#open <= limit) return;
    // The limit may have been raised since it was read: read it again before warning.
    this.#limit = this.#readLimit();
    if (this.#limit === undefined || this.#open <= this.#limit) return;
    this.#warned = true;
    this.#log.warn(
      'following more log streams than fs.inotify.max_user_instances allows: the engine keeps one inotify ' +
        'instance per followed stream and silently polls the others every 200 ms (later lines, more engine ' +
        'CPU), and other root processes on the host get none; raise the limit on the Docker host',
      {
        follow_streams: this.#open,
        max_user_instances: this.#limit,
        fix: `sysctl -w fs.inotify.max_user_instances=${suggestedLimit(this.#open)} (persist it in /etc/sysctl.d/)`,
      },
    );
  }

  /** A follow stream closed. */
  closed(): void {
    if (this.#open > 0) this.#open -= 1;
  }
}
