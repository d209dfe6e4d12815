//! The `docker` stage: accepted, and does nothing.
//!
//! In Promtail, `docker: {}` is a small pipeline for lines read from json-file log files
//! (`{"log":"…","stream":"stderr","time":"…"}`): a json stage extracts `output` ← log, `stream` and
//! `timestamp` ← time, then a labels stage sets the label `stream`, a timestamp stage sets the entry's
//! time, and an output stage makes `log` the line (stages/extensions.go, NewDocker).
//!
//! docktail reads through the Engine API (`/containers/{id}/logs`), as Promtail's docker_sd_configs
//! targets do: the line is the container's output, without that envelope, and its timestamp is already
//! Docker's. On such lines Promtail's docker stage finds no JSON, so it extracts nothing, sets no
//! `stream` label and changes neither the line nor the time: a no-op. docktail does exactly that, so
//! a config gives the same streams in both. (Promtail would unwrap an application line that happens to
//! be JSON with `log`/`stream`/`time` keys; docktail does not reproduce that accident, nor parse JSON
//! per line for it.)
//!
//! The way to a `stream` label (stdout/stderr) is the one Promtail documents for docker_sd_configs,
//! and docktail supports it: relabel the meta label per Docker stream, e.g.
//! ```yaml
//! relabel_configs:
//!   - source_labels: ['__meta_docker_container_log_stream']
//!     target_label: stream
//! ```
//! Any config value is accepted, as Promtail ignores it.

import type { Stage, StageFactory } from '../stage.js';

class DockerStage implements Stage {
  readonly name = 'docker';

  process(): 'keep' {
    return 'keep';
  }
}

/** `docker`: a no-op here (see the module comment); the pipeline may skip it altogether. */
export const createDockerStage: StageFactory = () => ({ stage: new DockerStage(), issues: [] });
