//! One HTTP POST of a push body to Loki, turned into a result value (never a throw): success, retryable
//! (429, 5xx, network error, timeout) or failure (any other status). Owns the keep-alive agent, the
//! request headers (tenant, auth, configured headers) and the per-try timeout.

import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import { LokiPushError } from '../core/errors.js';

const http = process.getBuiltinModule('node:http');

export type PushResult =
  /** `bodyWritten`: the request finished writing the body, so its buffer may be reused. */
  | { status: 'success'; statusCode: number; bodyWritten?: boolean }
  | { status: 'retryable'; statusCode?: number; retryAfterMs?: number; error: Error }
  /** `statusCode` 0: the request could not even be built (an invalid tenant header, say). */
  | { status: 'failure'; statusCode: number; error: Error };

export interface TlsOptions {
  /** PEM contents of the CA bundle to trust (instead of the system roots). */
  ca?: string;
  /** PEM contents of the client certificate. */
  cert?: string;
  /** PEM contents of the client key. */
  key?: string;
  /** Name to verify the server certificate against (SNI). @default the URL's host */
  serverName?: string;
  /** Accept any server certificate. @default false */
  insecureSkipVerify?: boolean;
}

export interface TransportOptions {
  /** Push URL, e.g. `http://loki:3100/loki/api/v1/push`. Userinfo in it is used as basic auth. */
  url: string;
  /** Time limit of one try, from sending to the end of the response. */
  timeoutMs: number;
  /** `User-Agent` header. */
  userAgent: string;
  /** Extra headers; they cannot replace X-Scope-OrgID, Content-Type or Content-Length. */
  headers?: Readonly<Record<string, string>>;
  basicAuth?: { username: string; password: string };
  bearerToken?: string;
  tls?: TlsOptions;
}

/** How much of a response body is kept (for the error message); the rest is read and discarded. */
const MAX_BODY_BYTES = 64 * 1024;
/** How much of the body goes into the error message, as Promtail (`maxErrMsgLen`). */
const MAX_MESSAGE_CHARS = 1024;
/** Headers the client sets itself; configured headers cannot replace them. */
const RESERVED = new Set(['x-scope-orgid', 'content-type', 'content-length', 'transfer-encoding', 'host']);

/** Milliseconds to wait from a `Retry-After` value (delay-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP dates (IMF-fixdate, RFC 850, asctime) all start with a day name; anything else is ignored.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * The first line of a response body, cut to Promtail's 1024 characters. An HTML page (a proxy's error
 * page, a web UI at the wrong URL) is named by its title: its first line is only `<!DOCTYPE html>`.
 */
function firstLine(body: string): string {
  if (/^\s*</.test(body)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
    if (title) return `${title.slice(0, 200)} (an HTML page: is the URL a Loki push endpoint?)`;
  }
  const end = body.indexOf('\n');
  const line = (end === -1 ? body : body.slice(0, end)).trim();
  return line.length > MAX_MESSAGE_CHARS ? `${line.slice(0, MAX_MESSAGE_CHARS)}…` : line;
}

export class HttpTransport {
  readonly #target: URL;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;
  readonly #agent: Agent;
  readonly #request: typeof http.request;

  constructor(options: TransportOptions) {
    const target = new URL(options.url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new TypeError(`Expected an http(s) URL for a Loki client, got \`${target.protocol}\``);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      http.validateHeaderName(name);
      http.validateHeaderValue(name, value);
      const lower = name.toLowerCase();
      if (!RESERVED.has(lower)) headers[lower] = value;
    }
    headers['user-agent'] = options.userAgent;
    headers['content-type'] = 'application/x-protobuf';
    // Auth settings win over a configured Authorization header; userinfo in the URL is the fallback,
    // as in Go's http client. The userinfo is never sent in the request line.
    let basic = options.basicAuth;
    if (basic === undefined && target.username !== '') {
      basic = {
        username: decodeURIComponent(target.username),
        password: decodeURIComponent(target.password),
      };
    }
    target.username = '';
    target.password = '';
    if (basic !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
    } else if (options.bearerToken !== undefined) {
      headers.authorization = `Bearer ${options.bearerToken}`;
    }
    this.#target = target;
    this.#timeoutMs = options.timeoutMs;
    this.#headers = headers;
    if (target.protocol === 'https:') {
      // Loaded here, not with the module: an agent that talks plain HTTP loads no TLS stack.
      const https = process.getBuiltinModule('node:https');
      const tls = options.tls ?? {};
      this.#agent = new https.Agent({
        keepAlive: true,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        servername: tls.serverName,
        rejectUnauthorized: tls.insecureSkipVerify !== true,
      });
      this.#request = https.request;
    } else {
      this.#agent = new http.Agent({ keepAlive: true });
      this.#request = http.request;
    }
  }

  /** POSTs `body`; `tenant` '' sends no X-Scope-OrgID. Resolves with the outcome, never rejects. */
  send(body: Buffer, tenant: string, signal?: AbortSignal): Promise<PushResult> {
    return new Promise<PushResult>(resolve => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      let req: ClientRequest | undefined;
      const onAbort = () => {
        finish({ status: 'retryable', error: new Error('push aborted') });
        req?.destroy();
      };
      const finish = (result: PushResult) => {
        if (done) return;
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      if (signal?.aborted) {
        finish({ status: 'retryable', error: new Error('push aborted') });
        return;
      }
      const headers: Record<string, string | number> = { ...this.#headers, 'content-length': body.length };
      if (tenant !== '') headers['x-scope-orgid'] = tenant;
      const target = this.#target;
      try {
        req = this.#request({
          protocol: target.protocol,
          hostname: target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname,
          port: target.port,
          path: `${target.pathname}${target.search}`,
          method: 'POST',
          agent: this.#agent,
          headers,
        });
      } catch (err) {
        finish({
          status: 'failure',
          statusCode: 0,
          error: err instanceof Error ? err : new Error(String(err)),
        });
        return;
      }
      const request = req;
      // The timer covers the whole try, body included (Go's http.Client.Timeout, as Promtail uses).
      timer = setTimeout(() => {
        finish({ status: 'retryable', error: new Error(`push timed out after ${this.#timeoutMs} ms`) });
        request.destroy();
      }, this.#timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', err => finish({ status: 'retryable', error: err }));
      request.on('close', () => finish({ status: 'retryable', error: new Error('connection closed') }));
      request.on('response', res => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept >= MAX_BODY_BYTES) return;
          const part =
            chunk.length > MAX_BODY_BYTES - kept ? chunk.subarray(0, MAX_BODY_BYTES - kept) : chunk;
          chunks.push(part);
          kept += part.length;
        });
        res.on('error', err => finish({ status: 'retryable', error: err }));
        res.on('end', () => {
          const result = classify(res, Buffer.concat(chunks).toString('utf8'));
          if (result.status === 'success') result.bodyWritten = request.writableFinished;
          finish(result);
        });
        res.on('close', () => finish({ status: 'retryable', error: new Error('response cut short') }));
      });
      request.end(body);
    });
  }

  /** Closes the idle keep-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }
}

function classify(res: IncomingMessage, body: string): PushResult {
  const statusCode = res.statusCode ?? 0;
  if (statusCode >= 200 && statusCode < 300) return { status: 'success', statusCode };
  const message = firstLine(body);
  const error = new LokiPushError(
    `server returned HTTP status ${statusCode}${message === '' ? '' : `: ${message}`}`,
    statusCode,
    body,
  );
  if (statusCode === 429 || (statusCode >= 500 && statusCode < 600)) {
    const header = res.headers['retry-after'];
    const retryAfterMs = parseRetryAfter(Array.isArray(header) ? header[0] : header);
    return retryAfterMs === undefined
      ? { status: 'retryable', statusCode, error }
      : { status: 'retryable', statusCode, retryAfterMs, error };
  }
  return { status: 'failure', statusCode, error };
}
