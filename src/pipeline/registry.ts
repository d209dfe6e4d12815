//! Stage name → factory, and the compilation of a `pipeline_stages` list into pipeline nodes: plain
//! stages (the Stage contract), and the stages the pipeline runs itself (`match`, `multiline`). Every
//! mistake comes back as an issue with its full path, so `-check-syntax` and start-up report them all.

import { isMapping, show, suggest, typeName } from '../config/check.js';
import type { RawPipelineStage } from '../config/schema.js';
import { PIPELINE_STAGE_NAMES } from '../config/schema.js';
import type { Stage, StageContext, StageFactory, StageIssue } from './stage.js';
import { createCriStage } from './stages/cri.js';
import { createDecolorizeStage } from './stages/decolorize.js';
import { createDockerStage } from './stages/docker.js';
import { createDropStage } from './stages/drop.js';
import { createJsonStage } from './stages/json.js';
import { createLabelAllowStage } from './stages/labelallow.js';
import { createLabelDropStage } from './stages/labeldrop.js';
import { createLabelsStage } from './stages/labels.js';
import { createLimitStage } from './stages/limit.js';
import { createLogfmtStage } from './stages/logfmt.js';
import type { MatchNode } from './stages/match.js';
import { compileMatch } from './stages/match.js';
import { createMetricsStage } from './stages/metrics.js';
import type { MultilineConfig } from './stages/multiline.js';
import { compileMultiline } from './stages/multiline.js';
import { createOutputStage } from './stages/output.js';
import { createPackStage } from './stages/pack.js';
import { createRegexStage } from './stages/regex.js';
import { createReplaceStage } from './stages/replace.js';
import { createSamplingStage } from './stages/sampling.js';
import { createStaticLabelsStage } from './stages/static-labels.js';
import { createNonIndexedLabelsStage, createStructuredMetadataStage } from './stages/structured-metadata.js';
import { createTemplateStage } from './stages/template.js';
import { createTenantStage } from './stages/tenant.js';
import { createTimestampStage } from './stages/timestamp.js';

/** A plain stage: changes the entry, or drops it. */
export interface StageNode {
  readonly kind: 'stage';
  readonly stage: Stage;
}

/** A multiline stage: holds lines and hands on blocks. */
export interface MultilineNode {
  readonly kind: 'multiline';
  readonly config: MultilineConfig;
}

export type PipelineNode = StageNode | MatchNode | MultilineNode;

/** Stages that follow the Stage contract, by name. */
const FACTORIES: ReadonlyMap<string, StageFactory> = new Map<string, StageFactory>([
  ['cri', createCriStage],
  ['decolorize', createDecolorizeStage],
  ['docker', createDockerStage],
  ['drop', createDropStage],
  ['json', createJsonStage],
  ['labelallow', createLabelAllowStage],
  ['labeldrop', createLabelDropStage],
  ['labels', createLabelsStage],
  ['limit', createLimitStage],
  ['logfmt', createLogfmtStage],
  ['metrics', createMetricsStage],
  ['non_indexed_labels', createNonIndexedLabelsStage],
  ['output', createOutputStage],
  ['pack', createPackStage],
  ['regex', createRegexStage],
  ['replace', createReplaceStage],
  ['sampling', createSamplingStage],
  ['static_labels', createStaticLabelsStage],
  ['structured_metadata', createStructuredMetadataStage],
  ['template', createTemplateStage],
  ['tenant', createTenantStage],
  ['timestamp', createTimestampStage],
]);

/** Stages Promtail knows that this agent refuses, and why. */
const REFUSED: Readonly<Record<string, string>> = {
  geoip:
    'The `geoip` stage is not served by docktail: it ships no GeoIP database (MaxMind mmdb); remove the stage, or enrich the logs at query time',
  eventlogmessage:
    'The `eventlogmessage` stage is not served by docktail: it reads Windows event logs, and docktail reads Docker container logs only',
  pipeline:
    'Promtail has no runnable `pipeline` stage (it answers "Unknown stage type: pipeline"); nest stages under a `match` stage instead',
};

/**
 * Stages that are checked but change nothing on lines read through the Engine API (see docker.ts and
 * cri.ts): the pipeline skips them, so a pipeline of only these costs nothing per line.
 */
const NO_OPS: ReadonlySet<string> = new Set(['docker', 'cri']);

/** Nested `match` stages deeper than this are refused (YAML aliases can even make them endless). */
const MAX_DEPTH = 16;

/**
 * Stages compiled for one scrape config at most: YAML aliases let a small file name a match whose
 * stages alias it again, nine times over at each level (9¹⁶ stages), which must fail fast instead.
 */
const MAX_STAGES = 10_000;

/** What is left of MAX_STAGES while one list (and the lists nested in it) compiles. */
interface Budget {
  left: number;
}

/** Names of every stage this version runs. */
export function runnableStages(): ReadonlySet<string> {
  return new Set([...FACTORIES.keys(), 'match', 'multiline']);
}

function compileOne(
  name: string,
  config: unknown,
  ctx: StageContext,
  depth: number,
  budget: Budget,
): { node?: PipelineNode; issues: StageIssue[] } {
  budget.left -= 1;
  if (budget.left === -1) {
    return {
      issues: [
        { path: [], message: `more than ${MAX_STAGES} stages in one pipeline (through YAML aliases?)` },
      ],
    };
  }
  if (budget.left < -1) return { issues: [] };
  if (name === 'match') {
    if (depth >= MAX_DEPTH) {
      return { issues: [{ path: [], message: `match stages nested more than ${MAX_DEPTH} deep` }] };
    }
    const r = compileMatch(config, items => listOf(items, ctx, depth + 1, budget));
    return r.node ? { node: r.node, issues: r.issues } : { issues: r.issues };
  }
  if (name === 'multiline') {
    const r = compileMultiline(config);
    return r.config
      ? { node: { kind: 'multiline', config: r.config }, issues: r.issues }
      : { issues: r.issues };
  }
  const factory = FACTORIES.get(name);
  if (factory === undefined) {
    const message =
      REFUSED[name] ??
      `Pipeline stage \`${name}\` is not supported by this version of docktail yet; remove it to start (lines are then shipped without it)`;
    return { issues: [{ path: [], message }] };
  }
  const r = factory(config, ctx);
  if (r.stage === undefined || NO_OPS.has(name)) return { issues: r.issues };
  return { node: { kind: 'stage', stage: r.stage }, issues: r.issues };
}

/**
 * Compiles a list of stages as written in YAML (`- name: config` items), checking each item's shape;
 * issue paths are relative to the list (`[2, 'json', 'expressions']`).
 */
export function compileStageList(
  items: readonly unknown[],
  ctx: StageContext,
): { nodes: PipelineNode[]; issues: StageIssue[] } {
  return listOf(items, ctx, 0, { left: MAX_STAGES });
}

function listOf(
  items: readonly unknown[],
  ctx: StageContext,
  depth: number,
  budget: Budget,
): { nodes: PipelineNode[]; issues: StageIssue[] } {
  const nodes: PipelineNode[] = [];
  const issues: StageIssue[] = [];
  items.forEach((item, i) => {
    const keys = isMapping(item) ? Object.keys(item) : [];
    if (!isMapping(item) || keys.length !== 1) {
      const what = 'a mapping with exactly one key, the stage name (like `- json: {…}`)';
      const found =
        keys.length > 1
          ? `; found ${keys.length} keys: ${keys.map(k => `\`${k}\``).join(', ')}`
          : `, got \`${show(item)}\` (${typeName(item)})`;
      issues.push({ path: [i], message: `Expected \`stages[${i}]\` to be ${what}${found}` });
      return;
    }
    const name = keys[0]!;
    if (!PIPELINE_STAGE_NAMES.has(name)) {
      const hint = suggest(name, PIPELINE_STAGE_NAMES);
      issues.push({
        path: [i, name],
        message: `Unknown pipeline stage \`${name}\`${hint === undefined ? '' : ` (did you mean \`${hint}\`?)`}`,
      });
      return;
    }
    if (budget.left < 0) return;
    const r = compileOne(name, item[name], ctx, depth, budget);
    for (const issue of r.issues) issues.push({ path: [i, name, ...issue.path], message: issue.message });
    if (r.node) nodes.push(r.node);
  });
  return { nodes, issues };
}

/**
 * Compiles a scrape config's `pipeline_stages` (already checked for shape by config validation); issue
 * paths are full (`scrape_configs[0].pipeline_stages[2].regex.expression`).
 */
export function compileStages(
  raw: readonly RawPipelineStage[],
  ctx: StageContext,
): { nodes: PipelineNode[]; issues: StageIssue[] } {
  const nodes: PipelineNode[] = [];
  const issues: StageIssue[] = [];
  const budget: Budget = { left: MAX_STAGES };
  for (const stage of raw) {
    const r = compileOne(stage.name, stage.config, ctx, 0, budget);
    for (const issue of r.issues) {
      issues.push({ path: [...stage.path, stage.name, ...issue.path], message: issue.message });
    }
    if (r.node) nodes.push(r.node);
  }
  return { nodes, issues };
}
