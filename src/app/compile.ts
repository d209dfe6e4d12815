//! Compiles the parts of a loaded config that need more than parsing: relabel rules (regexes), the
//! pipeline stages (on the agent's metrics registry), and each Docker host's settings. `-check-syntax`
//! and start-up run this same code, so a config that passes the check starts.

import type { Config, DockerSdConfig, Locate, TlsConfig } from '../config/schema.js';
import type { ConfigIssue } from '../core/errors.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { Metrics } from '../metrics/metrics.js';
import type { PipelineNode } from '../pipeline/registry.js';
import { compileStages } from '../pipeline/registry.js';
import { compileRelabelConfigs } from '../relabel/compile.js';
import type { RelabelRule } from '../relabel/relabel.js';
import type { ScrapeTargetsConfig } from '../targets/manager.js';

const { readFileSync } = process.getBuiltinModule('node:fs');

/** TLS material for a Docker host, read from the files the config names. */
export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  serverName?: string;
  insecureSkipVerify?: boolean;
}

export interface CompiledSd {
  host: string;
  port: number;
  refreshIntervalMs: number;
  filters: { name: string; values: string[] }[];
  hostNetworkingHost: string;
  tls?: TlsMaterial;
}

export interface CompiledScrape {
  targets: ScrapeTargetsConfig;
  sdConfigs: CompiledSd[];
  /** The compiled `pipeline_stages` (empty when there is nothing to run per line). */
  stages: PipelineNode[];
}

/** Where compiled stages register their metrics and log (the agent's); a throwaway pair when absent. */
export interface CompileContext {
  metrics: Metrics;
  logger: Logger;
}

/** Reads a TLS file; a problem becomes an issue at `path`. */
export function readTlsFiles(
  tls: TlsConfig,
  path: ReadonlyArray<string | number>,
  issues: ConfigIssue[],
  locate: Locate,
): TlsMaterial | undefined {
  const out: TlsMaterial = {};
  const read = (key: 'ca_file' | 'cert_file' | 'key_file'): string | undefined => {
    const file = tls[key];
    if (file === undefined || file === '') return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      const p = [...path, key];
      issues.push({ path: p, message: `Cannot read ${key} ${file}: ${errorMessage(err)}`, line: locate(p) });
      return undefined;
    }
  };
  const ca = read('ca_file');
  const cert = read('cert_file');
  const key = read('key_file');
  if (ca !== undefined) out.ca = ca;
  if (cert !== undefined) out.cert = cert;
  if (key !== undefined) out.key = key;
  if (tls.server_name) out.serverName = tls.server_name;
  if (tls.insecure_skip_verify) out.insecureSkipVerify = true;
  return Object.keys(out).length > 0 ? out : undefined;
}

function compileSd(
  sd: DockerSdConfig,
  path: (string | number)[],
  issues: ConfigIssue[],
  locate: Locate,
): CompiledSd {
  const out: CompiledSd = {
    host: sd.host,
    port: sd.port,
    refreshIntervalMs: sd.refresh_interval,
    filters: sd.filters.map(f => ({ name: f.name, values: [...f.values] })),
    hostNetworkingHost: sd.host_networking_host,
  };
  // As in Promtail, TLS settings apply to tcp:// and http(s):// hosts only; a unix socket has none.
  if (!sd.host.startsWith('unix://')) {
    const tls = readTlsFiles(sd.tls_config, [...path, 'tls_config'], issues, locate);
    if (tls) out.tls = tls;
  }
  return out;
}

/** Compiles every scrape config; issues carry full paths and lines. */
export function compileScrapeConfigs(
  config: Config,
  locate: Locate = () => undefined,
  ctx?: CompileContext,
): CompiledScrape[] {
  return compileConfig(config, locate, ctx).scrapes;
}

export function compileConfig(
  config: Config,
  locate: Locate = () => undefined,
  ctx: CompileContext = { metrics: new Metrics(), logger: silentLogger },
): { scrapes: CompiledScrape[]; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const scrapes: CompiledScrape[] = [];
  config.scrape_configs.forEach((scrape, i) => {
    const base: (string | number)[] = ['scrape_configs', i];
    const compiled = compileRelabelConfigs(scrape.relabel_configs);
    for (const issue of compiled.issues) {
      const path = [...base, 'relabel_configs', ...issue.path];
      issues.push({ path, message: issue.message, line: locate(path) });
    }
    const rules: readonly RelabelRule[] = compiled.rules;
    const pipeline = compileStages(scrape.pipeline_stages, {
      jobName: scrape.job_name,
      metrics: ctx.metrics,
      logger: ctx.logger.child({ job: scrape.job_name }),
    });
    for (const issue of pipeline.issues) {
      issues.push({ path: issue.path, message: issue.message, line: locate(issue.path) });
    }
    scrapes.push({
      targets: {
        jobName: scrape.job_name,
        rules,
        positionPrefix: i === 0 ? '' : `${scrape.job_name}/`,
      },
      sdConfigs: scrape.docker_sd_configs.map((sd, j) =>
        compileSd(sd, [...base, 'docker_sd_configs', j], issues, locate),
      ),
      stages: pipeline.nodes,
    });
  });
  return { scrapes, issues };
}
