//! What the engine gets wrong in a container's log stream, noticed by the follower, logged and counted:
//!
//! - Gaps. A cursor that counts at least one line names a line the engine handed out: the newest one read.
//!   Lines read earlier were all stamped at or before it, so a stream reopened with `since=<cursor>`
//!   (inclusive) starts with a line stamped exactly at the cursor. If the first line is newer, the lines
//!   from the cursor on are gone: json-file/local rotation (`max-size`, `max-file`) dropped them while
//!   docktail was stopped or paused. They cannot be read any more; the gap is logged and counted.
//! - Repeats. Following a json-file log, the engine sends the line it was at when the file rotated twice
//!   (measured on dockerd 20.10: one repeat per rotation; `docker logs` shows it once). A line equal in
//!   stream, timestamp and text to the one just before it is that repeat; Loki too drops such an entry.

import type { Logger } from '../core/logger.js';
import type { Cursor } from '../core/types.js';
import { compareTimestamps, formatTimestamp } from '../core/types.js';
import type { Metrics } from '../metrics/metrics.js';
import { Counter } from '../metrics/prom.js';

interface StreamMetrics {
  gaps: Counter<'container'>;
  gapSeconds: Counter<'container'>;
  repeats: Counter<'container'>;
}

// These belong in metrics/metrics.ts with the others; registered here, once per registry, until they move.
const byRegistry = new WeakMap<Metrics, StreamMetrics>();

function streamMetrics(metrics: Metrics): StreamMetrics {
  let m = byRegistry.get(metrics);
  if (m === undefined) {
    const registers = [metrics.registry];
    const counter = (name: string, help: string) =>
      new Counter({ name, help, labelNames: ['container'], registers });
    m = {
      gaps: counter(
        'docktail_log_gaps_total',
        'Resumes that found the engine no longer holds the log from the saved position (rotated away).',
      ),
      gapSeconds: counter(
        'docktail_log_gap_seconds_total',
        'Seconds of log between the saved position and the oldest line the engine still held.',
      ),
      repeats: counter(
        'docktail_engine_repeated_lines_total',
        'Lines the engine sent twice in a row (same stream, timestamp and text), shipped once.',
      ),
    };
    byRegistry.set(metrics, m);
  }
  return m;
}

/**
 * Checks the first line of a stream resumed at `from`; returns whether lines were missing. Call it once,
 * with the first line (or dropped line) the engine sends, before the resume filter sees it.
 */
export function checkResumeGap(
  from: Cursor,
  sec: number,
  nsec: number,
  container: string,
  metrics: Metrics,
  log: Logger,
): boolean {
  // A count of 0 (a Promtail position, whole seconds) names no line: nothing to expect.
  if (from.count === 0 || compareTimestamps(sec, nsec, from.sec, from.nsec) <= 0) return false;
  const gapSeconds = sec - from.sec + (nsec - from.nsec) / 1e9;
  const m = streamMetrics(metrics);
  m.gaps.inc({ container });
  m.gapSeconds.inc({ container }, gapSeconds);
  log.warn(
    'log lines lost: the engine no longer holds the log from the saved position (rotated away, see the ' +
      "container's max-size/max-file); resuming at the oldest line it has",
    {
      cursor: formatTimestamp(from.sec, from.nsec),
      first_available: formatTimestamp(sec, nsec),
      gap_seconds: Math.round(gapSeconds * 1000) / 1000,
    },
  );
  return true;
}

/** How many recent lines of a stream a repeat is looked for among. */
const RECENT = 8;

/**
 * The last lines of one Docker stream, to recognise the engine sending one of them again (at a
 * json-file rotation, dockerd 20.10 re-sends a line it already streamed; under load not always the very
 * last one). A line with the same timestamp, to the nanosecond, and the same text as a recent one is that
 * repeat: Loki would drop such an entry too, so skipping it changes nothing Loki keeps.
 */
export class LastLine {
  readonly #sec = new Float64Array(RECENT).fill(-1);
  readonly #nsec = new Int32Array(RECENT).fill(-1);
  readonly #text: string[] = new Array<string>(RECENT).fill('');
  #next = 0;

  /** True when the line repeats a recent one (then it must not be shipped); else remembers it. */
  repeats(sec: number, nsec: number, text: string): boolean {
    // Timestamps first: two numbers decide nearly every line without looking at the text.
    for (let i = 0; i < RECENT; i++) {
      if (this.#sec[i] === sec && this.#nsec[i] === nsec && this.#text[i] === text) return true;
    }
    const slot = this.#next;
    this.#sec[slot] = sec;
    this.#nsec[slot] = nsec;
    this.#text[slot] = text;
    this.#next = (slot + 1) % RECENT;
    return false;
  }
}

/** Counts a repeated line and logs it at debug level. */
export function countRepeat(
  sec: number,
  nsec: number,
  container: string,
  metrics: Metrics,
  log: Logger,
): void {
  streamMetrics(metrics).repeats.inc({ container });
  log.debug('the engine sent a line twice; shipped once', { ts: formatTimestamp(sec, nsec) });
}
