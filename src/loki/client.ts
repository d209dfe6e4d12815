//! One Loki client (one `clients:` entry): takes entries as an EntrySink, batches them per tenant,
//! sends the batches one at a time in order, retries with backoff, and settles every entry exactly once
//! when Loki accepted it or it is definitively dropped. The only importer of p-queue.
//!
//! Policy (Promtail's, with one change): 429, 5xx and network errors are retried; other 4xx drop the
//! batch (Loki already stored the valid entries of a 400); 413 splits the batch. Unlike Promtail, a batch
//! is never dropped after max_retries: the client is marked failing and keeps retrying at the longest
//! backoff, while the held bytes push back on the readers, so Docker keeps the logs until Loki is back.

import PQueue from 'p-queue';
import { Backoff, sleep } from '../core/backoff.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { EntrySink, Labels, LogEntry, LokiStream } from '../core/types.js';
import { lokiStream } from '../core/types.js';
import type { DropReason, Metrics } from '../metrics/metrics.js';
import { Batch, entrySize, entrySizeBound } from './batch.js';
import { BodyEncoder } from './encode.js';
import { HttpTransport, type PushResult, type TlsOptions } from './transport.js';

export interface LokiBackoffOptions {
  /** @default 500 */
  minMs: number;
  /** @default 300000 (5 min) */
  maxMs: number;
  /** Failed tries after which the client reports itself failing (it keeps retrying). @default 10 */
  maxRetries: number;
}

export interface LokiClientOptions {
  /** Name in metrics and logs: the URL without userinfo, or the configured client name. */
  name: string;
  /** Push URL, e.g. `http://loki:3100/loki/api/v1/push`. */
  url: string;
  /** Tenant for entries that carry none; none (no X-Scope-OrgID) when unset. */
  tenantId?: string;
  /** Longest time an entry waits in an open batch. @default 1000 */
  batchWaitMs?: number;
  /** A batch is sent once it holds this many bytes (lines + structured metadata). @default 1048576 */
  batchSizeBytes?: number;
  /** Time limit of one push try. @default 10000 */
  timeoutMs?: number;
  /** Labels added to every stream; a stream's own label of the same name wins. @default {} */
  externalLabels?: Labels;
  /** Extra HTTP headers (cannot replace X-Scope-OrgID). @default {} */
  headers?: Readonly<Record<string, string>>;
  basicAuth?: { username: string; password: string };
  bearerToken?: string;
  tls?: TlsOptions;
  /** @default { minMs: 500, maxMs: 300000, maxRetries: 10 } */
  backoff?: Partial<LokiBackoffOptions>;
  /** Drop a batch answered 429 instead of retrying it. @default false */
  dropRateLimitedBatches?: boolean;
  /** Bytes held (open, queued and in-flight batches) above which `push` returns false. @default max(4 × batchSizeBytes, 4 MiB) */
  maxPendingBytes?: number;
  /** @default 'docktail' */
  userAgent?: string;
  metrics: Metrics;
  logger: Logger;
}

/** What /ready and /targets show about a client. */
export interface LokiClientStatus {
  /** `Date.now()` of the last accepted push. */
  lastPushAt?: number;
  /** The last push error, cleared by the next accepted push. */
  lastError?: string;
  /** A batch is being retried. */
  retrying: boolean;
  /** Since when (`Date.now()`) a batch has failed max_retries times in a row; cleared on success. */
  failingSince?: number;
  /** Entries Loki accepted since start. */
  sentEntries: number;
  /** Line bytes Loki accepted since start. */
  sentBytes: number;
  /** Push tries that failed and were tried again, since start. */
  retries: number;
  /** Entries dropped since start, by reason; a reason appears once it has dropped something. */
  dropped: Partial<Record<DropReason, number>>;
  /** Line bytes held now: open, queued and in-flight batches. */
  pendingBytes: number;
}

/** The part of the status that a push outcome replaces; the counters live beside it. */
type PushHealth = Pick<LokiClientStatus, 'lastPushAt' | 'lastError' | 'retrying' | 'failingSince'>;

/** Merged streams kept per input stream; the cache starts over past this many (target churn). */
const MAX_CACHED_STREAMS = 10_000;

export class LokiClient implements EntrySink {
  readonly name: string;
  readonly #tenantId: string;
  readonly #batchWaitMs: number;
  readonly #batchSizeBytes: number;
  readonly #timeoutMs: number;
  readonly #maxPendingBytes: number;
  readonly #backoff: LokiBackoffOptions;
  readonly #dropRateLimited: boolean;
  readonly #external: Labels | undefined;
  readonly #merged = new Map<string, LokiStream>();
  readonly #transport: HttpTransport;
  readonly #metrics: Metrics;
  readonly #logger: Logger;
  readonly #queue = new PQueue({ concurrency: 1 });
  /** Builds each body into the buffer of the one before: one batch is sent at a time. */
  readonly #bodies: BodyEncoder;
  readonly #batches = new Map<string, Batch>();
  readonly #abort = new AbortController();
  /** The open batches' send-by timers: each batch is sent `batchWaitMs` after its first entry, at `due`. */
  readonly #timers = new Map<Batch, { timer: NodeJS.Timeout; due: number }>();
  #pendingBytes = 0;
  #waiters: Array<() => void> = [];
  #stopping: Promise<void> | undefined;
  #status: PushHealth = { retrying: false };
  // Plain counters beside the metrics, so /targets can show them per client without reading the registry.
  readonly #counts = { sentEntries: 0, sentBytes: 0, retries: 0 };
  readonly #dropped: Partial<Record<DropReason, number>> = {};

  constructor(options: LokiClientOptions) {
    this.name = options.name;
    this.#tenantId = options.tenantId ?? '';
    this.#batchWaitMs = options.batchWaitMs ?? 1000;
    this.#batchSizeBytes = options.batchSizeBytes ?? 1024 * 1024;
    this.#bodies = new BodyEncoder(this.#batchSizeBytes);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxPendingBytes = options.maxPendingBytes ?? Math.max(4 * this.#batchSizeBytes, 4 * 1024 * 1024);
    this.#backoff = { minMs: 500, maxMs: 300_000, maxRetries: 10, ...options.backoff };
    this.#dropRateLimited = options.dropRateLimitedBatches ?? false;
    const external = options.externalLabels ?? {};
    this.#external = Object.keys(external).length > 0 ? external : undefined;
    this.#transport = new HttpTransport({
      url: options.url,
      timeoutMs: this.#timeoutMs,
      userAgent: options.userAgent ?? 'docktail',
      ...(options.headers !== undefined && { headers: options.headers }),
      ...(options.basicAuth !== undefined && { basicAuth: options.basicAuth }),
      ...(options.bearerToken !== undefined && { bearerToken: options.bearerToken }),
      ...(options.tls !== undefined && { tls: options.tls }),
    });
    this.#metrics = options.metrics;
    this.#logger = options.logger.child({ component: 'loki-client', client: this.name });
    this.#metrics.initClient(this.name);
  }

  push(entry: LogEntry): boolean {
    // After stop() nothing more can be sent; the entry stays unsettled and is read again after a restart.
    if (this.#stopping !== undefined) return true;
    const labels = this.#streamOf(entry.stream).key;
    const tenant = entry.tenant ?? this.#tenantId;
    let batch = this.#batches.get(tenant);
    let opened = false;
    if (batch === undefined) {
      batch = this.#open(tenant);
      opened = true;
    } else if (
      // The line is measured only when it may not fit (the bound is 3 bytes per UTF-16 unit).
      batch.bytes + entrySizeBound(entry) > this.#batchSizeBytes &&
      batch.bytes + entrySize(entry) > this.#batchSizeBytes
    ) {
      this.#dispatch(batch);
      batch = this.#open(tenant);
      opened = true;
    }
    this.#pendingBytes += batch.add(labels, entry);
    // The gauge follows per batch (opened, sent, settled) rather than per entry, to keep push() cheap.
    if (opened) this.#metrics.pendingBytes.set({ client: this.name }, this.#pendingBytes);
    if (batch.bytes >= this.#batchSizeBytes) this.#dispatch(batch);
    return this.#pendingBytes <= this.#maxPendingBytes;
  }

  drained(): Promise<void> {
    if (this.#pendingBytes <= this.#maxPendingBytes || this.#stopping !== undefined) return Promise.resolve();
    return new Promise(resolve => this.#waiters.push(resolve));
  }

  /** Longest time an entry waits in an open batch (ms). */
  get batchWaitMs(): number {
    return this.#batchWaitMs;
  }

  /**
   * Sends now each open batch whose time comes within `withinMs` (ms): the read tick (read-tick.ts) has
   * just read what the quiet streams held, and the next tick is that far off.
   */
  sendDue(withinMs: number): void {
    if (this.#stopping !== undefined) return;
    const by = performance.now() + withinMs;
    for (const [batch, { due }] of this.#timers) if (due <= by) this.#dispatch(batch);
  }

  /** Bytes held: open, queued and in-flight batches. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  status(): LokiClientStatus {
    return {
      ...this.#status,
      ...this.#counts,
      dropped: { ...this.#dropped },
      pendingBytes: this.#pendingBytes,
    };
  }

  /**
   * Sends every open batch and waits for the queue until `deadlineMs` (default: the per-try timeout
   * plus one second), then aborts what is left. Entries not accepted by then stay unsettled, so their
   * positions do not move and they are read again after a restart. Idempotent.
   */
  stop(options: { deadlineMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.deadlineMs ?? this.#timeoutMs + 1000);
    return this.#stopping;
  }

  /** Cancels retries and the push in flight now (a second signal, or the shutdown deadline). */
  abort(): void {
    this.#abort.abort();
    this.#queue.clear();
  }

  async #stop(deadlineMs: number): Promise<void> {
    for (const batch of [...this.#batches.values()]) this.#dispatch(batch);
    this.#wakeWaiters();
    const idle = this.#queue.onIdle();
    const deadline = new AbortController();
    const inTime = await Promise.race([
      idle.then(() => true),
      sleep(deadlineMs, AbortSignal.any([deadline.signal, this.#abort.signal])).then(() => false),
    ]);
    deadline.abort();
    if (!inTime) {
      this.#logger.warn('stopping before Loki accepted every batch; the rest is read again after a restart', {
        pending_bytes: this.#pendingBytes,
        queued_batches: this.#queue.size + this.#queue.pending,
      });
      this.abort();
      await idle;
    }
    this.#transport.close();
    this.#pendingBytes = 0;
    this.#metrics.pendingBytes.set({ client: this.name }, 0);
  }

  #streamOf(stream: LokiStream): LokiStream {
    const external = this.#external;
    if (external === undefined) return stream;
    let merged = this.#merged.get(stream.key);
    if (merged === undefined) {
      if (this.#merged.size >= MAX_CACHED_STREAMS) this.#merged.clear();
      merged = lokiStream({ ...external, ...stream.labels });
      this.#merged.set(stream.key, merged);
    }
    return merged;
  }

  /**
   * A new open batch for `tenant`, with a timer that sends it `batchWaitMs` after its first entry.
   * Promtail instead checks every batch_wait/10, so an entry could wait up to 1.1 × batch_wait; one timer
   * per batch keeps the wait at batch_wait and wakes the process once per batch rather than 10 times a
   * batch_wait when idle.
   */
  #open(tenant: string): Batch {
    const batch = new Batch(tenant);
    this.#batches.set(tenant, batch);
    const timer = setTimeout(() => this.#dispatch(batch), this.#batchWaitMs);
    timer.unref();
    this.#timers.set(batch, { timer, due: performance.now() + this.#batchWaitMs });
    return batch;
  }

  #dispatch(batch: Batch): void {
    const timer = this.#timers.get(batch);
    if (timer !== undefined) {
      clearTimeout(timer.timer);
      this.#timers.delete(batch);
    }
    if (this.#batches.get(batch.tenant) !== batch) return; // sent already (its timer raced a full batch)
    this.#batches.delete(batch.tenant);
    this.#metrics.pendingBytes.set({ client: this.name }, this.#pendingBytes);
    this.#queue
      .add(async () => {
        try {
          await this.#deliver(batch);
        } finally {
          this.#release(batch.bytes);
        }
      })
      .catch((err: unknown) => this.#logger.error('batch delivery failed', { err: errorMessage(err) }));
  }

  #release(bytes: number): void {
    this.#pendingBytes -= bytes;
    this.#metrics.pendingBytes.set({ client: this.name }, this.#pendingBytes);
    if (this.#pendingBytes <= this.#maxPendingBytes) this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Sends one batch until it is accepted, dropped, or the client is aborted. */
  async #deliver(batch: Batch): Promise<void> {
    const signal = this.#abort.signal;
    const body = this.#bodies.encode(batch.streams());
    const backoff = new Backoff({ minMs: this.#backoff.minMs, maxMs: this.#backoff.maxMs });
    let failures = 0;
    for (;;) {
      if (signal.aborted) return;
      const started = performance.now();
      const result = await this.#transport.send(body, batch.tenant, signal);
      this.#metrics.requestDuration.observe(
        { client: this.name, status_code: statusLabel(result) },
        (performance.now() - started) / 1000,
      );
      if (result.status === 'success') {
        if (result.bodyWritten !== true) this.#bodies.forget();
        this.#accepted(batch);
        return;
      }
      // No answer, or one that may have come before the whole body was read: its buffer is not reused.
      this.#bodies.forget();
      if (signal.aborted) return;
      const message = errorMessage(result.error);
      this.#status.lastError = message;
      if (result.status === 'failure') {
        await this.#rejected(batch, result.statusCode, message);
        return;
      }
      if (result.statusCode === 429 && this.#dropRateLimited) {
        this.#drop(batch, 'rate_limited', message);
        return;
      }
      failures += 1;
      this.#status.retrying = true;
      this.#metrics.retries.inc({ client: this.name, reason: statusLabel(result) });
      this.#counts.retries += 1;
      const exhausted = this.#backoff.maxRetries > 0 && failures >= this.#backoff.maxRetries;
      let waitMs = exhausted ? this.#backoff.maxMs : backoff.next();
      // Retry-After is a lower bound on the wait, capped at the longest backoff.
      if (result.retryAfterMs !== undefined)
        waitMs = Math.min(this.#backoff.maxMs, Math.max(waitMs, result.retryAfterMs));
      const fields = {
        tenant: batch.tenant,
        status: result.statusCode,
        err: message,
        tries: failures,
        wait_ms: waitMs,
      };
      if (exhausted && this.#status.failingSince === undefined) {
        this.#status.failingSince = Date.now();
        this.#logger.error(
          'Loki keeps failing; the batch is kept and retried (readers pause once the buffer is full)',
          fields,
        );
      } else {
        this.#logger.warn('error sending batch, will retry', fields);
      }
      if (!(await sleep(waitMs, signal))) return;
    }
  }

  /** A non-retryable answer: split on 413, otherwise drop (Loki already stored what it could). */
  async #rejected(batch: Batch, statusCode: number, message: string): Promise<void> {
    if (statusCode === 413 && batch.count > 1) {
      this.#logger.warn('batch too large for Loki, sending it in halves', {
        entries: batch.count,
        bytes: batch.bytes,
      });
      const [first, second] = batch.split();
      await this.#deliver(first);
      await this.#deliver(second);
      return;
    }
    this.#drop(batch, statusCode === 413 ? 'too_large' : 'ingester_error', message);
  }

  #accepted(batch: Batch): void {
    const client = this.name;
    this.#metrics.sentEntries.inc({ client }, batch.count);
    this.#metrics.sentBytes.inc({ client }, batch.bytes);
    this.#counts.sentEntries += batch.count;
    this.#counts.sentBytes += batch.bytes;
    this.#metrics.batchLatency.observe({ client }, Math.max(0, Date.now() / 1000 - batch.oldestTimestamp()));
    if (this.#status.failingSince !== undefined) {
      this.#logger.info('Loki accepts pushes again', { failing_ms: Date.now() - this.#status.failingSince });
    }
    this.#status = { retrying: false, lastPushAt: Date.now() };
    this.#settle(batch);
  }

  #drop(batch: Batch, reason: DropReason, message: string): void {
    this.#metrics.droppedEntries.inc({ client: this.name, reason }, batch.count);
    this.#dropped[reason] = (this.#dropped[reason] ?? 0) + batch.count;
    this.#logger.error('Loki rejected a batch; its entries are dropped', {
      tenant: batch.tenant,
      reason,
      entries: batch.count,
      err: message,
    });
    // Loki answered, so it is up: the client is not failing, whatever it thought of this batch.
    this.#status.retrying = false;
    this.#status.failingSince = undefined;
    this.#settle(batch);
  }

  #settle(batch: Batch): void {
    batch.settle(err => this.#logger.error('settling an entry failed', { err: errorMessage(err) }));
    batch.release();
  }
}

/** `status_code` / retry `reason` label: the HTTP status, or `network` when there was no answer. */
function statusLabel(result: PushResult): string {
  return result.statusCode === undefined ? 'network' : String(result.statusCode);
}
