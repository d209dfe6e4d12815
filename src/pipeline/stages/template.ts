//! The `template` stage (Promtail's template.go): runs a Go template over the extracted data and
//! stores the output under `source` (removing the key when the output is empty). In the template,
//! every extracted value that converts to a string is a field, `.Value` is the source's value and
//! `.Entry` is the line.

import type { PipelineEntry, Stage, StageFactory, StageIssue, StageResult } from '../stage.js';
import {
  compileTemplate,
  type GoTemplate,
  type TemplateData,
  TemplateExecError,
} from '../template/template.js';
import { extractedValueString, strictString, structConfig } from './config-values.js';

/** `template:` as written in the config. */
export interface TemplateStageConfig {
  /** Extracted name the output is stored under (created when missing). Required. */
  source: string;
  /** Go template. @default '' (which removes `source`) */
  template?: string;
}

class TemplateStageData implements TemplateData {
  extracted: Record<string, unknown> = {};
  line = '';
  readonly #source: string;

  constructor(source: string) {
    this.#source = source;
  }

  get(name: string): string | undefined {
    if (name === 'Entry') return this.line;
    if (name === 'Value') {
      const value = extractedValueString(this.extracted[this.#source]);
      if (value !== undefined) return value;
    }
    return extractedValueString(this.extracted[name]);
  }

  *entries(): Iterable<readonly [string, string]> {
    for (const name of Object.keys(this.extracted)) {
      const value = this.get(name);
      if (value !== undefined && name !== 'Entry' && name !== 'Value') yield [name, value];
    }
    const value = this.get('Value');
    if (value !== undefined) yield ['Value', value];
    yield ['Entry', this.line];
  }
}

class TemplateStage implements Stage {
  readonly name = 'template';
  readonly #source: string;
  readonly #template: GoTemplate;
  readonly #data: TemplateStageData;

  constructor(source: string, template: GoTemplate) {
    this.#source = source;
    this.#template = template;
    this.#data = new TemplateStageData(source);
  }

  process(entry: PipelineEntry): StageResult {
    this.#data.extracted = entry.extracted;
    this.#data.line = entry.line;
    let out: string;
    try {
      out = this.#template.execute(this.#data);
    } catch (err) {
      if (err instanceof TemplateExecError) return 'keep'; // Promtail leaves the entry unchanged
      throw err;
    }
    if (out === '') delete entry.extracted[this.#source];
    else entry.extracted[this.#source] = out;
    return 'keep';
  }
}

/** Compiles a `template` stage. */
export const createTemplateStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  const m = structConfig(config ?? {}, ['source', 'template'], issues);
  if (m === undefined) return { issues };
  const source = strictString(m, 'source', issues);
  if (source === undefined || source === '')
    issues.push({ path: ['source'], message: 'template source value is required' });
  const template = compileTemplate(strictString(m, 'template', issues) ?? '');
  if (!template.ok) issues.push({ path: ['template'], message: `invalid template: ${template.message}` });
  if (!template.ok || source === undefined || issues.length > 0) return { issues };
  return { stage: new TemplateStage(source, template.template), issues };
};
