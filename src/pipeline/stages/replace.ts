//! The `replace` stage (Promtail's replace.go): every capture group of every match of a Go RE2
//! expression is replaced by the `replace` template, run with `.Value` set to the captured text and
//! the extracted data as the other fields. The result replaces the line (or the extracted source), and
//! each named group of the first match is set in the extracted data to its replacement.

import { globalRegex, goFindAll } from '../go-match.js';
import type { PipelineEntry, Stage, StageFactory, StageIssue, StageResult } from '../stage.js';
import {
  compileTemplate,
  type GoTemplate,
  type TemplateData,
  TemplateExecError,
} from '../template/template.js';
import { extractedValueString, strictString, structConfig } from './config-values.js';
import { compileStageRegex } from './regex.js';

/** `replace:` as written in the config. */
export interface ReplaceStageConfig {
  /** Go RE2 regex whose capture groups are replaced. Required. */
  expression: string;
  /** Extracted value to work on instead of the line; the result is written back to it. @default the line */
  source?: string;
  /** Template for each captured group (`{{ .Value }}` is the captured text). @default '' (remove it) */
  replace?: string;
}

/** `.` of the replace template: `.Value` is the capture, other names read the extracted data. */
class ReplaceData implements TemplateData {
  value = '';
  extracted: Record<string, unknown> = {};

  get(name: string): string | undefined {
    return name === 'Value' ? this.value : extractedValueString(this.extracted[name]);
  }

  *entries(): Iterable<readonly [string, string]> {
    for (const [k, v] of Object.entries(this.extracted)) {
      const s = extractedValueString(v);
      if (s !== undefined && k !== 'Value') yield [k, s];
    }
    yield ['Value', this.value];
  }
}

class ReplaceStage implements Stage {
  readonly name = 'replace';
  readonly #regex: RegExp;
  readonly #groupNames: readonly string[];
  readonly #template: GoTemplate;
  readonly #source: string | undefined;
  readonly #data = new ReplaceData();

  constructor(
    regex: RegExp,
    groupNames: readonly string[],
    template: GoTemplate,
    source: string | undefined,
  ) {
    this.#regex = globalRegex(regex, true);
    this.#groupNames = groupNames;
    this.#template = template;
    this.#source = source;
  }

  process(entry: PipelineEntry): StageResult {
    const input =
      this.#source === undefined ? entry.line : extractedValueString(entry.extracted[this.#source]);
    if (input === undefined) return 'keep';
    const matches = goFindAll(this.#regex, input);
    if (matches.length === 0) return 'keep';
    this.#data.extracted = entry.extracted;
    let result = '';
    let previousEnd = 0;
    const replaced = new Map<string, string>();
    try {
      for (const m of matches) {
        const indices = m.indices!;
        for (let g = 1; g < indices.length; g++) {
          const span = indices[g];
          if (span === undefined) continue;
          const [start, end] = span;
          const captured = input.slice(start, end);
          this.#data.value = captured;
          const text = this.#template.execute(this.#data);
          // Promtail's rule, nested groups included: a group replaces text only if it starts at or
          // after the end of the last replaced one (or nothing was replaced up to offset 0 yet).
          if (previousEnd === 0 || previousEnd <= start) {
            result += input.slice(previousEnd, start) + text;
            previousEnd = end;
          }
          replaced.set(captured, text);
        }
      }
    } catch (err) {
      if (err instanceof TemplateExecError) return 'keep'; // Promtail leaves the entry unchanged
      throw err;
    }
    result += input.slice(previousEnd);
    if (this.#source === undefined) entry.line = result;
    else entry.extracted[this.#source] = result;
    // Named groups take the replacement of the text they captured in the first match.
    const first = matches[0]!;
    for (let g = 1; g < this.#groupNames.length; g++) {
      const name = this.#groupNames[g]!;
      if (name === '') continue;
      const text = replaced.get(first[g] ?? '');
      if (text !== undefined) entry.extracted[name] = text;
    }
    return 'keep';
  }
}

/** Compiles a `replace` stage. */
export const createReplaceStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  const m = structConfig(config ?? {}, ['expression', 'source', 'replace'], issues);
  if (m === undefined) return { issues };
  const compiled = compileStageRegex(strictString(m, 'expression', issues), issues);
  const source = strictString(m, 'source', issues);
  if (source === '') issues.push({ path: ['source'], message: 'empty source in replace stage' });
  const replace = strictString(m, 'replace', issues) ?? '';
  const template = compileTemplate(replace);
  if (!template.ok) issues.push({ path: ['replace'], message: `invalid template: ${template.message}` });
  if (compiled === undefined || !template.ok || issues.length > 0) return { issues };
  return { stage: new ReplaceStage(compiled.regex, compiled.groupNames, template.template, source), issues };
};
