//! `-print-config-stderr`: the effective config as YAML, defaults filled in, durations in Go form, and
//! every secret replaced by `<secret>` (passwords, bearer tokens, URL userinfo passwords, credential
//! headers). The output loads back into the same config, secrets aside.

import { errorMessage } from '../core/errors.js';
import type { ClientConfig, Config, DockerSdConfig, TlsConfig } from './schema.js';
import { formatDuration } from './units.js';
import { maskUrl } from './validate-client.js';
import { dumpYaml } from './yaml.js';

export const SECRET = '<secret>';

/** Headers whose values are credentials: Authorization and its look-alikes (API keys, tokens, cookies). */
const SECRET_HEADER = /auth|token|secret|passw|api-?key|cookie/i;

function tls(config: TlsConfig): Record<string, unknown> {
  return { ...config };
}

function client(c: ClientConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { url: maskUrl(c.url) };
  if (c.name !== '') out.name = c.name;
  out.tenant_id = c.tenant_id;
  out.batchwait = formatDuration(c.batchwait);
  out.batchsize = c.batchsize;
  out.timeout = formatDuration(c.timeout);
  out.external_labels = { ...c.external_labels };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(c.headers))
    headers[name] = SECRET_HEADER.test(name) ? SECRET : value;
  out.headers = headers;
  if (c.basic_auth !== undefined) {
    const { username, password, password_file } = c.basic_auth;
    out.basic_auth =
      password_file !== undefined
        ? { username, password_file }
        : { username, password: password === '' ? '' : SECRET };
  }
  if (c.bearer_token_file !== undefined) out.bearer_token_file = c.bearer_token_file;
  else if (c.bearer_token !== undefined) out.bearer_token = SECRET;
  out.tls_config = tls(c.tls_config);
  out.backoff_config = {
    min_period: formatDuration(c.backoff_config.min_period),
    max_period: formatDuration(c.backoff_config.max_period),
    max_retries: c.backoff_config.max_retries,
  };
  out.drop_rate_limited_batches = c.drop_rate_limited_batches;
  return out;
}

function dockerSd(sd: DockerSdConfig): Record<string, unknown> {
  return {
    host: maskUrl(sd.host),
    port: sd.port,
    refresh_interval: formatDuration(sd.refresh_interval),
    filters: sd.filters.map(f => ({ name: f.name, values: [...f.values] })),
    host_networking_host: sd.host_networking_host,
    match_first_network: sd.match_first_network,
    tls_config: tls(sd.tls_config),
  };
}

/** The effective config as YAML with secrets masked. Never throws. */
export function printConfig(config: Config): string {
  try {
    return dumpYaml({
      server: { ...config.server },
      positions: {
        filename: config.positions.filename,
        sync_period: formatDuration(config.positions.sync_period),
        ignore_invalid_yaml: config.positions.ignore_invalid_yaml,
      },
      clients: config.clients.map(client),
      scrape_configs: config.scrape_configs.map(s => ({
        job_name: s.job_name,
        docker_sd_configs: s.docker_sd_configs.map(dockerSd),
        relabel_configs: s.relabel_configs.map(r => ({ ...r })),
        pipeline_stages: s.pipeline_stages.map(stage => ({ [stage.name]: stage.config })),
      })),
      limits_config: { ...config.limits_config },
    });
  } catch (err) {
    return `# cannot print the config: ${errorMessage(err)}\n`;
  }
}
