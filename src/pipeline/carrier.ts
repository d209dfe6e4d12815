//! The entry as it travels through the stages: the PipelineEntry the stages see, plus what the pipeline
//! needs to hand it on (the LokiStream it came in with, the LogEntry to reuse) and to settle it (its
//! AckHandle and seq; for a multiline block, a CompositeAck over every line it holds).

import type { AckHandle, Labels, LogEntry, LokiStream } from '../core/types.js';
import { formatLabels } from '../core/types.js';
import type { PipelineEntry } from './stage.js';
import type { StreamCache } from './stream-cache.js';

/** One entry inside the pipeline. Stages see it as a PipelineEntry and may change those fields freely. */
export class Carrier implements PipelineEntry {
  labels: Record<string, string>;
  line: string;
  sec: number;
  nsec: number;
  metadata: Record<string, string> | undefined;
  tenant: string | undefined;
  /** The stream the entry came in with: reused downstream when its labels end unchanged. */
  readonly origin: LokiStream;
  /** The LogEntry it came as, handed on again (changed in place); undefined for a joined block. */
  readonly source: LogEntry | undefined;
  readonly ack: AckHandle;
  readonly seq: number;
  #extracted: Record<string, unknown> | undefined;

  constructor(
    origin: LokiStream,
    source: LogEntry | undefined,
    ack: AckHandle,
    seq: number,
    labels: Record<string, string>,
    extracted: Record<string, unknown> | undefined,
    line: string,
    sec: number,
    nsec: number,
  ) {
    this.labels = labels;
    this.#extracted = extracted;
    this.line = line;
    this.sec = sec;
    this.nsec = nsec;
    this.metadata = undefined;
    this.tenant = undefined;
    this.origin = origin;
    this.source = source;
    this.ack = ack;
    this.seq = seq;
  }

  /**
   * Data extracted by the stages. As in Promtail (`Pipeline.Run`), it starts as a copy of the incoming
   * labels, so stages can read them (`source: container`, `{{ .container }}`); the copy is made when a
   * stage first looks, so pipelines that never extract do not pay for it.
   */
  get extracted(): Record<string, unknown> {
    this.#extracted ??= { ...this.origin.labels };
    return this.#extracted;
  }

  set extracted(value: Record<string, unknown>) {
    this.#extracted = value;
  }

  /** Wraps an incoming LogEntry. */
  static of(entry: LogEntry): Carrier {
    const c = new Carrier(
      entry.stream,
      entry,
      entry.ack,
      entry.seq,
      { ...entry.stream.labels },
      undefined,
      entry.line,
      entry.sec,
      entry.nsec,
    );
    if (entry.metadata !== undefined) c.metadata = { ...entry.metadata };
    if (entry.tenant !== undefined) c.tenant = entry.tenant;
    return c;
  }

  /** Reports the final outcome of every line this entry stands for. */
  settle(): void {
    this.ack.settle(this.seq);
  }
}

/**
 * The acknowledgement of a multiline block: settling it settles every line the block joined (each with
 * its own AckHandle, since lines of several containers may share a label set), once.
 */
export class CompositeAck implements AckHandle {
  readonly #handles: AckHandle[] = [];
  readonly #seqs: number[] = [];
  #settled = false;

  add(entry: Carrier): void {
    this.#handles.push(entry.ack);
    this.#seqs.push(entry.seq);
  }

  /** How many lines (or nested blocks) it settles. */
  get size(): number {
    return this.#handles.length;
  }

  settle(_seq: number): void {
    if (this.#settled) return;
    this.#settled = true;
    const handles = this.#handles;
    const seqs = this.#seqs;
    for (let i = 0; i < handles.length; i++) handles[i]!.settle(seqs[i]!);
  }
}

/** Whether a (mutable) label set holds exactly the labels of `base`. */
export function sameLabels(labels: Readonly<Record<string, string>>, base: Labels): boolean {
  let n = 0;
  for (const name in labels) {
    if (base[name] !== labels[name]) return false;
    n++;
  }
  for (const _ in base) n--;
  return n === 0;
}

/**
 * The rendered label set of an entry (`{a="b"}`, names sorted): the incoming stream's key when the
 * labels are unchanged, which is the common case and costs no string building; otherwise found through
 * `cache` (built only on its misses), or rendered.
 */
export function labelsKey(entry: PipelineEntry, cache?: StreamCache): string {
  if (entry instanceof Carrier && sameLabels(entry.labels, entry.origin.labels)) return entry.origin.key;
  if (cache === undefined) return formatLabels(entry.labels);
  return cache.get(entry.labels)?.key ?? '{}';
}
