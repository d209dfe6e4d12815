//! Promtail's `match` stage: entries whose labels and line match a LogQL `selector` either run the
//! nested `stages` (`action: keep`, the default) or are dropped (`action: drop`, counted under
//! `drop_counter_reason`, default `match_stage`). Other entries go on unchanged. The pipeline runs the
//! nested stages itself (they may hold entries, e.g. a nested multiline).

import type { Mapping } from '../../config/check.js';
import type { Selector } from '../logql.js';
import { parseSelector } from '../logql.js';
import type { PipelineNode } from '../registry.js';
import type { StageIssue } from '../stage.js';
import { stageChecker, stageIssues, stageMapping } from '../stage-config.js';

export interface MatchNode {
  readonly kind: 'match';
  readonly selector: Selector;
  readonly action: 'keep' | 'drop';
  /** Reason drops are counted under. @default 'match_stage' */
  readonly dropReason: string;
  /** `pipeline_name`, when set (Promtail names the nested pipeline's metrics with it). */
  readonly pipelineName: string | undefined;
  /** The nested stages (empty for `action: drop`). */
  readonly stages: readonly PipelineNode[];
}

/** Compiles a nested list of stages; issue paths are relative to the list. */
export type CompileNested = (items: readonly unknown[]) => { nodes: PipelineNode[]; issues: StageIssue[] };

const SPEC = { known: ['selector', 'stages', 'action', 'drop_counter_reason', 'pipeline_name'] };

/** Compiles a `match` stage config, its nested stages through `compileNested`. */
export function compileMatch(
  config: unknown,
  compileNested: CompileNested,
): { node?: MatchNode; issues: StageIssue[] } {
  const issues: StageIssue[] = [];
  const m: Mapping | undefined = stageMapping(
    config,
    'match',
    issues,
    `{selector: '{app="web"}', stages: [...]}`,
  );
  if (m === undefined) return { issues };
  const c = stageChecker();
  c.mapping(m, [], SPEC);
  const pipelineName = c.string(m, [], 'pipeline_name');
  if (pipelineName === '')
    c.issue(['pipeline_name'], 'match stage `pipeline_name` can be omitted but cannot be an empty string');
  const actionText = c.string(m, [], 'action') ?? 'keep';
  const action = actionText === '' ? 'keep' : actionText;
  if (action !== 'keep' && action !== 'drop')
    c.issue(['action'], `match stage \`action\` should be \`keep\` or \`drop\`, got \`${action}\``);
  const dropReason = c.string(m, [], 'drop_counter_reason') || 'match_stage';
  const listed = c.list(m, [], 'stages'); // a value that is not a list is reported here
  const items = listed ?? [];
  const wrongType = listed === undefined && m.stages !== undefined && m.stages !== null;
  if (action === 'keep' && items.length === 0 && !wrongType) {
    c.issue(['stages'], "match stage requires at least one additional stage to be defined in '- stages'");
  } else if (action === 'drop' && items.length > 0) {
    c.issue(['stages'], 'match stage configured to drop entries cannot contain stages');
  }
  const text = c.string(m, [], 'selector');
  let selector: Selector | undefined;
  if (text === undefined || text === '') {
    c.issue(['selector'], 'Missing `selector`: a LogQL stream selector like {app="web"}');
  } else {
    const parsed = parseSelector(text);
    if (parsed.ok) selector = parsed.selector;
    else c.issue(['selector'], parsed.message);
  }
  issues.push(...stageIssues(c));
  let stages: PipelineNode[] = [];
  if (action === 'keep' && items.length > 0) {
    const nested = compileNested(items);
    for (const issue of nested.issues)
      issues.push({ path: ['stages', ...issue.path], message: issue.message });
    stages = nested.nodes;
  }
  if (issues.length > 0 || selector === undefined) return { issues };
  return {
    node: { kind: 'match', selector, action: action as 'keep' | 'drop', dropReason, pipelineName, stages },
    issues,
  };
}
