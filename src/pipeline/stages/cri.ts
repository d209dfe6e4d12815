//! The `cri` stage: accepted (its options checked), and does nothing.
//!
//! In Promtail, `cri: {}` parses CRI log-file lines (`<time> <stream> <flags> <log>`): a regex stage
//! extracts `time`, `stream`, `flags`, `content`; a labels stage sets the label `stream`; a timestamp
//! stage sets the time; an output stage makes `content` the line; and partial lines (flag `P`) are
//! joined up to `max_partial_lines` (stages/extensions.go, NewCRI).
//!
//! docktail reads through the Engine API, where neither the prefix nor partial-line flags exist: the
//! engine's 16 KiB parts are joined by the decoder (docker/lines.ts), under `limits_config`. So this
//! stage changes nothing: no label, no time, no line. (Promtail, applied to Engine API lines, would
//! still match its regex against an application line that happens to look like
//! `<word> stdout <word> …` and rewrite it; docktail does not reproduce that accident.) For a `stream`
//! label, relabel `__meta_docker_container_log_stream` (see docker.ts).
//!
//! Options, checked as Promtail decodes them and otherwise unused:
//! ```yaml
//! - cri:
//!     max_partial_lines: 100                # @default 100
//!     max_partial_line_size: 262144         # bytes @default 0
//!     max_partial_line_size_truncate: false # @default false
//! ```

import type { Stage, StageFactory, StageIssue } from '../stage.js';
import { expected, parseDatasize, structConfig, weakBool, weakNumber } from './config-values.js';

class CriStage implements Stage {
  readonly name = 'cri';

  process(): 'keep' {
    return 'keep';
  }
}

/** `cri`: a no-op here (see the module comment); the pipeline may skip it altogether. */
export const createCriStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  const m = structConfig(
    config,
    ['max_partial_lines', 'max_partial_line_size', 'max_partial_line_size_truncate'],
    issues,
  );
  if (m === undefined) return { issues };
  const lines = weakNumber(m, 'max_partial_lines', issues);
  if (lines !== undefined && !(Number.isInteger(lines) && lines >= 0)) {
    expected(issues, ['max_partial_lines'], 'a whole number of lines', m.max_partial_lines);
  }
  const size = m.max_partial_line_size;
  if (typeof size === 'string') {
    const parsed = parseDatasize(size);
    if (!parsed.ok) issues.push({ path: ['max_partial_line_size'], message: parsed.message });
  } else if (size !== undefined && size !== null && !(Number.isInteger(size) && (size as number) >= 0)) {
    expected(issues, ['max_partial_line_size'], 'a size in bytes', size);
  }
  weakBool(m, 'max_partial_line_size_truncate', issues);
  if (issues.length > 0) return { issues };
  return { stage: new CriStage(), issues };
};
