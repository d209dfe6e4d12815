//! Turns a parsed Promtail config into a Config: top-level sections, `server`, `positions` and
//! `limits_config` here; clients and scrape configs in validate-client.ts and validate-scrape.ts.
//! Every problem becomes an issue; a Config with defaults is always built, usable only without issues.

import type { ConfigIssue } from '../core/errors.js';
import { isLogLevel } from '../core/logger.js';
import type { CheckContext, KeySpec, Mapping } from './check.js';
import { Checker } from './check.js';
import type { ClientConfig, Config, LimitsConfig, Locate, PositionsConfig, ServerConfig } from './schema.js';
import { LIMITS_DEFAULTS, POSITIONS_DEFAULTS, SERVER_DEFAULTS } from './schema.js';
import { checkClient } from './validate-client.js';
import { checkScrapeConfigs } from './validate-scrape.js';

const IGNORED = 'ignored: a Promtail setting docktail does not use';

const TOP_SPEC: KeySpec = {
  known: ['server', 'positions', 'clients', 'client', 'scrape_configs', 'limits_config'],
  ignored: {
    target_config: `${IGNORED} (it tunes file targets)`,
    options: IGNORED,
    tracing: `${IGNORED} (docktail does not trace)`,
    global: `${IGNORED} (it tunes file targets)`,
    wal: `${IGNORED} (positions move only when Loki has accepted the lines)`,
  },
};

/** Server keys of Promtail (and of dskit's server it embeds) that docktail accepts and ignores. */
const IGNORED_SERVER_KEYS = [
  'external_url',
  'health_check_target',
  'disable',
  'profiling_enabled',
  'enable_runtime_reload',
  'register_instrumentation',
  'graceful_shutdown_timeout',
  'http_listen_network',
  'http_listen_conn_limit',
  'http_path_prefix',
  'http_server_read_timeout',
  'http_server_read_header_timeout',
  'http_server_write_timeout',
  'http_server_idle_timeout',
  'http_log_closed_connections_without_response_enabled',
  'cluster_validation',
  'log_source_ips_enabled',
  'log_source_ips_full',
  'log_source_ips_header',
  'log_source_ips_regex',
  'log_request_headers',
  'log_request_at_info_level_enabled',
  'log_request_exclude_headers_list',
  'trace_request_headers',
  'trace_request_exclude_headers_list',
  'tls_cipher_suites',
  'tls_min_version',
  'proxy_protocol_enabled',
  'report_grpc_codes_in_instrumentation_label_enabled',
  'throughput_latency_cutoff',
  'throughput_unit',
];

const SERVER_SPEC: KeySpec = {
  known: ['http_listen_address', 'http_listen_port', 'log_level', 'log_format'],
  ignored: {
    ...Object.fromEntries(IGNORED_SERVER_KEYS.map(k => [k, IGNORED])),
    // Every grpc_* key of dskit's server: docktail serves HTTP only.
    ...Object.fromEntries(
      [
        'grpc_listen_address',
        'grpc_listen_port',
        'grpc_listen_network',
        'grpc_listen_conn_limit',
        'grpc_tls_config',
        'grpc_collect_max_streams_by_conn',
        'grpc_server_max_recv_msg_size',
        'grpc_server_max_send_msg_size',
        'grpc_server_max_concurrent_streams',
        'grpc_server_max_connection_idle',
        'grpc_server_max_connection_age',
        'grpc_server_max_connection_age_grace',
        'grpc_server_keepalive_time',
        'grpc_server_keepalive_timeout',
        'grpc_server_min_time_between_pings',
        'grpc_server_ping_without_stream_allowed',
        'grpc_server_num_workers',
        'grpc_server_recv_buffer_pools_enabled',
        'grpc_server_stats_tracking_enabled',
      ].map(k => [k, 'ignored: docktail has no gRPC server']),
    ),
  },
  unsupported: { http_tls_config: '`http_tls_config` is not supported: docktail serves plain HTTP' },
};

const POSITIONS_SPEC: KeySpec = { known: ['filename', 'sync_period', 'ignore_invalid_yaml'] };

const UNUSED_LIMITS = [
  'readline_rate',
  'readline_burst',
  'readline_rate_enabled',
  'readline_rate_drop',
  'max_streams',
];
const LIMITS_SPEC: KeySpec = { known: ['max_line_size', 'max_line_size_truncate', ...UNUSED_LIMITS] };

function checkServer(c: Checker, value: unknown): ServerConfig {
  const path = ['server'];
  const m = c.mapping(value, path, SERVER_SPEC) ?? {};
  const server: ServerConfig = {
    http_listen_address: c.string(m, path, 'http_listen_address') ?? SERVER_DEFAULTS.http_listen_address,
    http_listen_port: c.int(m, path, 'http_listen_port', 0, 65535) ?? SERVER_DEFAULTS.http_listen_port,
    log_level: SERVER_DEFAULTS.log_level,
    log_format: SERVER_DEFAULTS.log_format,
  };
  const level = c.string(m, path, 'log_level');
  if (level !== undefined) {
    if (isLogLevel(level)) server.log_level = level;
    else c.expected([...path, 'log_level'], 'one of debug, info, warn, error', level);
  }
  const format = c.string(m, path, 'log_format');
  if (format !== undefined) {
    if (format === 'logfmt' || format === 'json') server.log_format = format;
    else c.expected([...path, 'log_format'], 'logfmt or json', format);
  }
  return server;
}

function checkPositions(c: Checker, value: unknown): PositionsConfig {
  const path = ['positions'];
  const m = c.mapping(value, path, POSITIONS_SPEC) ?? {};
  const filename = c.string(m, path, 'filename');
  if (filename === '')
    c.issue([...path, 'filename'], 'Expected `filename` to be a path, got an empty string');
  return {
    filename: filename || POSITIONS_DEFAULTS.filename,
    sync_period: c.duration(m, path, 'sync_period', true) ?? POSITIONS_DEFAULTS.sync_period,
    ignore_invalid_yaml: c.bool(m, path, 'ignore_invalid_yaml') ?? POSITIONS_DEFAULTS.ignore_invalid_yaml,
  };
}

function checkLimits(c: Checker, value: unknown): LimitsConfig {
  const path = ['limits_config'];
  const m = c.mapping(value, path, LIMITS_SPEC) ?? {};
  // Type-checked so a typo'd value is still caught, then reported as unused.
  const typed: Record<string, (m: Mapping) => unknown> = {
    readline_rate: o => c.number(o, path, 'readline_rate', 0),
    readline_burst: o => c.int(o, path, 'readline_burst', 0),
    readline_rate_enabled: o => c.bool(o, path, 'readline_rate_enabled'),
    readline_rate_drop: o => c.bool(o, path, 'readline_rate_drop'),
    max_streams: o => c.int(o, path, 'max_streams', 0),
  };
  for (const key of UNUSED_LIMITS) {
    if (m[key] !== undefined && typed[key]?.(m) !== undefined)
      c.notice([...path, key], 'accepted but not used yet');
  }
  return {
    max_line_size: c.size(m, path, 'max_line_size') ?? LIMITS_DEFAULTS.max_line_size,
    max_line_size_truncate:
      c.bool(m, path, 'max_line_size_truncate') ?? LIMITS_DEFAULTS.max_line_size_truncate,
  };
}

function checkClients(c: Checker, root: Mapping): ClientConfig[] {
  const clients: ClientConfig[] = [];
  (c.list(root, [], 'clients') ?? []).forEach((item, i) => {
    const client = checkClient(c, item, ['clients', i]);
    if (client !== undefined) clients.push(client);
  });
  // Promtail's deprecated single client, appended to the list as Promtail's Setup() does.
  if (root.client !== undefined && root.client !== null) {
    c.notice(['client'], 'deprecated in Promtail: prefer a `clients` list');
    const client = checkClient(c, root.client, ['client']);
    if (client !== undefined) clients.push(client);
  }
  return clients;
}

export interface ValidateResult {
  /** Always built, defaults where values were missing or wrong; use it only when `issues` is empty. */
  config: Config;
  issues: ConfigIssue[];
  notices: string[];
}

/** Validates a parsed document (`null` for an empty file). Never throws. */
export function validateConfig(doc: unknown, ctx: CheckContext): ValidateResult {
  const c = new Checker(ctx);
  const root = c.mapping(doc, [], TOP_SPEC) ?? {};
  const config: Config = {
    server: checkServer(c, root.server),
    positions: checkPositions(c, root.positions),
    clients: checkClients(c, root),
    scrape_configs: checkScrapeConfigs(c, c.list(root, [], 'scrape_configs') ?? [], ['scrape_configs']),
    limits_config: checkLimits(c, root.limits_config),
  };
  return { config, issues: c.issues, notices: c.notices };
}

/** The check the caller makes unless running with -dry-run: at least one client to push to. */
export function requireClients(config: Config, locate?: Locate): ConfigIssue[] {
  if (config.clients.length > 0) return [];
  return [
    {
      path: ['clients'],
      message: 'No client: add a `clients` entry with the Loki push URL (or run with -dry-run)',
      line: locate?.(['clients']),
    },
  ];
}
