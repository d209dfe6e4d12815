//! The shape of a loaded configuration and its defaults: the single source of truth for what docktail
//! reads from a Promtail config. Keys keep Promtail's YAML names; durations are stored as milliseconds
//! and sizes as bytes, already parsed. Defaults are Promtail's (grafana/loki v3.6, clients/pkg/promtail).

import type { LogFormat, LogLevel } from '../core/logger.js';

/** `server:`: docktail's HTTP server (/metrics, /ready, /targets) and its own log. */
export interface ServerConfig {
  /** Address the HTTP server binds; empty means every interface. @default '' */
  http_listen_address: string;
  /** Port of the HTTP server; 0 picks a free port. @default 80 */
  http_listen_port: number;
  /** Level of docktail's own log; the `-log.level` flag wins over it. @default 'info' */
  log_level: LogLevel;
  /** Format of docktail's own log; the `-log.format` flag wins over it. @default 'logfmt' */
  log_format: LogFormat;
}

/** `positions:`: where the position of every container's log is kept. */
export interface PositionsConfig {
  /** Path of the positions file, relative to the working directory. @default '/var/log/positions.yaml' */
  filename: string;
  /** How often the positions file is written, in ms (always > 0). @default 10000 */
  sync_period: number;
  /** Start over (and later overwrite) when the positions file is not valid YAML. @default false */
  ignore_invalid_yaml: boolean;
}

/** `tls_config:` of a client or a Docker host. Paths are relative to the working directory. */
export interface TlsConfig {
  /** CA certificate(s) to verify the server with, instead of the system's. */
  ca_file?: string;
  /** Client certificate, with `key_file`. */
  cert_file?: string;
  /** Client key, with `cert_file`. */
  key_file?: string;
  /** Name to verify the server certificate against (and send as SNI). */
  server_name?: string;
  /** Accept any server certificate. @default false */
  insecure_skip_verify: boolean;
}

/** `basic_auth:` of a client. */
export interface BasicAuthConfig {
  username: string;
  /**
   * The password: as written in the config, or read from `password_file` at load (trimmed of surrounding
   * whitespace, as Prometheus does). Never log or print it.
   */
  password: string;
  /** The file `password` was read from, when the config names one. */
  password_file?: string;
}

/** `backoff_config:` of a client: how failed pushes are retried. */
export interface BackoffConfig {
  /** First wait, in ms. @default 500 */
  min_period: number;
  /** Longest wait, in ms. @default 300000 */
  max_period: number;
  /** Tries before a batch is dropped; 0 retries forever (dskit's rule, which Promtail follows). @default 10 */
  max_retries: number;
}

/** One entry of `clients:`: a Loki to push to. */
export interface ClientConfig {
  /**
   * The push endpoint, an http or https URL, e.g. `http://loki:3100/loki/api/v1/push`. It may carry
   * `user:password@` (sent as basic auth); print it with `maskUrl` only.
   */
  url: string;
  /** Promtail's client name (used in its metrics); empty when not set. @default '' */
  name: string;
  /** Sent as `X-Scope-OrgID`; empty sends no header (single-tenant Loki). @default '' */
  tenant_id: string;
  /** Longest time a batch waits for more entries before it is sent, in ms. @default 1000 */
  batchwait: number;
  /** A batch is sent once it holds this many bytes of log lines. @default 1048576 */
  batchsize: number;
  /** Longest a single push may take, in ms; 0 means no limit. @default 10000 */
  timeout: number;
  /** Labels added to every stream sent to this client. @default {} */
  external_labels: Record<string, string>;
  /** Extra HTTP headers of every push (in Promtail they never replace a header it sets itself). @default {} */
  headers: Record<string, string>;
  basic_auth?: BasicAuthConfig;
  /** Bearer token, as written or read from `bearer_token_file` at load (trimmed). Never log or print it. */
  bearer_token?: string;
  /** The file `bearer_token` was read from, when the config names one. */
  bearer_token_file?: string;
  /** @default { insecure_skip_verify: false } */
  tls_config: TlsConfig;
  backoff_config: BackoffConfig;
  /** Drop a batch Loki answers 429 to instead of retrying it. @default false */
  drop_rate_limited_batches: boolean;
}

/** One `filters:` entry of a docker_sd_config, as the Docker API's list filter takes it. */
export interface DockerFilter {
  name: string;
  values: string[];
}

/** One entry of `docker_sd_configs:`. */
export interface DockerSdConfig {
  /** The engine: `unix:///var/run/docker.sock`, `tcp://host:2375`, `http://…` or `https://…`. */
  host: string;
  /** Port used for `__address__` of containers that publish none. @default 80 */
  port: number;
  /** How often the full container list is read again, in ms (always > 0). @default 60000 */
  refresh_interval: number;
  /** Filters of the container list. @default [] */
  filters: DockerFilter[];
  /** Host used in `__address__` for containers in host network mode. @default 'localhost' */
  host_networking_host: string;
  /** Use only the first network of a container with several for its meta labels. @default true */
  match_first_network: boolean;
  /** Used only for tcp/http/https hosts. @default { insecure_skip_verify: false } */
  tls_config: TlsConfig;
}

/**
 * One `relabel_configs:` entry, checked only for key names and value types (numbers written where a
 * string belongs are kept as their YAML text). The relabel module compiles and validates it.
 */
export interface RawRelabelConfig {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  modulus?: number;
  target_label?: string;
  replacement?: string;
  action?: string;
}

/** One `pipeline_stages:` entry (`- name: config`), checked for shape only. */
export interface RawPipelineStage {
  /** Stage type, e.g. `json`, `regex`, `labels`, `match`. */
  name: string;
  /** The stage's configuration, as parsed from YAML (null when empty). */
  config: unknown;
  /** Where the stage is, for issues: `['scrape_configs', 0, 'pipeline_stages', 2]`. */
  path: ReadonlyArray<string | number>;
}

/** One entry of `scrape_configs:`. */
export interface ScrapeConfig {
  /** Name of the job, unique among scrape configs. */
  job_name: string;
  /** @default [] */
  docker_sd_configs: DockerSdConfig[];
  /** @default [] */
  relabel_configs: RawRelabelConfig[];
  /** @default [] */
  pipeline_stages: RawPipelineStage[];
}

/** `limits_config:`. */
export interface LimitsConfig {
  /** Longest line in bytes; longer ones are dropped (or truncated). 0 means no limit. @default 0 */
  max_line_size: number;
  /** Cut lines over `max_line_size` instead of dropping them. @default false */
  max_line_size_truncate: boolean;
}

/** A whole loaded configuration, defaults filled in. */
export interface Config {
  server: ServerConfig;
  positions: PositionsConfig;
  /** Where entries are pushed; may be empty only for `-dry-run` (see `requireClients`). */
  clients: ClientConfig[];
  scrape_configs: ScrapeConfig[];
  limits_config: LimitsConfig;
}

/** Finds the 1-based line of a config path in the file (the nearest enclosing one when it is absent). */
export type Locate = (path: ReadonlyArray<string | number>) => number | undefined;

export const SERVER_DEFAULTS: Readonly<ServerConfig> = Object.freeze({
  http_listen_address: '',
  http_listen_port: 80,
  log_level: 'info',
  log_format: 'logfmt',
});

export const POSITIONS_DEFAULTS: Readonly<PositionsConfig> = Object.freeze({
  filename: '/var/log/positions.yaml',
  sync_period: 10_000,
  ignore_invalid_yaml: false,
});

export const CLIENT_DEFAULTS = Object.freeze({
  batchwait: 1_000,
  batchsize: 1_048_576,
  timeout: 10_000,
  drop_rate_limited_batches: false,
});

export const BACKOFF_DEFAULTS: Readonly<BackoffConfig> = Object.freeze({
  min_period: 500,
  max_period: 300_000,
  max_retries: 10,
});

export const DOCKER_SD_DEFAULTS = Object.freeze({
  port: 80,
  refresh_interval: 60_000,
  host_networking_host: 'localhost',
  match_first_network: true,
});

export const LIMITS_DEFAULTS: Readonly<LimitsConfig> = Object.freeze({
  max_line_size: 0,
  max_line_size_truncate: false,
});

/** Every pipeline stage type Promtail knows (clients/pkg/logentry/stages/stage.go). */
export const PIPELINE_STAGE_NAMES: ReadonlySet<string> = new Set([
  'json',
  'logfmt',
  'regex',
  'replace',
  'metrics',
  'labels',
  'labeldrop',
  'timestamp',
  'output',
  'docker',
  'cri',
  'match',
  'template',
  'pipeline',
  'tenant',
  'drop',
  'sampling',
  'limit',
  'multiline',
  'pack',
  'labelallow',
  'static_labels',
  'decolorize',
  'eventlogmessage',
  'geoip',
  'non_indexed_labels',
  'structured_metadata',
]);
