//! Validation of `clients[]` (and Promtail's deprecated single `client:`) and of `tls_config`, shared
//! with docker_sd_configs. Secrets named by `*_file` are read here, once, at load.

import type { Checker, KeySpec, Mapping, Path } from './check.js';
import type { BackoffConfig, BasicAuthConfig, ClientConfig, TlsConfig } from './schema.js';
import { BACKOFF_DEFAULTS, CLIENT_DEFAULTS } from './schema.js';

const NOT_SUPPORTED = 'is a Promtail setting docktail does not support';

/** Keys of Prometheus' HTTP client config that docktail refuses, wherever that config is inlined. */
export const UNSUPPORTED_HTTP_KEYS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    [
      'authorization',
      'oauth2',
      'proxy_url',
      'no_proxy',
      'proxy_from_environment',
      'proxy_connect_header',
      'http_headers',
    ].map(k => [k, `\`${k}\` ${NOT_SUPPORTED}`]),
  ),
);

/** Keys of Prometheus' HTTP client config accepted and ignored. */
export const IGNORED_HTTP_KEYS: Readonly<Record<string, string>> = Object.freeze({
  follow_redirects: 'ignored: docktail never follows redirects of a push',
  enable_http2: 'ignored: docktail pushes over HTTP/1.1',
});

const CLIENT_SPEC: KeySpec = {
  known: [
    'url',
    'name',
    'tenant_id',
    'batchwait',
    'batchsize',
    'timeout',
    'external_labels',
    'headers',
    'basic_auth',
    'bearer_token',
    'bearer_token_file',
    'tls_config',
    'backoff_config',
    'drop_rate_limited_batches',
  ],
  ignored: IGNORED_HTTP_KEYS,
  unsupported: UNSUPPORTED_HTTP_KEYS,
};

const BASIC_AUTH_SPEC: KeySpec = {
  known: ['username', 'password', 'password_file'],
  unsupported: Object.fromEntries(
    ['username_file', 'username_ref', 'password_ref'].map(k => [k, `\`${k}\` ${NOT_SUPPORTED}`]),
  ),
};

const TLS_SPEC: KeySpec = {
  known: ['ca_file', 'cert_file', 'key_file', 'server_name', 'insecure_skip_verify'],
  unsupported: Object.fromEntries(
    ['ca', 'cert', 'key', 'ca_ref', 'cert_ref', 'key_ref', 'min_version', 'max_version'].map(k => [
      k,
      `\`${k}\` ${NOT_SUPPORTED}${k.length <= 4 ? `: put it in a file and use \`${k}_file\`` : ''}`,
    ]),
  ),
};

const BACKOFF_SPEC: KeySpec = { known: ['min_period', 'max_period', 'max_retries'] };

/** A host name still holding `${VAR}`: WHATWG URLs accept it, DNS will not. */
export const UNEXPANDED = /[${}]/;

/** Loki accepts only these label names. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Replaces the password of `scheme://user:password@host` with `<secret>`; anything else is returned as
 * it is. The userinfo ends at the last `@` of the authority, as URL parsers read it.
 */
export function maskUrl(url: string): string {
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.exec(url);
  if (scheme === null) return url;
  const start = scheme[0].length;
  const rel = url.slice(start).search(/[/?#]/);
  const end = rel === -1 ? url.length : start + rel;
  const at = url.lastIndexOf('@', end - 1);
  if (at < start) return url;
  const colon = url.indexOf(':', start);
  if (colon === -1 || colon > at) return url;
  return `${url.slice(0, colon)}:<secret>${url.slice(at)}`;
}

export function checkTls(c: Checker, value: unknown, path: Path): TlsConfig {
  const tls: TlsConfig = { insecure_skip_verify: false };
  const m = c.mapping(value, path, TLS_SPEC);
  if (m === undefined) return tls;
  for (const key of ['ca_file', 'cert_file', 'key_file', 'server_name'] as const) {
    const s = c.string(m, path, key);
    if (s !== undefined && s !== '') tls[key] = s;
  }
  tls.insecure_skip_verify = c.bool(m, path, 'insecure_skip_verify') ?? false;
  if ((tls.cert_file === undefined) !== (tls.key_file === undefined)) {
    const missing = tls.cert_file === undefined ? 'cert_file' : 'key_file';
    c.issue(
      [...path, missing],
      `Missing \`${missing}\`: a client certificate needs both cert_file and key_file`,
    );
  }
  return tls;
}

/** Reads a `*_file` secret into the config, or reports why it could not. */
function readSecret(c: Checker, file: string, path: Path): string {
  const result = c.ctx.readSecret(file);
  if (result.ok) return result.value;
  c.issue(path, `Cannot read \`${String(path.at(-1))}\` ${file}: ${result.error}`);
  return '';
}

function checkBasicAuth(c: Checker, value: unknown, path: Path): BasicAuthConfig | undefined {
  if (value === undefined || value === null) return undefined;
  const m = c.mapping(value, path, BASIC_AUTH_SPEC);
  if (m === undefined) return undefined;
  const auth: BasicAuthConfig = { username: c.string(m, path, 'username') ?? '', password: '' };
  const password = c.string(m, path, 'password', true);
  const file = c.string(m, path, 'password_file');
  if (password !== undefined && file !== undefined) {
    c.issue([...path, 'password_file'], 'Set only one of `password` and `password_file`');
  } else if (file !== undefined) {
    auth.password_file = file;
    auth.password = readSecret(c, file, [...path, 'password_file']);
  } else if (password !== undefined) {
    auth.password = password;
  }
  return auth;
}

function checkBackoff(c: Checker, value: unknown, path: Path): BackoffConfig {
  const m = c.mapping(value, path, BACKOFF_SPEC) ?? {};
  return {
    min_period: c.duration(m, path, 'min_period') ?? BACKOFF_DEFAULTS.min_period,
    max_period: c.duration(m, path, 'max_period') ?? BACKOFF_DEFAULTS.max_period,
    max_retries: c.int(m, path, 'max_retries', 0) ?? BACKOFF_DEFAULTS.max_retries,
  };
}

function checkUrl(c: Checker, m: Mapping, path: Path): string {
  const at = [...path, 'url'];
  const url = c.string(m, path, 'url');
  if (url === undefined || url === '') {
    c.issue(at, 'Missing `url`: the Loki push endpoint, like http://loki:3100/loki/api/v1/push');
    return '';
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (
    parsed === undefined ||
    (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
    parsed.hostname === '' ||
    UNEXPANDED.test(parsed.hostname)
  ) {
    c.expected(at, 'an http or https URL, like http://loki:3100/loki/api/v1/push', maskUrl(url));
  }
  return url;
}

function labelSet(c: Checker, m: Mapping, path: Path): Record<string, string> {
  const labels = c.stringMap(m, path, 'external_labels') ?? {};
  for (const name of Object.keys(labels)) {
    if (!LABEL_NAME.test(name)) {
      c.issue(
        [...path, 'external_labels', name],
        `Invalid label name \`${name}\`: use letters, digits and _, not first a digit`,
      );
    }
  }
  return labels;
}

/** One client at `path` (`clients[i]` or `client`); undefined when it is not a mapping. */
export function checkClient(c: Checker, value: unknown, path: Path): ClientConfig | undefined {
  if (value === null || value === undefined) {
    c.issue(path, 'Empty client: a client needs at least `url`');
    return undefined;
  }
  const m = c.mapping(value, path, CLIENT_SPEC);
  if (m === undefined) return undefined;
  const client: ClientConfig = {
    url: checkUrl(c, m, path),
    name: c.string(m, path, 'name') ?? '',
    tenant_id: c.string(m, path, 'tenant_id') ?? '',
    batchwait: c.duration(m, path, 'batchwait') ?? CLIENT_DEFAULTS.batchwait,
    batchsize: c.size(m, path, 'batchsize') ?? CLIENT_DEFAULTS.batchsize,
    timeout: c.duration(m, path, 'timeout') ?? CLIENT_DEFAULTS.timeout,
    external_labels: labelSet(c, m, path),
    headers: c.stringMap(m, path, 'headers') ?? {},
    tls_config: checkTls(c, m.tls_config, [...path, 'tls_config']),
    backoff_config: checkBackoff(c, m.backoff_config, [...path, 'backoff_config']),
    drop_rate_limited_batches:
      c.bool(m, path, 'drop_rate_limited_batches') ?? CLIENT_DEFAULTS.drop_rate_limited_batches,
  };
  const basic = checkBasicAuth(c, m.basic_auth, [...path, 'basic_auth']);
  if (basic !== undefined) client.basic_auth = basic;
  const token = c.string(m, path, 'bearer_token', true);
  const tokenFile = c.string(m, path, 'bearer_token_file');
  if (token !== undefined && tokenFile !== undefined) {
    c.issue([...path, 'bearer_token_file'], 'Set only one of `bearer_token` and `bearer_token_file`');
  } else if (tokenFile !== undefined) {
    client.bearer_token_file = tokenFile;
    client.bearer_token = readSecret(c, tokenFile, [...path, 'bearer_token_file']);
  } else if (token !== undefined) {
    client.bearer_token = token;
  }
  if (basic !== undefined && (token !== undefined || tokenFile !== undefined)) {
    c.issue([...path, 'basic_auth'], 'Set only one of `basic_auth`, `bearer_token` and `bearer_token_file`');
  }
  return client;
}
