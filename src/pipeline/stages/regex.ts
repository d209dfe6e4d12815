//! The `regex` stage (Promtail's regex.go): matches a Go RE2 expression against the line (or an
//! extracted value) and sets each named group in the extracted data; a named group that took no part
//! in the match is set to the empty string, as Go's FindStringSubmatch gives it.

import { translateGoRegex } from '../../relabel/go-regex.js';
import type { PipelineEntry, Stage, StageFactory, StageIssue, StageResult } from '../stage.js';
import { extractedValueString, strictString, structConfig } from './config-values.js';

/** `regex:` as written in the config. */
export interface RegexStageConfig {
  /** Go RE2 regex; named groups `(?P<name>…)` become extracted values. Required. */
  expression: string;
  /** Extracted value to match instead of the line. @default the line */
  source?: string;
}

class RegexStage implements Stage {
  readonly name = 'regex';
  readonly #regex: RegExp;
  /** [group number, name] of every named group, in order (a later duplicate name wins, as in Go). */
  readonly #groups: ReadonlyArray<readonly [number, string]>;
  readonly #source: string | undefined;

  constructor(regex: RegExp, groups: ReadonlyArray<readonly [number, string]>, source: string | undefined) {
    this.#regex = regex;
    this.#groups = groups;
    this.#source = source;
  }

  process(entry: PipelineEntry): StageResult {
    const input =
      this.#source === undefined ? entry.line : extractedValueString(entry.extracted[this.#source]);
    if (input === undefined) return 'keep';
    const m = this.#regex.exec(input);
    if (m === null) return 'keep';
    for (const [index, name] of this.#groups) entry.extracted[name] = m[index] ?? '';
    return 'keep';
  }
}

/** Compiles a Go regex for a stage; the issue uses Promtail's wording. */
export function compileStageRegex(
  expression: string | undefined,
  issues: StageIssue[],
): { regex: RegExp; groupNames: readonly string[] } | undefined {
  if (expression === undefined || expression === '') {
    issues.push({ path: ['expression'], message: 'expression is required' });
    return undefined;
  }
  const r = translateGoRegex(expression, { anchor: false });
  if (!r.ok) {
    issues.push({ path: ['expression'], message: `could not compile regular expression: ${r.message}` });
    return undefined;
  }
  return r;
}

/** Compiles a `regex` stage. */
export const createRegexStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  const m = structConfig(config ?? {}, ['expression', 'source'], issues);
  if (m === undefined) return { issues };
  const compiled = compileStageRegex(strictString(m, 'expression', issues), issues);
  const source = strictString(m, 'source', issues);
  if (source === '') issues.push({ path: ['source'], message: 'empty source' });
  if (compiled === undefined || issues.length > 0) return { issues };
  const groups: [number, string][] = [];
  compiled.groupNames.forEach((name, index) => {
    if (index > 0 && name !== '') groups.push([index, name]);
  });
  return { stage: new RegexStage(compiled.regex, groups, source), issues };
};
