//! The `decolorize` stage (Promtail's decolorize.go, Loki's Decolorizer): removes ANSI escape
//! sequences (colours, cursor moves, OSC titles) from the line, with the pattern Loki uses
//! (acarl005/stripansi).

import type { PipelineEntry, Stage, StageFactory, StageIssue, StageResult } from '../stage.js';
import { structConfig } from './config-values.js';

/** `decolorize:` takes no options. */
export type DecolorizeStageConfig = Record<string, never> | null;

// Loki's ansiPattern. Go's regexp is leftmost-first like JavaScript's, so the same text matches.
const ANSI =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC, CSI and BEL are what it removes.
  /[\u001B\u009B][[\]()#;?]*(?:(?:(?:[a-zA-Z\d]*(?:;[a-zA-Z\d]*)*)?\u0007)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PRZcf-ntqry=><~]))/g;

class DecolorizeStage implements Stage {
  readonly name = 'decolorize';

  process(entry: PipelineEntry): StageResult {
    const line = entry.line;
    // Most lines have no escape character: skip the regex for them.
    if (line.indexOf('\u001b') < 0 && line.indexOf('\u009b') < 0) return 'keep';
    entry.line = line.replace(ANSI, '');
    return 'keep';
  }
}

/** Compiles a `decolorize` stage. */
export const createDecolorizeStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  structConfig(config ?? {}, [], issues);
  if (issues.length > 0) return { issues };
  return { stage: new DecolorizeStage(), issues };
};
