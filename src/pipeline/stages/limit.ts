//! The `limit` stage: a token-bucket rate limit on entries (Promtail's limit.go, golang.org/x/time/rate).
//!
//! ```yaml
//! - limit:
//!     rate: 10                  # lines per second, above 0
//!     burst: 20                 # bucket size (whole lines), above 0; the bucket starts full
//!     drop: true                # @default false
//!     by_label_name: app        # one bucket per value of this label (needs drop: true)
//!     max_distinct_labels: 10000  # buckets kept, in two generations; lower values are raised to 10000
//! ```
//! - `drop: true`: an entry over the rate is dropped, counted under reason `ratelimit_drop_stage`.
//!   With `by_label_name`, entries without that label are not limited.
//! - `drop: false` (the default): Promtail blocks the pipeline until a token is free, and so pushes back
//!   on the reader. A docktail stage runs synchronously, so this stage reserves the token (the bucket
//!   may go into debt, as `rate.Limiter.Wait` reserves) and keeps the entry; `takeDelay()` then says how
//!   long the entry must wait before it goes on. The pipeline holds it (and every entry behind it, in
//!   order) for that long and reports backpressure meanwhile (push() → false until drained), so the
//!   follower stops reading and the engine keeps the lines: throttled, never lost, as in Promtail.
//! The bucket is shared by every entry that goes through this stage instance: compile one pipeline per
//! job, as Promtail does, and the limit applies to the job.

import type { PipelineEntry, Stage, StageContext, StageFactory, StageIssue } from '../stage.js';
import { expected, structConfig, weakBool, weakNumber, weakString } from './config-values.js';

const { performance } = process.getBuiltinModule('node:perf_hooks');

/** Promtail's `MinReasonableMaxDistinctLabels`: about 1 MiB of buckets. */
export const MIN_MAX_DISTINCT_LABELS = 10_000;
/** The reason entries dropped by this stage are counted under (fixed in Promtail). */
export const LIMIT_DROP_REASON = 'ratelimit_drop_stage';

/**
 * A stage that may ask the pipeline to hold back the entry it has just kept. Only `limit` with
 * `drop: false` is one. (Proposed for stage.ts as an optional `Stage.takeDelay?(): number`.)
 */
export interface PacingStage extends Stage {
  /**
   * Milliseconds the entry kept by the last process() call must wait, from now, before it goes on to
   * the next sink; 0 to go at once. Call it once after each process() that returned 'keep': it resets.
   */
  takeDelay(): number;
}

export function isPacingStage(stage: Stage): stage is PacingStage {
  return typeof (stage as Partial<PacingStage>).takeDelay === 'function';
}

/** golang.org/x/time/rate's Limiter for one token at a time, on a millisecond clock. */
class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  constructor(ratePerSecond: number, burst: number, now: number) {
    this.#perMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  #advance(now: number): void {
    if (now > this.#last) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#perMs);
      this.#last = now;
    }
  }

  /** Takes a token if one is free (`Allow`). */
  allow(now: number): boolean {
    this.#advance(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Takes a token, going into debt if needed, and returns the wait in ms until it is covered (`Reserve`). */
  reserve(now: number): number {
    this.#advance(now);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : -this.#tokens / this.#perMs;
  }
}

interface LimitOptions {
  rate: number;
  burst: number;
  drop: boolean;
  byLabelName: string;
  maxDistinctLabels: number;
}

class LimitStage implements PacingStage {
  readonly name = 'limit';
  readonly dropReason = LIMIT_DROP_REASON;
  readonly #o: LimitOptions;
  readonly #now: () => number;
  readonly #bucket: TokenBucket;
  /** Buckets by label value, in two generations (Loki's GenerationalMap): at most 2 × max are kept. */
  #young = new Map<string, TokenBucket>();
  #old = new Map<string, TokenBucket>();
  #delay = 0;

  constructor(options: LimitOptions, now: () => number) {
    this.#o = options;
    this.#now = now;
    this.#bucket = new TokenBucket(options.rate, options.burst, now());
  }

  process(entry: PipelineEntry): 'keep' | 'drop' {
    const o = this.#o;
    if (o.byLabelName !== '') {
      const value = entry.labels[o.byLabelName];
      if (value === undefined) return 'keep';
      return this.#bucketFor(value).allow(this.#now()) ? 'keep' : 'drop';
    }
    if (o.drop) return this.#bucket.allow(this.#now()) ? 'keep' : 'drop';
    this.#delay = this.#bucket.reserve(this.#now());
    return 'keep';
  }

  takeDelay(): number {
    const delay = this.#delay;
    this.#delay = 0;
    return delay;
  }

  #bucketFor(value: string): TokenBucket {
    let bucket = this.#young.get(value);
    if (bucket !== undefined) return bucket;
    bucket = this.#old.get(value) ?? new TokenBucket(this.#o.rate, this.#o.burst, this.#now());
    this.#young.set(value, bucket);
    if (this.#young.size >= this.#o.maxDistinctLabels) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    return bucket;
  }
}

/** A whole number under WeakDecode (mapstructure truncates a float). */
function weakInt(m: Record<string, unknown>, key: string, issues: StageIssue[]): number | undefined {
  const n = weakNumber(m, key, issues);
  return n === undefined ? undefined : Math.trunc(n);
}

function compile(config: unknown, ctx: StageContext, issues: StageIssue[]): LimitOptions | undefined {
  const m = structConfig(config, ['rate', 'burst', 'drop', 'by_label_name', 'max_distinct_labels'], issues);
  if (m === undefined) return undefined;
  const before = issues.length;
  const rate = weakNumber(m, 'rate', issues);
  const burst = weakInt(m, 'burst', issues);
  const drop = weakBool(m, 'drop', issues) ?? false;
  const byLabelName = weakString(m, 'by_label_name', issues) ?? '';
  let maxDistinctLabels = weakInt(m, 'max_distinct_labels', issues) ?? 0;
  if (issues.length > before) return undefined;
  if (rate === undefined || !(rate > 0)) {
    if (rate === undefined)
      issues.push({ path: [], message: 'limit stage needs `rate`: lines per second, above 0' });
    else expected(issues, ['rate'], 'a number of lines per second above 0', m.rate);
  }
  if (burst === undefined || !(burst > 0)) {
    if (burst === undefined)
      issues.push({ path: [], message: 'limit stage needs `burst`: a whole number of lines, above 0' });
    else expected(issues, ['burst'], 'a whole number of lines above 0', m.burst);
  }
  if (byLabelName !== '' && !drop) {
    issues.push({
      path: ['by_label_name'],
      message: 'When ratelimiting by label, drop must be true (add `drop: true`)',
    });
  }
  if (issues.length > before) return undefined;
  if (byLabelName !== '' && maxDistinctLabels < MIN_MAX_DISTINCT_LABELS) {
    ctx.logger.warn(
      `max_distinct_labels was adjusted up to the minimal reasonable value of ${MIN_MAX_DISTINCT_LABELS}`,
      {
        job: ctx.jobName,
        stage: 'limit',
      },
    );
    maxDistinctLabels = MIN_MAX_DISTINCT_LABELS;
  }
  return { rate: rate!, burst: burst!, drop, byLabelName, maxDistinctLabels };
}

/** The limit stage's factory on a given millisecond clock (tests pass a fake one). */
export function limitStageFactory(now: () => number = () => performance.now()): StageFactory {
  return (config, ctx) => {
    const issues: StageIssue[] = [];
    const options = compile(config, ctx, issues);
    if (options === undefined || issues.length > 0) return { issues };
    return { stage: new LimitStage(options, now), issues };
  };
}

/** `limit`: rate, burst, drop, by_label_name, max_distinct_labels (monotonic clock). */
export const createLimitStage: StageFactory = limitStageFactory();
