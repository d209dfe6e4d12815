//! Reading a stage's YAML config with the same typed readers (and the same messages) as the rest of the
//! config: a Checker whose paths are relative to the stage's own config map.

import type { Mapping } from '../config/check.js';
import { Checker, isMapping, show, typeName } from '../config/check.js';
import { PIPELINE_STAGE_NAMES } from '../config/schema.js';
import type { StageIssue } from './stage.js';

/** A Checker for one stage's config; its issues' paths are relative to that config. */
export function stageChecker(): Checker {
  return new Checker({
    locate: () => undefined,
    scalar: () => undefined,
    expandEnv: false,
    readSecret: () => ({ ok: false, error: 'not available in a pipeline stage' }),
    executableStages: PIPELINE_STAGE_NAMES,
  });
}

/** The Checker's issues as StageIssues. */
export function stageIssues(c: Checker): StageIssue[] {
  return c.issues.map(i => ({ path: i.path, message: i.message }));
}

/** The stage's config as a mapping, or an issue saying what it should be. */
export function stageMapping(
  config: unknown,
  stage: string,
  issues: StageIssue[],
  example: string,
): Mapping | undefined {
  if (isMapping(config)) return config;
  issues.push({
    path: [],
    message: `Expected the \`${stage}\` stage to be a mapping like ${example}, got \`${show(config)}\` (${typeName(config)})`,
  });
  return undefined;
}
