//! The `logfmt` stage (Promtail's logfmt.go): decodes the line (or an extracted value) as logfmt and
//! sets the mapped keys in the extracted data, as strings. Pairs decoded before a syntax error are
//! kept, as Promtail keeps them.

import type { Logger } from '../../core/logger.js';
import { decodeLogfmt, type LogfmtSink } from '../logfmt.js';
import type { PipelineEntry, Stage, StageFactory, StageIssue, StageResult } from '../stage.js';
import { expected, extractedValueString, isMapping, strictString, structConfig } from './config-values.js';

/** `logfmt:` as written in the config. */
export interface LogfmtStageConfig {
  /** Extracted name → logfmt key (empty: the same name). Required, not empty. */
  mapping: Record<string, string>;
  /** Extracted value to parse instead of the line. @default the line */
  source?: string;
}

class LogfmtStage implements Stage, LogfmtSink {
  readonly name = 'logfmt';
  /** logfmt key → extracted name. */
  readonly #byKey: ReadonlyMap<string, string>;
  readonly #source: string | undefined;
  readonly #logger: Logger;
  #extracted: Record<string, unknown> = {};

  constructor(byKey: ReadonlyMap<string, string>, source: string | undefined, logger: Logger) {
    this.#byKey = byKey;
    this.#source = source;
    this.#logger = logger;
  }

  wanted(key: string): boolean {
    return this.#byKey.has(key);
  }

  pair(key: string, value: string): void {
    this.#extracted[this.#byKey.get(key)!] = value;
  }

  process(entry: PipelineEntry): StageResult {
    const input =
      this.#source === undefined ? entry.line : extractedValueString(entry.extracted[this.#source]);
    if (input === undefined) return 'keep';
    this.#extracted = entry.extracted;
    const err = decodeLogfmt(input, this);
    if (err !== undefined) this.#logger.debug('failed to decode logfmt', { err });
    return 'keep';
  }
}

/** Compiles a `logfmt` stage. */
export const createLogfmtStage: StageFactory = (config, ctx) => {
  const issues: StageIssue[] = [];
  const m = structConfig(config ?? {}, ['mapping', 'source'], issues);
  if (m === undefined) return { issues };
  const byKey = new Map<string, string>();
  const mapping = m.mapping;
  if (mapping !== undefined && mapping !== null && !isMapping(mapping)) {
    expected(issues, ['mapping'], 'a mapping of names to logfmt keys', mapping);
  } else if (mapping === undefined || mapping === null || Object.keys(mapping).length === 0) {
    issues.push({ path: ['mapping'], message: 'logfmt mapping is required' });
  } else {
    for (const [name, key] of Object.entries(mapping)) {
      if (key !== null && typeof key !== 'string')
        expected(issues, ['mapping', name], 'a string (a logfmt key)', key);
      else byKey.set(key || name, name);
    }
  }
  const source = strictString(m, 'source', issues);
  if (source === '') issues.push({ path: ['source'], message: 'empty source' });
  if (issues.length > 0) return { issues };
  const logger = ctx.logger.child({ component: 'stage', type: 'logfmt' });
  return { stage: new LogfmtStage(byKey, source, logger), issues };
};
