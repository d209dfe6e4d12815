//! Maps one `clients:` entry of the config to the Loki client's options.

import type { ClientConfig } from '../config/schema.js';
import { maskUrl } from '../config/validate-client.js';
import type { ConfigIssue } from '../core/errors.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { LokiClientOptions } from '../loki/client.js';
import type { Metrics } from '../metrics/metrics.js';
import { readTlsFiles } from './compile.js';

export function clientOptions(
  c: ClientConfig,
  index: number,
  deps: { metrics: Metrics; logger: Logger; userAgent: string },
): LokiClientOptions {
  const issues: ConfigIssue[] = [];
  const tls = readTlsFiles(c.tls_config, ['clients', index, 'tls_config'], issues, () => undefined);
  if (issues.length > 0) throw new ConfigError(issues);
  // The name logs, metrics and /targets show: the configured one, or the URL without its password.
  const name = c.name || maskUrl(c.url);
  const options: LokiClientOptions = {
    name,
    url: c.url,
    batchWaitMs: c.batchwait,
    batchSizeBytes: c.batchsize,
    timeoutMs: c.timeout,
    externalLabels: c.external_labels,
    headers: c.headers,
    backoff: {
      minMs: c.backoff_config.min_period,
      maxMs: c.backoff_config.max_period,
      // 0 retries forever in Promtail: docktail then never reports the client as failing.
      maxRetries:
        c.backoff_config.max_retries === 0 ? Number.POSITIVE_INFINITY : c.backoff_config.max_retries,
    },
    dropRateLimitedBatches: c.drop_rate_limited_batches,
    userAgent: deps.userAgent,
    metrics: deps.metrics,
    logger: deps.logger.child({ client: name }),
  };
  if (c.tenant_id) options.tenantId = c.tenant_id;
  if (c.basic_auth) options.basicAuth = { username: c.basic_auth.username, password: c.basic_auth.password };
  if (c.bearer_token) options.bearerToken = c.bearer_token;
  if (tls) options.tls = tls;
  return options;
}
