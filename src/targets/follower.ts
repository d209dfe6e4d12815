//! One container's log stream: opens `/containers/{id}/logs?follow=1` from the container's cursor,
//! decodes it into lines, hands them to the sink (pausing while the sink is full), and opens it again
//! when the container starts again or the connection drops. One follower lives as long as its container:
//! across `docker stop`/`start` and restarts, so its read cursor and in-flight lines survive them.

import { Backoff, sleep } from '../core/backoff.js';
import { DockerError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Cursor, EntrySink, LogEntry, LokiStream } from '../core/types.js';
import { formatTimestamp } from '../core/types.js';
import type { DockerClient } from '../docker/client.js';
import { LogDecoder } from '../docker/lines.js';
import type { LogsBody } from '../docker/logs-stream.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CursorTracker } from '../positions/tracker.js';
import { ResumeFilter } from '../positions/tracker.js';
import { ReadPacer } from './read-pacer.js';
import type { ReadTick } from './read-tick.js';
import { checkResumeGap, countRepeat, LastLine } from './stream-checks.js';

export type FollowerState = 'starting' | 'following' | 'stopped' | 'retrying' | 'unsupported' | 'ended';

/** The Loki stream each Docker stream goes to; a missing one is not read at all. */
export interface StreamRoutes {
  stdout?: LokiStream;
  stderr?: LokiStream;
}

export interface FollowerOptions {
  id: string;
  /** Container name with its leading `/`, for logs and metrics. */
  name: string;
  routes: StreamRoutes;
  client: DockerClient;
  sink: EntrySink;
  tracker: CursorTracker;
  maxLineSize: number;
  truncate: boolean;
  metrics: Metrics;
  logger: Logger;
  /** Waits between reopening a stream that dropped while its container runs. */
  backoff?: { minMs: number; maxMs: number };
  /** Where a quiet stream waits between its reads (read-tick.ts); without it, it reads as data comes. */
  readTick?: ReadTick | undefined;
}

/** Snapshot for /targets. */
export interface FollowerStatus {
  state: FollowerState;
  lastError?: string;
  lastLineAt?: number;
  lines: number;
  bytes: number;
  reconnects: number;
}

interface RunInfo {
  tty: boolean;
  running: boolean;
  startedAt: string;
}

/** The same run of the container: still running, and not restarted since `before`. */
function sameRun(before: RunInfo, after: RunInfo): boolean {
  return after.running && after.startedAt === before.startedAt;
}

export class Follower {
  readonly id: string;
  #name: string;
  #routes: StreamRoutes;
  readonly #o: FollowerOptions;
  readonly #abort = new AbortController();
  readonly #log: Logger;
  readonly #backoff: Backoff;
  #state: FollowerState = 'starting';
  #wake: (() => void) | undefined;
  #wakeRequested = false;
  #lastError: string | undefined;
  #lastLineAt: number | undefined;
  #lines = 0;
  #bytes = 0;
  #reconnects = 0;
  #done: Promise<void> | undefined;
  #destroyed = false;
  /** The last inspect failed: logged once per streak of failures, not at every retry. */
  #inspectFailing = false;

  constructor(options: FollowerOptions) {
    this.id = options.id;
    this.#name = options.name;
    this.#routes = options.routes;
    this.#o = options;
    this.#log = options.logger.child({ container: options.name, id: options.id.slice(0, 12) });
    this.#backoff = new Backoff({
      minMs: options.backoff?.minMs ?? 500,
      maxMs: options.backoff?.maxMs ?? 30_000,
    });
  }

  get state(): FollowerState {
    return this.#state;
  }

  status(): FollowerStatus {
    const s: FollowerStatus = {
      state: this.#state,
      lines: this.#lines,
      bytes: this.#bytes,
      reconnects: this.#reconnects,
    };
    if (this.#lastError !== undefined) s.lastError = this.#lastError;
    if (this.#lastLineAt !== undefined) s.lastLineAt = this.#lastLineAt;
    return s;
  }

  /** New labels after a rename (or a config change); the next line uses them. */
  update(name: string, routes: StreamRoutes): void {
    this.#name = name;
    this.#routes = routes;
  }

  /** Starts the loop; resolves when the follower has ended (destroyed container or stop()). */
  start(): Promise<void> {
    this.#done ??= this.#run().catch(err => {
      this.#state = 'ended';
      this.#log.error('follower failed', { err: errorMessage(err) });
    });
    return this.#done;
  }

  /** The container (re)started, or a re-list saw it running: read again if idle. */
  wake(): void {
    this.#wakeRequested = true;
    this.#wake?.();
  }

  /** The container was destroyed: finish reading what the engine still streams, then end. */
  destroyed(): void {
    this.#destroyed = true;
    this.#wake?.();
  }

  /** Stops reading at once; lines already handed on are still delivered by the clients. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    await this.#done;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const info = await this.#inspect();
      if (signal.aborted) break;
      if (info === null) break; // the container is gone, and its logs with it
      if (info === undefined) {
        // The engine did not answer: try again later, without hammering it.
        this.#state = 'retrying';
        await sleep(this.#backoff.next(), signal);
        continue;
      }
      this.#wakeRequested = false;
      const { outcome, after } = await this.#followOnce(info, signal);
      if (signal.aborted) break;
      if (outcome === 'unsupported') {
        // The log driver is fixed when the container is created: no start or re-list makes it readable,
        // so a wake is no reason to try (and warn) again. Only its end ends the wait.
        this.#state = 'unsupported';
        await this.#idle(signal, false);
        break;
      }
      if (after === null || this.#destroyed) break; // gone: the engine streamed all it had
      if (outcome === 'error' || after === undefined || (sameRun(info, after) && !this.#wakeRequested)) {
        // The connection broke or dropped while the same run goes on (or the engine is unreachable):
        // reopen from the read cursor after a pause, so an engine in trouble is not hit by a storm.
        this.#state = 'retrying';
        this.#reconnects += 1;
        this.#o.metrics.followReconnects.inc({ container: this.#name });
        await sleep(this.#backoff.next(), signal);
        continue;
      }
      this.#backoff.reset();
      if (after.running || this.#wakeRequested) continue; // restarted: read the new run at once
      // The stream followed a live run that has now stopped. The engine ends such a stream when the
      // container stops, before the log driver has written what it still held (a last line without
      // `\n` is flushed at the stop, stamped after the exit), so read once more from the cursor: on a
      // stopped container the engine sends what it has and closes (the resume filter skips the rest).
      if (info.running) continue;
      this.#state = 'stopped';
      if (!(await this.#idle(signal))) break;
    }
    this.#state = 'ended';
  }

  /** Waits for wake() (unless `wakes` is false) or destroyed(); false when the follower should end. */
  async #idle(signal: AbortSignal, wakes = true): Promise<boolean> {
    while (!(wakes && this.#wakeRequested) && !this.#destroyed && !signal.aborted) {
      await new Promise<void>(resolve => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
    return !this.#destroyed && !signal.aborted;
  }

  /** undefined: the engine did not answer; null: no such container. */
  async #inspect(): Promise<RunInfo | null | undefined> {
    try {
      const info = await this.#o.client.inspectContainer(this.id, this.#abort.signal);
      if (this.#inspectFailing) {
        this.#inspectFailing = false;
        this.#log.info('the engine answers about the container again');
      }
      if (info === null) return null;
      return {
        tty: info.Config?.Tty === true,
        running: info.State?.Running === true,
        startedAt: info.State?.StartedAt ?? '',
      };
    } catch (err) {
      this.#lastError = errorMessage(err);
      // An engine that is down, restarting or answering garbage: counted, and logged once per streak.
      if (!this.#abort.signal.aborted) {
        this.#o.metrics.discoveryErrors.inc({ host: this.#o.client.name });
        if (!this.#inspectFailing)
          this.#log.warn('cannot inspect the container; retrying', { err: this.#lastError });
        this.#inspectFailing = true;
      }
      return undefined;
    }
  }

  /** Reads one logs stream to its end; `after` is the container as it is once the stream ended. */
  async #followOnce(
    info: RunInfo,
    signal: AbortSignal,
  ): Promise<{ outcome: 'ended' | 'error' | 'unsupported'; after?: RunInfo | null | undefined }> {
    const o = this.#o;
    const tty = info.tty;
    const tracker = o.tracker;
    const from: Cursor | undefined = tracker.readCursor;
    const since = from ? formatTimestamp(from.sec, from.nsec) : '0';
    let body: LogsBody;
    try {
      body = await o.client.openLogs(
        this.id,
        {
          since,
          stdout: this.#routes.stdout !== undefined || tty,
          stderr: this.#routes.stderr !== undefined,
        },
        signal,
      );
    } catch (err) {
      if (signal.aborted) return { outcome: 'ended' };
      this.#lastError = errorMessage(err);
      if (
        err instanceof DockerError &&
        (err.status === 501 || /does not support reading/i.test(err.message))
      ) {
        this.#log.warn('the container log driver cannot be read through the API; not following it', {
          err: this.#lastError,
        });
        return { outcome: 'unsupported' };
      }
      this.#log.warn('could not open the log stream', { err: this.#lastError });
      return { outcome: 'error', after: info };
    }
    this.#state = 'following';

    // Resuming: the engine's `since` is inclusive, so the lines at exactly the cursor's timestamp that
    // were already handed on come again; the filter skips `count` of them.
    const resume = new ResumeFilter(from);
    // The first line must be the one at the cursor; a newer one means the engine lost lines, and a line
    // equal to the one before it on its stream was sent twice by the engine (stream-checks.ts).
    let checkGap = from !== undefined;
    const gap = (sec: number, nsec: number): void => {
      checkGap = false;
      checkResumeGap(from!, sec, nsec, this.#name, o.metrics, this.#log);
    };
    const lastOut = new LastLine();
    const lastErr = new LastLine();
    let full = false;
    let readLines = 0;
    let readBytes = 0;
    let lastLineSec = 0;
    const sink = o.sink;
    const routes = (): StreamRoutes => this.#routes;
    const metrics = o.metrics;

    const decoder = new LogDecoder({
      tty,
      maxLineSize: o.maxLineSize,
      truncate: o.truncate,
      sink: {
        line: (streamName, sec, nsec, text, truncated, bytes) => {
          if (checkGap) gap(sec, nsec);
          if (resume.skip(sec, nsec)) return;
          if ((streamName === 'stdout' ? lastOut : lastErr).repeats(sec, nsec, text)) {
            countRepeat(sec, nsec, this.#name, metrics, this.#log);
            return;
          }
          const route = tty ? routes().stdout : routes()[streamName];
          const seq = tracker.issue(sec, nsec);
          if (route === undefined) {
            tracker.settle(seq);
            return;
          }
          if (truncated) metrics.truncatedEntries.inc({ container: this.#name });
          readLines += 1;
          readBytes += bytes;
          lastLineSec = sec;
          const entry: LogEntry = { stream: route, sec, nsec, line: text, ack: tracker, seq, pending: 0 };
          if (!sink.push(entry)) full = true;
        },
        dropped: (_streamName, sec, nsec) => {
          if (checkGap) gap(sec, nsec);
          if (resume.skip(sec, nsec)) return;
          tracker.settle(tracker.issue(sec, nsec));
          metrics.droppedEntries.inc({ client: '', reason: 'line_too_long' });
        },
        engineError: message => {
          metrics.engineErrors.inc({ container: this.#name });
          this.#lastError = message;
          this.#log.warn('the engine reported an error in the log stream', { err: message });
        },
        protocolError: message => {
          this.#lastError = message;
          this.#log.error('unreadable log stream', { err: message });
        },
      },
    });

    // Each socket read goes to the decoder straight from the connection's read callback (logs-stream.ts),
    // with no stream or promise per read: a quiet container's read is a single line. While the sink is
    // full the body is paused, so the socket fills and the engine is held back by flow control; while
    // the container is quiet, it is read at the read tick, and while it is busy, reads are gathered
    // (read-pacer.ts).
    let failed = false;
    const pacer = new ReadPacer(body, { tick: o.readTick });
    const follows = o.client.follows;
    await new Promise<void>(resolve => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        pacer.stop();
        resolve();
      };
      body.start({
        data: chunk => {
          if (done) return;
          follows.reads += 1;
          decoder.write(chunk);
          if (decoder.stopped) {
            // Unreadable bytes: drop this connection and reopen from the read cursor after a pause.
            failed = true;
            finish();
            return;
          }
          if (readLines > 0) this.#flushCounts(readLines, readBytes, lastLineSec);
          readLines = 0;
          readBytes = 0;
          if (full) {
            full = false;
            pacer.hold();
            void sink.drained().then(() => pacer.release());
          }
          pacer.read(chunk.length);
        },
        done: err => {
          if (err !== undefined && !signal.aborted && !done) {
            failed = true;
            this.#lastError = errorMessage(err);
            this.#log.warn('log stream broke', { err: this.#lastError });
          }
          finish();
        },
      });
    });
    body.destroy();
    if (signal.aborted) return { outcome: 'ended' };
    // A line held without its `\n` at the end of the stream is complete only if the process that wrote
    // it has ended (the container stopped or restarted); if the connection merely dropped, the rest of
    // the line is still coming and the whole line is read again from the cursor.
    const after = await this.#inspect();
    const processEnded = !failed && (after === null || (after !== undefined && !sameRun(info, after)));
    decoder.end(processEnded);
    if (readLines > 0) this.#flushCounts(readLines, readBytes, lastLineSec);
    this.#report();
    if (full) await sink.drained();
    return { outcome: failed ? 'error' : 'ended', after };
  }

  #flushCounts(lines: number, bytes: number, lastSec: number): void {
    this.#lines += lines;
    this.#bytes += bytes;
    this.#lastLineAt = lastSec * 1000;
    // The labelled counters cost more than a quiet container's line (a label hash each): they get the
    // counts at most once a second, and at every scrape (Follower.reportCounts).
    this.#unreportedLines += lines;
    this.#unreportedBytes += bytes;
    Follower.#unreported.add(this);
    Follower.#reportTimer ??= setTimeout(Follower.reportCounts, 1000).unref();
  }

  /** Followers with read counts the metrics have not had yet. */
  static readonly #unreported = new Set<Follower>();
  static #reportTimer: NodeJS.Timeout | undefined;
  #unreportedLines = 0;
  #unreportedBytes = 0;

  /** Hands every follower's pending read counts to the metrics; call before a scrape. */
  static reportCounts(this: void): void {
    clearTimeout(Follower.#reportTimer);
    Follower.#reportTimer = undefined;
    for (const f of Follower.#unreported) f.#report();
    Follower.#unreported.clear();
  }

  #report(): void {
    if (this.#unreportedLines === 0 && this.#unreportedBytes === 0) return;
    this.#o.metrics.readEntries.inc({ container: this.#name }, this.#unreportedLines);
    this.#o.metrics.readBytes.inc({ container: this.#name }, this.#unreportedBytes);
    this.#unreportedLines = 0;
    this.#unreportedBytes = 0;
  }
}
