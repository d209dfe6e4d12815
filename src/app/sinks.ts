//! The sinks the composition root puts in front of the clients: the fan-out that gives every entry to
//! every Loki client (an entry settles when the last client has an outcome for it), and the dry-run sink
//! that prints entries instead of pushing them.

import type { EntrySink, LogEntry } from '../core/types.js';
import { formatTimestamp, settleEntry } from '../core/types.js';

/** Gives each entry to every client; full as soon as one of them is full. */
export class FanOutSink implements EntrySink {
  readonly #sinks: readonly EntrySink[];
  #full: EntrySink[] = [];

  constructor(sinks: readonly EntrySink[]) {
    if (sinks.length === 0) throw new TypeError('Expected at least one client');
    this.#sinks = sinks;
  }

  push(entry: LogEntry): boolean {
    const sinks = this.#sinks;
    entry.pending = sinks.length;
    let ok = true;
    for (let i = 0; i < sinks.length; i++) {
      const sink = sinks[i]!;
      if (!sink.push(entry)) {
        ok = false;
        this.#full.push(sink);
      }
    }
    return ok;
  }

  async drained(): Promise<void> {
    const waiting = this.#full;
    this.#full = [];
    await Promise.all(waiting.map(s => s.drained()));
  }
}

/**
 * `-dry-run`: writes each entry with its labels to stdout and settles it at once. Positions are read
 * but never written in this mode (the store is opened read-only), so a dry run changes nothing.
 */
export class DryRunSink implements EntrySink {
  readonly #out: NodeJS.WritableStream;
  #blocked = false;
  #waiters: (() => void)[] = [];

  constructor(out: NodeJS.WritableStream = process.stdout) {
    this.#out = out;
  }

  push(entry: LogEntry): boolean {
    entry.pending = 1;
    const ts = new Date(entry.sec * 1000).toISOString().replace(/\.\d{3}Z$/, '');
    const frac = formatTimestamp(entry.sec, entry.nsec).split('.')[1];
    const ok = this.#out.write(`${ts}.${frac}Z\t${entry.stream.key}\t${entry.line}\n`);
    settleEntry(entry);
    if (!ok && !this.#blocked) {
      this.#blocked = true;
      this.#out.once('drain', () => {
        this.#blocked = false;
        for (const w of this.#waiters.splice(0)) w();
      });
    }
    return ok;
  }

  drained(): Promise<void> {
    if (!this.#blocked) return Promise.resolve();
    return new Promise(resolve => this.#waiters.push(resolve));
  }
}
