//! Every metric docktail exports, in one place, on a registry of its own (tests build their own).
//! Counters with a `reason` label are pre-initialised so they are exported before the first event.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from './prom.js';

/**
 * The event-loop delay histogram's timer, in ms. prom-client's default (10 ms) wakes the process 100
 * times a second: 0.64 % of a core on an idle process here, against 0.16 % at 50 ms. A stall shorter
 * than this goes unseen; the ones worth an alert are longer.
 */
export const EVENT_LOOP_RESOLUTION_MS = 50;

/** Why entries were dropped; each one is exported from the start with value 0. */
export const DROP_REASONS = [
  'line_too_long', // over limits_config.max_line_size without truncation
  'ingester_error', // Loki answered 400 (or another non-retryable 4xx)
  'rate_limited', // 429 with drop_rate_limited_batches
  'too_large', // 413 for a single entry
  'relabel', // the target's labels were dropped by relabel_configs
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export class Metrics {
  readonly registry: Registry;
  /** Lines read from the engine, per container name. */
  readonly readEntries: Counter<'container'>;
  readonly readBytes: Counter<'container'>;
  /** Lines longer than the limit that were cut to it. */
  readonly truncatedEntries: Counter<'container'>;
  /** Frames of stream type 3: the engine reporting an error in-band. */
  readonly engineErrors: Counter<'container'>;
  readonly sentEntries: Counter<'client'>;
  readonly sentBytes: Counter<'client'>;
  readonly droppedEntries: Counter<'client' | 'reason'>;
  readonly retries: Counter<'client' | 'reason'>;
  readonly requestDuration: Histogram<'client' | 'status_code'>;
  /** Time from a line's Docker timestamp to Loki's acceptance. */
  readonly batchLatency: Histogram<'client'>;
  readonly activeTargets: Gauge<'state'>;
  readonly droppedTargets: Counter<'reason'>;
  /** Seconds between the newest line read and the committed position, per container. */
  readonly cursorLag: Gauge<'container'>;
  readonly followReconnects: Counter<'container'>;
  readonly discoveryErrors: Counter<'host'>;
  readonly positionsWriteErrors: Counter;
  readonly pendingBytes: Gauge<'client'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    if (options.defaultMetrics) {
      collectDefaultMetrics({
        register: this.registry,
        prefix: 'docktail_',
        eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS,
      });
    }
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Counter<L>({ name, help, labelNames, registers });
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Gauge<L>({ name, help, labelNames, registers });

    this.readEntries = counter('docktail_read_entries_total', 'Log lines read from the engine.', [
      'container',
    ]);
    this.readBytes = counter('docktail_read_bytes_total', 'Bytes of log lines read from the engine.', [
      'container',
    ]);
    this.truncatedEntries = counter(
      'docktail_truncated_entries_total',
      'Lines cut to limits_config.max_line_size.',
      ['container'],
    );
    this.engineErrors = counter(
      'docktail_engine_errors_total',
      'Errors the engine reported inside a log stream (stream type 3).',
      ['container'],
    );
    this.sentEntries = counter('docktail_sent_entries_total', 'Entries Loki accepted.', ['client']);
    this.sentBytes = counter('docktail_sent_bytes_total', 'Line bytes Loki accepted.', ['client']);
    this.droppedEntries = counter('docktail_dropped_entries_total', 'Entries dropped, by reason.', [
      'client',
      'reason',
    ]);
    this.retries = counter('docktail_push_retries_total', 'Pushes tried again, by reason.', [
      'client',
      'reason',
    ]);
    this.requestDuration = new Histogram({
      name: 'docktail_request_duration_seconds',
      help: 'Duration of push requests to Loki.',
      labelNames: ['client', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.batchLatency = new Histogram({
      name: 'docktail_batch_latency_seconds',
      help: "Time from an entry's Docker timestamp to Loki's acceptance of its batch (oldest entry).",
      labelNames: ['client'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    });
    this.activeTargets = gauge('docktail_targets', 'Targets, by state.', ['state']);
    this.droppedTargets = counter('docktail_dropped_targets_total', 'Targets not followed, by reason.', [
      'reason',
    ]);
    this.cursorLag = gauge(
      'docktail_cursor_lag_seconds',
      'Seconds between the newest line read and the position Loki has accepted, per container.',
      ['container'],
    );
    this.followReconnects = counter('docktail_follow_reconnects_total', 'Log streams opened again.', [
      'container',
    ]);
    this.discoveryErrors = counter('docktail_discovery_errors_total', 'Failed calls to the engine API.', [
      'host',
    ]);
    this.positionsWriteErrors = counter(
      'docktail_positions_write_errors_total',
      'Failed writes of the positions file.',
      [],
    );
    this.pendingBytes = gauge('docktail_pending_bytes', 'Line bytes held in memory waiting for Loki.', [
      'client',
    ]);
  }

  /** Exports every drop reason at 0 for a client before the first drop. */
  initClient(client: string): void {
    for (const reason of DROP_REASONS) this.droppedEntries.inc({ client, reason }, 0);
    this.sentEntries.inc({ client }, 0);
    this.sentBytes.inc({ client }, 0);
  }
}
