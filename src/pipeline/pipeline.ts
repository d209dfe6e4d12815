//! Runs a scrape config's `pipeline_stages` on every entry, as an EntrySink in front of the clients
//! (Promtail's `Pipeline.Wrap(next)`). Each entry runs through the stages synchronously, in order; a
//! dropped entry is settled at once and counted; a kept one goes downstream with its final labels
//! mapped to a shared LokiStream. Multiline stages hold entries back and hand blocks on later (next first
//! line, timer, stop); a block settles every line it joined only when the block itself is settled.
//! A pacing stage (`limit` without `drop`) may ask for an entry to wait: the pipeline then holds it and
//! every entry behind it, in order, and reports backpressure until they have gone on.

import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { EntrySink, LogEntry, LokiStream } from '../core/types.js';
import type { Metrics } from '../metrics/metrics.js';
import { Carrier, sameLabels } from './carrier.js';
import type { Inspector } from './inspect.js';
import { selects } from './logql.js';
import type { PipelineNode } from './registry.js';
import type { Stage, StageResult } from './stage.js';
import type { MatchNode } from './stages/match.js';
import { Multiline } from './stages/multiline.js';
import { StreamCache } from './stream-cache.js';

export interface PipelineOptions {
  metrics: Metrics;
  logger: Logger;
  /** `-inspect`: print what each stage changed. */
  inspector?: Inspector | undefined;
  /** Distinct label sets (after the stages) whose LokiStream is kept for reuse. @default 10000 */
  streamCacheSize?: number;
}

/** Where a list of steps goes on once it ends: the step after a match in the enclosing list. */
interface Cont {
  readonly steps: readonly Step[];
  readonly index: number;
  readonly outer: Cont | null;
}

type Step =
  | { readonly kind: 'stage'; readonly stage: Stage; readonly paces: boolean }
  | {
      readonly kind: 'match';
      readonly node: MatchNode;
      readonly inner: readonly Step[];
      readonly innerCont: Cont;
    }
  | { readonly kind: 'multiline'; readonly multiline: Multiline };

/** An entry waiting to go on from a given step. */
interface Waiting {
  readonly c: Carrier;
  readonly steps: readonly Step[];
  readonly index: number;
  readonly cont: Cont | null;
}

/** Entries dropped because their labels ended empty (Loki refuses a stream without labels). */
export const EMPTY_LABELS_REASON = 'empty_labels';

/** A pipeline in front of `next`; `stop()` hands on what multiline stages still hold. */
export class PipelineSink implements EntrySink {
  readonly #next: EntrySink;
  readonly #steps: readonly Step[];
  readonly #multilines: Multiline[] = [];
  readonly #metrics: Metrics;
  readonly #logger: Logger;
  readonly #inspector: Inspector | undefined;
  readonly #streams: StreamCache;
  readonly #dropCounters = new Map<string, { inc(): void }>();
  readonly #failures = new Map<Stage, number>();
  #full = false;
  // Pacing: while #pauseTimer runs, entries wait in #waiting (in order) and push() reports full.
  #waiting: Waiting[] = [];
  #waitingHead = 0;
  #pauseTimer: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];
  #stopping = false;

  constructor(nodes: readonly PipelineNode[], next: EntrySink, options: PipelineOptions) {
    this.#next = next;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#inspector = options.inspector;
    this.#streams = new StreamCache(options.streamCacheSize ?? 10_000);
    this.#steps = this.#build(nodes, null);
  }

  /** Lines multiline stages hold right now. */
  get held(): number {
    let n = 0;
    for (const m of this.#multilines) n += m.held;
    return n;
  }

  push(entry: LogEntry): boolean {
    this.#full = false;
    this.#run(Carrier.of(entry), this.#steps, 0, null);
    return !this.#full;
  }

  async drained(): Promise<void> {
    while (this.#pauseTimer !== undefined)
      await new Promise<void>(resolve => this.#idleWaiters.push(resolve));
    await this.#next.drained();
  }

  /**
   * Hands on what the pipeline holds: entries a pacing stage delays (at once), then every multiline
   * block, in stage order (a later multiline gets an earlier one's blocks first).
   */
  stop(): void {
    this.#stopping = true;
    if (this.#pauseTimer !== undefined) {
      clearTimeout(this.#pauseTimer);
      this.#resume();
    }
    for (const m of this.#multilines) m.flushAll();
  }

  /** Turns nodes into steps; each list knows the (static) place it continues at once it ends. */
  #build(nodes: readonly PipelineNode[], outer: Cont | null): Step[] {
    const steps: Step[] = [];
    nodes.forEach((node, i) => {
      const after: Cont = { steps, index: i + 1, outer };
      if (node.kind === 'stage') {
        steps.push({ kind: 'stage', stage: node.stage, paces: typeof node.stage.takeDelay === 'function' });
      } else if (node.kind === 'match') {
        steps.push({ kind: 'match', node, inner: this.#build(node.stages, after), innerCont: after });
      } else {
        const multiline = new Multiline(node.config, c =>
          this.#run(c, after.steps, after.index, after.outer),
        );
        this.#multilines.push(multiline);
        steps.push({ kind: 'multiline', multiline });
      }
    });
    return steps;
  }

  /** Runs an entry from a step on, or queues it behind the entries a pacing stage holds. */
  #run(c: Carrier, steps: readonly Step[], index: number, cont: Cont | null): void {
    if (this.#pauseTimer !== undefined) {
      this.#waiting.push({ c, steps, index, cont });
      this.#full = true;
      return;
    }
    this.#runNow(c, steps, index, cont);
  }

  #runNow(start: Carrier, startSteps: readonly Step[], startIndex: number, startCont: Cont | null): void {
    let c = start;
    let steps = startSteps;
    let i = startIndex;
    let cont = startCont;
    for (;;) {
      while (i < steps.length) {
        const step = steps[i]!;
        if (step.kind === 'stage') {
          if (this.#process(step.stage, c) === 'drop') {
            this.#drop(c, step.stage.dropReason ?? step.stage.name);
            return;
          }
          i++;
          if (step.paces) {
            const delay = step.stage.takeDelay!();
            if (delay > 0 && !this.#stopping) {
              this.#pause({ c, steps, index: i, cont }, delay);
              return;
            }
          }
        } else if (step.kind === 'match') {
          const node = step.node;
          if (!selects(node.selector, c.labels, c.line)) {
            i++;
            continue;
          }
          if (node.action === 'drop') {
            this.#drop(c, node.dropReason);
            return;
          }
          // Promtail's nested pipeline starts, as every pipeline does, by copying labels into extracted.
          const labels = c.labels;
          const extracted = c.extracted;
          for (const name in labels) extracted[name] = labels[name];
          steps = step.inner;
          cont = step.innerCont;
          i = 0;
        } else {
          const out = step.multiline.accept(c);
          if (out === null) return;
          c = out;
          i++;
        }
      }
      if (cont === null) break;
      steps = cont.steps;
      i = cont.index;
      cont = cont.outer;
    }
    this.#emit(c);
  }

  /** Holds `first` (and whatever comes after it) for `delayMs`. */
  #pause(first: Waiting, delayMs: number): void {
    // `first` goes before every entry already waiting: it was taken from the front of the queue.
    if (this.#waitingHead > 0) this.#waiting[--this.#waitingHead] = first;
    else this.#waiting.unshift(first);
    this.#full = true;
    // Not unref'd: entries wait on it, and stop() clears it.
    this.#pauseTimer = setTimeout(() => this.#resume(), delayMs);
  }

  /** The pause is over: entries go on in order until one is delayed again or none is left. */
  #resume(): void {
    this.#pauseTimer = undefined;
    const waiting = this.#waiting;
    while (this.#pauseTimer === undefined && this.#waitingHead < waiting.length) {
      const w = waiting[this.#waitingHead]!;
      waiting[this.#waitingHead++] = undefined as unknown as Waiting;
      this.#runNow(w.c, w.steps, w.index, w.cont);
    }
    if (this.#waitingHead >= waiting.length) {
      this.#waiting = [];
      this.#waitingHead = 0;
    }
    if (this.#pauseTimer === undefined) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** Entries a pacing stage holds right now. */
  get waiting(): number {
    return this.#waiting.length - this.#waitingHead;
  }

  #process(stage: Stage, c: Carrier): StageResult {
    const inspector = this.#inspector;
    try {
      if (inspector === undefined) return stage.process(c);
      const before = inspector.snapshot(c);
      const result = stage.process(c);
      inspector.report(stage.name, before, c, result);
      return result;
    } catch (err) {
      // A stage must not lose the line: it goes on as it was when the stage failed.
      const n = (this.#failures.get(stage) ?? 0) + 1;
      this.#failures.set(stage, n);
      if (n === 1 || n % 10_000 === 0)
        this.#logger.error('pipeline stage failed; the entry goes on', {
          stage: stage.name,
          failures: n,
          err: errorMessage(err),
        });
      return 'keep';
    }
  }

  #drop(c: Carrier, reason: string): void {
    let counter = this.#dropCounters.get(reason);
    if (counter === undefined) {
      counter = this.#metrics.droppedEntries.labels({ client: '', reason });
      this.#dropCounters.set(reason, counter);
    }
    counter.inc();
    c.settle();
  }

  /** The shared LokiStream for the entry's final labels; undefined when none are left. */
  #streamOf(c: Carrier): LokiStream | undefined {
    const origin = c.origin;
    if (sameLabels(c.labels, origin.labels)) return origin.key === '{}' ? undefined : origin;
    return this.#streams.get(c.labels);
  }

  #emit(c: Carrier): void {
    const stream = this.#streamOf(c);
    if (stream === undefined) {
      this.#drop(c, EMPTY_LABELS_REASON);
      return;
    }
    let entry = c.source;
    if (entry !== undefined) {
      entry.stream = stream;
      entry.sec = c.sec;
      entry.nsec = c.nsec;
      entry.line = c.line;
    } else {
      entry = { stream, sec: c.sec, nsec: c.nsec, line: c.line, ack: c.ack, seq: c.seq, pending: 0 };
    }
    const metadata = c.metadata;
    if (metadata !== undefined) {
      for (const _ in metadata) {
        entry.metadata = metadata;
        break;
      }
    }
    if (c.tenant !== undefined) entry.tenant = c.tenant;
    if (!this.#next.push(entry)) this.#full = true;
  }
}

/** Puts a pipeline in front of `next`. */
export function createPipelineSink(
  nodes: readonly PipelineNode[],
  next: EntrySink,
  options: PipelineOptions,
): PipelineSink {
  return new PipelineSink(nodes, next, options);
}
