//! Validation of `scrape_configs[]`: job names, docker_sd_configs, and the shape of relabel_configs and
//! pipeline_stages (both kept raw: the relabel and pipeline modules compile them and judge their values).

import { silentLogger } from '../core/logger.js';
import { Metrics } from '../metrics/metrics.js';
import { compileStages } from '../pipeline/registry.js';
import { compileRelabelConfigs } from '../relabel/compile.js';
import type { Checker, KeySpec, Mapping, Path } from './check.js';
import { isMapping, suggest } from './check.js';
import type {
  DockerFilter,
  DockerSdConfig,
  RawPipelineStage,
  RawRelabelConfig,
  ScrapeConfig,
} from './schema.js';
import { DOCKER_SD_DEFAULTS, PIPELINE_STAGE_NAMES } from './schema.js';
import { checkTls, IGNORED_HTTP_KEYS, UNEXPANDED, UNSUPPORTED_HTTP_KEYS } from './validate-client.js';

/** Promtail scrape-config keys for targets other than Docker's. */
const OTHER_TARGETS = [
  'journal',
  'syslog',
  'gcplog',
  'loki_push_api',
  'windows_events',
  'kafka',
  'azure_event_hubs',
  'gelf',
  'cloudflare',
  'heroku_drain',
  'static_configs',
  'dns_sd_configs',
  'file_sd_configs',
  'consul_sd_configs',
  'consulagent_sd_configs',
  'digitalocean_sd_configs',
  'dockerswarm_sd_configs',
  'serverset_sd_configs',
  'nerve_sd_configs',
  'marathon_sd_configs',
  'kubernetes_sd_configs',
  'gce_sd_configs',
  'ec2_sd_configs',
  'openstack_sd_configs',
  'azure_sd_configs',
  'triton_sd_configs',
  'encoding',
  'decompression',
];

const SCRAPE_SPEC: KeySpec = {
  known: ['job_name', 'docker_sd_configs', 'relabel_configs', 'pipeline_stages'],
  unsupported: Object.fromEntries(
    OTHER_TARGETS.map(k => [k, `\`${k}\` is not supported: only docker_sd_configs is supported`]),
  ),
};

const DOCKER_SD_SPEC: KeySpec = {
  known: [
    'host',
    'port',
    'refresh_interval',
    'filters',
    'host_networking_host',
    'match_first_network',
    'tls_config',
  ],
  ignored: IGNORED_HTTP_KEYS,
  unsupported: {
    ...UNSUPPORTED_HTTP_KEYS,
    ...Object.fromEntries(
      ['basic_auth', 'bearer_token', 'bearer_token_file'].map(k => [
        k,
        `\`${k}\` is not supported for Docker hosts: use tls_config`,
      ]),
    ),
  },
};

const FILTER_SPEC: KeySpec = { known: ['name', 'values'] };

const RELABEL_SPEC: KeySpec = {
  known: ['source_labels', 'separator', 'regex', 'modulus', 'target_label', 'replacement', 'action'],
};

const DOCKER_SCHEMES = new Set(['unix:', 'tcp:', 'http:', 'https:']);

function checkHost(c: Checker, m: Mapping, path: Path): string {
  const at = [...path, 'host'];
  const host = c.string(m, path, 'host');
  if (host === undefined || host === '') {
    c.issue(at, 'Missing `host`: the Docker engine, like unix:///var/run/docker.sock or tcp://host:2375');
    return '';
  }
  let url: URL | undefined;
  try {
    url = new URL(host);
  } catch {
    url = undefined;
  }
  const ok =
    url !== undefined &&
    DOCKER_SCHEMES.has(url.protocol) &&
    (url.protocol === 'unix:'
      ? url.pathname !== '' && url.pathname !== '/'
      : url.hostname !== '' && !UNEXPANDED.test(url.hostname));
  if (!ok)
    c.expected(
      at,
      'a Docker host like unix:///var/run/docker.sock, tcp://host:2375 or https://host:2376',
      host,
    );
  return host;
}

function checkFilters(c: Checker, m: Mapping, path: Path): DockerFilter[] {
  const filters: DockerFilter[] = [];
  const items = c.list(m, path, 'filters') ?? [];
  items.forEach((item, i) => {
    const at = [...path, 'filters', i];
    const f = c.mapping(item, at, FILTER_SPEC);
    if (f === undefined) return;
    const name = c.string(f, at, 'name');
    if (name === undefined || name === '')
      c.issue([...at, 'name'], 'Missing `name` of the filter, like `label` or `name`');
    filters.push({ name: name ?? '', values: c.stringList(f, at, 'values') ?? [] });
  });
  return filters;
}

function checkDockerSd(c: Checker, value: unknown, path: Path): DockerSdConfig | undefined {
  if (value === null || value === undefined) {
    c.issue([...path, 'host'], 'Missing `host`: the Docker engine, like unix:///var/run/docker.sock');
    return undefined;
  }
  const m = c.mapping(value, path, DOCKER_SD_SPEC);
  if (m === undefined) return undefined;
  return {
    host: checkHost(c, m, path),
    port: c.int(m, path, 'port', 0, 65535) ?? DOCKER_SD_DEFAULTS.port,
    refresh_interval: c.duration(m, path, 'refresh_interval', true) ?? DOCKER_SD_DEFAULTS.refresh_interval,
    filters: checkFilters(c, m, path),
    host_networking_host:
      c.string(m, path, 'host_networking_host') ?? DOCKER_SD_DEFAULTS.host_networking_host,
    match_first_network: c.bool(m, path, 'match_first_network') ?? DOCKER_SD_DEFAULTS.match_first_network,
    tls_config: checkTls(c, m.tls_config, [...path, 'tls_config']),
  };
}

function checkRelabel(c: Checker, value: unknown, path: Path): RawRelabelConfig | undefined {
  const m = c.mapping(value, path, RELABEL_SPEC);
  if (m === undefined) return undefined;
  const raw: RawRelabelConfig = {};
  const labels = c.stringList(m, path, 'source_labels');
  if (labels !== undefined) raw.source_labels = labels;
  for (const key of ['separator', 'regex', 'target_label', 'replacement', 'action'] as const) {
    const s = c.string(m, path, key);
    if (s !== undefined) raw[key] = s;
  }
  const modulus = c.int(m, path, 'modulus', 0);
  if (modulus !== undefined) raw.modulus = modulus;
  return raw;
}

/**
 * Checks each stage is `- name: config` with a known name. Stages nested in `match` are checked when the
 * pipeline module compiles the match stage, with the same messages.
 */
export function checkStages(c: Checker, items: readonly unknown[], path: Path): RawPipelineStage[] {
  const stages: RawPipelineStage[] = [];
  items.forEach((item, i) => {
    const at = [...path, i];
    const keys = isMapping(item) ? Object.keys(item) : [];
    if (!isMapping(item) || keys.length !== 1) {
      const found =
        keys.length > 1 ? `; found ${keys.length} keys: ${keys.map(k => `\`${k}\``).join(', ')}` : '';
      const what = 'a mapping with exactly one key, the stage name (like `- json: {…}`)';
      if (found === '') c.expected(at, what, item);
      else c.issue(at, `Expected \`${path.at(-1)}[${i}]\` to be ${what}${found}`);
      return;
    }
    const name = keys[0]!;
    const config = (item as Mapping)[name];
    if (!PIPELINE_STAGE_NAMES.has(name)) {
      const hint = suggest(name, PIPELINE_STAGE_NAMES);
      c.issue(
        [...at, name],
        `Unknown pipeline stage \`${name}\`${hint === undefined ? '' : ` (did you mean \`${hint}\`?)`}`,
      );
      return;
    }
    stages.push({ name, config, path: at });
  });
  return stages;
}

/**
 * The stages given to the pipeline module to compile: every stage Promtail knows. The pipeline registry
 * judges each one (it refuses those docktail does not run, saying why); a caller may narrow this set.
 */
export const EXECUTABLE_STAGES: ReadonlySet<string> = PIPELINE_STAGE_NAMES;

export function checkScrapeConfigs(c: Checker, items: readonly unknown[], path: Path): ScrapeConfig[] {
  const out: ScrapeConfig[] = [];
  const jobs = new Map<string, number>();
  // Stages are compiled here to be judged, on a metrics registry of their own (the agent compiles them
  // again on its registry), shared by every scrape config so two defining a metric differently clash.
  let stageMetrics: Metrics | undefined;
  items.forEach((item, i) => {
    const at = [...path, i];
    const m = c.mapping(item, at, SCRAPE_SPEC);
    if (m === undefined) return;
    const jobName = c.string(m, at, 'job_name') ?? '';
    if (jobName === '') c.issue([...at, 'job_name'], 'Missing `job_name`');
    else if (jobs.has(jobName)) {
      c.issue(
        [...at, 'job_name'],
        `Duplicate job_name \`${jobName}\`, also used by ${path.at(-1)}[${jobs.get(jobName)}]`,
      );
    } else jobs.set(jobName, i);
    const sdItems = c.list(m, at, 'docker_sd_configs') ?? [];
    const sd: DockerSdConfig[] = [];
    sdItems.forEach((s, j) => {
      const checked = checkDockerSd(c, s, [...at, 'docker_sd_configs', j]);
      if (checked !== undefined) sd.push(checked);
    });
    if (sdItems.length === 0 && Object.keys(m).every(k => SCRAPE_SPEC.known.includes(k))) {
      c.notice(at, 'no docker_sd_configs: this job discovers no containers');
    }
    const relabel: RawRelabelConfig[] = [];
    const relabelItems = c.list(m, at, 'relabel_configs') ?? [];
    const issuesBefore = c.issues.length;
    relabelItems.forEach((r, j) => {
      const checked = checkRelabel(c, r, [...at, 'relabel_configs', j]);
      if (checked !== undefined) relabel.push(checked);
    });
    // Values are judged by the relabel compiler itself (regexes, actions, templates), in this same pass,
    // so that every mistake of the file is reported at once; rules whose shape is wrong are not judged.
    if (c.issues.length === issuesBefore && relabel.length === relabelItems.length) {
      for (const issue of compileRelabelConfigs(relabel).issues) {
        c.issue([...at, 'relabel_configs', ...issue.path], issue.message);
      }
    }
    const stageItems = c.list(m, at, 'pipeline_stages') ?? [];
    const stages = checkStages(c, stageItems, [...at, 'pipeline_stages']);
    const runnable = stages.filter(stage => {
      if (c.ctx.executableStages.has(stage.name)) return true;
      c.issue(
        stage.path,
        `Pipeline stage \`${stage.name}\` is not supported by this version of docktail yet; remove it to start (lines are then shipped unparsed)`,
      );
      return false;
    });
    if (runnable.length > 0) {
      stageMetrics ??= new Metrics();
      const ctx = { jobName, metrics: stageMetrics, logger: silentLogger };
      for (const issue of compileStages(runnable, ctx).issues) c.issue(issue.path, issue.message);
    }
    out.push({ job_name: jobName, docker_sd_configs: sd, relabel_configs: relabel, pipeline_stages: stages });
  });
  return out;
}
