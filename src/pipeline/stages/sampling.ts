//! The `sampling` stage: keeps each entry with probability `rate` (Promtail's sampling.go).
//!
//! ```yaml
//! - sampling:
//!     rate: 0.1                        # 0.0 … 1.0: the share of entries kept
//!     drop_counter_reason: sampled     # @default sampling_stage
//! ```
//! `rate` defaults to 0 as in Promtail, which keeps nothing; docktail warns about that at load.
//! Each entry is an independent draw (Promtail draws 63 random bits against `rate × (2^63 − 1)`; a
//! uniform draw in [0, 1) below `rate` is the same probability): 1 keeps all, 0 keeps none.

import type { Stage, StageFactory, StageIssue } from '../stage.js';
import { expected, structConfig, weakNumber, weakString } from './config-values.js';

class SamplingStage implements Stage {
  readonly name = 'sampling';
  readonly dropReason: string;
  readonly #rate: number;
  readonly #random: () => number;

  constructor(rate: number, dropReason: string, random: () => number) {
    this.#rate = rate;
    this.dropReason = dropReason;
    this.#random = random;
  }

  process(): 'keep' | 'drop' {
    return this.#random() < this.#rate ? 'keep' : 'drop';
  }
}

/** The sampling stage's factory on a given source of uniform numbers in [0, 1) (tests pass their own). */
export function samplingStageFactory(random: () => number = Math.random): StageFactory {
  return (config, ctx) => {
    const issues: StageIssue[] = [];
    const m = structConfig(config, ['rate', 'drop_counter_reason'], issues);
    if (m === undefined) return { issues };
    const rate = weakNumber(m, 'rate', issues);
    const reason = weakString(m, 'drop_counter_reason', issues);
    if (rate !== undefined && !(rate >= 0 && rate <= 1)) {
      expected(issues, ['rate'], 'a number between 0.0 and 1.0', m.rate);
    }
    if (issues.length > 0) return { issues };
    if (rate === undefined) {
      ctx.logger.warn('sampling stage without `rate` keeps no entry (rate defaults to 0)', {
        job: ctx.jobName,
        stage: 'sampling',
      });
    }
    const dropReason = reason === undefined || reason === '' ? 'sampling_stage' : reason;
    return { stage: new SamplingStage(rate ?? 0, dropReason, random), issues };
  };
}

/** `sampling`: rate, drop_counter_reason. */
export const createSamplingStage: StageFactory = samplingStageFactory();
