// Helpers for pipeline and stage tests: entries with a recording acknowledgement, a recording sink that
// can report itself full, and compiling stages from YAML-shaped values.

import type { Logger } from '../../src/core/logger.js';
import { silentLogger } from '../../src/core/logger.js';
import type { AckHandle, EntrySink, LogEntry, LokiStream } from '../../src/core/types.js';
import { lokiStream, settleEntry } from '../../src/core/types.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PipelineOptions } from '../../src/pipeline/pipeline.js';
import { PipelineSink } from '../../src/pipeline/pipeline.js';
import type { PipelineNode } from '../../src/pipeline/registry.js';
import { compileStageList } from '../../src/pipeline/registry.js';
import type { StageContext, StageIssue } from '../../src/pipeline/stage.js';

/** Records every seq settled, in order. */
export class RecordingAck implements AckHandle {
  readonly settled: number[] = [];
  settle(seq: number): void {
    this.settled.push(seq);
  }
}

/** Keeps what it is given; `full` makes push() answer false. Settles nothing by itself. */
export class RecordingSink implements EntrySink {
  readonly entries: LogEntry[] = [];
  full = false;
  drains = 0;
  push(entry: LogEntry): boolean {
    entry.pending = 1;
    this.entries.push(entry);
    return !this.full;
  }
  drained(): Promise<void> {
    this.drains += 1;
    return Promise.resolve();
  }
  /** The client's outcome for every entry received so far. */
  settleAll(): void {
    for (const e of this.entries.splice(0)) settleEntry(e);
  }
}

const streams = new Map<string, LokiStream>();

/** One shared LokiStream per label set, as the target manager builds them. */
export function streamOf(labels: Record<string, string>): LokiStream {
  const s = lokiStream(labels);
  const known = streams.get(s.key);
  if (known) return known;
  streams.set(s.key, s);
  return s;
}

let nextSeq = 0;

/** A LogEntry as a follower hands it on. */
export function logEntry(
  labels: Record<string, string>,
  line: string,
  options: { sec?: number; nsec?: number; ack?: AckHandle; seq?: number } = {},
): LogEntry {
  return {
    stream: streamOf(labels),
    sec: options.sec ?? 1_700_000_000,
    nsec: options.nsec ?? 0,
    line,
    ack: options.ack ?? new RecordingAck(),
    seq: options.seq ?? nextSeq++,
    pending: 0,
  };
}

export function stageContext(metrics = new Metrics(), logger: Logger = silentLogger): StageContext {
  return { jobName: 'test', metrics, logger };
}

/** Compiles YAML-shaped stage items; fails the test on any issue. */
export function compile(items: unknown[], ctx: StageContext = stageContext()): PipelineNode[] {
  const r = compileStageList(items, ctx);
  if (r.issues.length > 0) throw new Error(`unexpected issues: ${JSON.stringify(r.issues)}`);
  return r.nodes;
}

/** The issues of YAML-shaped stage items, as `path: message`. */
export function issuesOf(items: unknown[], ctx: StageContext = stageContext()): string[] {
  return compileStageList(items, ctx).issues.map(
    (i: StageIssue) =>
      `${i.path.map(p => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}: ${i.message}`,
  );
}

/** A pipeline over `items` in front of a recording sink. */
export function pipeline(
  items: unknown[],
  options: Partial<PipelineOptions> = {},
): { sink: PipelineSink; out: RecordingSink; metrics: Metrics } {
  const metrics = options.metrics ?? new Metrics();
  const out = new RecordingSink();
  const nodes = compile(items, stageContext(metrics, options.logger ?? silentLogger));
  const sink = new PipelineSink(nodes, out, { metrics, logger: silentLogger, ...options });
  return { sink, out, metrics };
}

/** The value of docktail_dropped_entries_total for a reason. */
export async function dropped(metrics: Metrics, reason: string): Promise<number> {
  const m = await metrics.droppedEntries.get();
  return m.values.find(v => v.labels.reason === reason && v.labels.client === '')?.value ?? 0;
}
