//! The Docker Engine API client, on node:http (a unix socket, or TCP with optional TLS). It negotiates
//! the API version, lists and inspects containers, lists networks, streams /events and opens raw /logs
//! streams (those on connections of their own, in HTTP/1.0: logs-stream.ts).
//! docktail only reads from the engine: every request is a GET. The version policy is in version.ts,
//! the events stream's parsing in events.ts.

import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import type { OnReadOpts, Socket } from 'node:net';
import { DockerError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type DockerEvent, type EventsOptions, readEvents } from './events.js';
import { FollowBudget } from './follow-budget.js';
import { abortable, ERROR_BODY_LIMIT, engineMessage, isAbort, readBody } from './http.js';
import { FramedAnswerError, type LogsBody, openLogsStream, readableBody } from './logs-stream.js';
import { chooseApiVersion, parseVersion } from './version.js';

const http = process.getBuiltinModule('node:http');
const net = process.getBuiltinModule('node:net');
const { addAbortSignal } = process.getBuiltinModule('node:stream');

/** TLS settings for `tcp://` and `https://` hosts (file contents, not paths). */
export interface DockerTlsOptions {
  /** CA bundle (PEM) that signs the engine's certificate. @default the system CAs */
  ca?: string;
  /** Client certificate (PEM). */
  cert?: string;
  /** Client key (PEM). */
  key?: string;
  /** Name to expect in the engine's certificate (and to send as SNI). @default the host name */
  serverName?: string;
  /** Accept any certificate. @default false */
  insecureSkipVerify?: boolean;
}

export interface DockerClientOptions {
  /** `unix:///var/run/docker.sock`, `tcp://host:2376`, `http://host:2375` or `https://host:2376`. */
  host: string;
  /** TLS for `tcp://` (which then means https) and `https://`; ignored for `unix://`. */
  tls?: DockerTlsOptions;
  logger: Logger;
  /**
   * How long the engine may take to send a response's headers (every endpoint used sends them at once);
   * a stream's body is not limited. @default 60000
   */
  headerTimeoutMs?: number;
}

/** One entry of `GET /containers/json`. */
export interface ContainerSummary {
  Id: string;
  Names?: string[] | null;
  Image?: string;
  State?: string;
  Status?: string;
  Labels?: Record<string, string> | null;
  Ports?: ContainerPort[] | null;
  HostConfig?: { NetworkMode?: string } | null;
  NetworkSettings?: { Networks?: Record<string, EndpointSettings | null> | null } | null;
}

export interface ContainerPort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export interface EndpointSettings {
  NetworkID?: string;
  IPAddress?: string;
}

/** One entry of `GET /networks`. */
export interface NetworkSummary {
  Id: string;
  Name: string;
  Scope?: string;
  Internal?: boolean;
  Ingress?: boolean;
  Labels?: Record<string, string> | null;
}

/** The parts of `GET /containers/{id}/json` that docktail reads. */
export interface ContainerInspect {
  Id: string;
  Name?: string;
  Config?: { Tty?: boolean; Labels?: Record<string, string> | null } | null;
  State?: {
    Status?: string;
    Running?: boolean;
    StartedAt?: string;
    FinishedAt?: string;
    ExitCode?: number;
  } | null;
  HostConfig?: { LogConfig?: { Type?: string } | null } | null;
}

const USER_AGENT = 'docktail';

export interface OpenLogsOptions {
  /** `seconds[.nanoseconds]`; the engine treats it as inclusive. */
  since: string;
  stdout: boolean;
  stderr: boolean;
}

export class DockerClient {
  /** The host as configured, without user info: the name in logs and metrics. */
  readonly name: string;
  /** Where requests go: a unix socket, or host and port. */
  readonly #target: { socketPath?: string; host?: string; port?: number };
  /** Keeps connections for the short requests; each follow or events stream holds one of its own. */
  readonly #agent: HttpAgent;
  readonly #request: typeof http.request;
  /** Opens a connection of its own, for a logs stream (logs-stream.ts). */
  readonly #connect: (onread: OnReadOpts) => Socket;
  /** The `Host` header node:http sends, sent with the logs streams too. */
  readonly #hostHeader: string;
  /** Logs streams are asked for in HTTP/1.0, until an answer comes chunked anyway (a proxy's doing). */
  #logsOverHttp10 = true;
  readonly #log: Logger;
  #version: string | undefined;
  #negotiating: Promise<string> | undefined;
  /** Set when the engine could not be reached: the next call negotiates again (it may have restarted). */
  #stale = false;
  readonly #headerTimeoutMs: number;
  /** The follow streams open on this engine, against its host's inotify budget. */
  readonly follows: FollowBudget;

  constructor(options: DockerClientOptions) {
    const url = new URL(options.host);
    url.username = '';
    url.password = '';
    this.name = url.protocol === 'unix:' ? options.host : url.toString().replace(/\/$/, '');
    this.#log = options.logger.child({ docker: this.name });
    this.#headerTimeoutMs = options.headerTimeoutMs ?? 60_000;
    let useTls = false;
    switch (url.protocol) {
      case 'unix:':
        this.#target = { socketPath: decodeURIComponent(url.pathname) };
        break;
      case 'tcp:':
      case 'http:':
      case 'https:':
        useTls = url.protocol === 'https:' || (url.protocol === 'tcp:' && options.tls !== undefined);
        this.#target = { host: url.hostname, port: Number(url.port || (useTls ? '2376' : '2375')) };
        break;
      default:
        throw new DockerError(
          `unsupported Docker host ${this.name}: use unix://, tcp://, http:// or https://`,
        );
    }
    const target = this.#target;
    const tcpHost = (target.host ?? '').replace(/^\[(.*)\]$/, '$1');
    const port = target.port ?? 0;
    if (useTls) {
      // Loaded here, not with the module: an agent that talks plain HTTP loads no TLS stack.
      const https = process.getBuiltinModule('node:https');
      const tls = process.getBuiltinModule('node:tls');
      const t = options.tls ?? {};
      const tlsOptions = {
        ca: t.ca,
        cert: t.cert,
        key: t.key,
        servername: t.serverName,
        rejectUnauthorized: t.insecureSkipVerify !== true,
      };
      this.#agent = new https.Agent({ keepAlive: true, ...tlsOptions });
      this.#request = https.request;
      // As node:https does: the host name is the SNI and the name to check, unless serverName says else.
      const servername = t.serverName ?? (net.isIP(tcpHost) === 0 ? tcpHost : undefined);
      this.#connect = () => tls.connect({ host: tcpHost, port, ...tlsOptions, servername });
    } else {
      this.#agent = new http.Agent({ keepAlive: true });
      this.#request = http.request;
      this.#connect =
        target.socketPath !== undefined
          ? onread => net.connect({ path: target.socketPath!, onread })
          : onread => net.connect({ host: tcpHost, port, onread });
    }
    this.#hostHeader = target.socketPath !== undefined ? 'localhost' : url.host;
    this.follows = new FollowBudget({ logger: this.#log, local: this.#target.socketPath !== undefined });
  }

  /** The negotiated API version (`1.41`), once known. */
  get apiVersion(): string | undefined {
    return this.#version;
  }

  /**
   * Asks the engine which API versions it speaks (`GET /version`) and picks ours; logs it when it is
   * new or changed. Call again after the engine may have restarted (a reconnect).
   */
  negotiate(signal?: AbortSignal): Promise<string> {
    // Shared by concurrent callers, so it does not take one caller's signal; each caller can still leave.
    this.#negotiating ??= this.#negotiate().finally(() => {
      this.#negotiating = undefined;
    });
    return abortable(this.#negotiating, signal);
  }

  async #negotiate(): Promise<string> {
    const res = await this.#get('/version', undefined, undefined);
    const body = await this.#json<{ ApiVersion?: unknown; MinAPIVersion?: unknown }>(res, 'GET /version');
    const max = typeof body.ApiVersion === 'string' ? body.ApiVersion : undefined;
    if (max === undefined || !parseVersion(max)) {
      throw new DockerError(`the engine at ${this.name} reported no API version`);
    }
    const min = typeof body.MinAPIVersion === 'string' ? body.MinAPIVersion : undefined;
    const chosen = chooseApiVersion(max, min);
    if (chosen !== this.#version) {
      this.#log.info('docker API version negotiated', {
        api_version: chosen,
        engine_max: max,
        engine_min: min,
      });
    }
    this.#version = chosen;
    this.#stale = false;
    return chosen;
  }

  async #versioned(path: string, signal?: AbortSignal): Promise<string> {
    const v = this.#version === undefined || this.#stale ? await this.negotiate(signal) : this.#version;
    return `/v${v}${path}`;
  }

  /**
   * Sends one GET; resolves with the response whatever its status. The engine has `headerTimeoutMs` to
   * answer; after that only `signal` ends the body (a logs or events stream may last for days).
   */
  #get(
    path: string,
    query: Record<string, string> | undefined,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    const timer = new AbortController();
    const requestSignal = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
    const timeout = setTimeout(() => timer.abort(), this.#headerTimeoutMs);
    const search = query ? `?${new URLSearchParams(query).toString()}` : '';
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        clearTimeout(timeout);
        if (signal?.aborted) reject(signal.reason);
        else if (timer.signal.aborted) {
          this.#stale = true;
          reject(
            new DockerError(`the engine at ${this.name} did not answer within ${this.#headerTimeoutMs} ms`),
          );
        } else {
          this.#stale = true;
          reject(
            new DockerError(`cannot reach the engine at ${this.name}: ${errorMessage(err)}`, undefined, {
              cause: err,
            }),
          );
        }
      };
      const req = this.#request(
        {
          ...this.#target,
          agent: this.#agent,
          method: 'GET',
          path: `${path}${search}`,
          headers: { 'User-Agent': USER_AGENT },
          signal: requestSignal,
        },
        res => {
          clearTimeout(timeout);
          req.off('error', fail);
          // An error after the headers ends the body (the reader sees it); it must not go unhandled.
          req.on('error', () => {});
          // The request's own signal stops at the headers; abort must also end the body.
          if (signal) addAbortSignal(signal, res);
          resolve(res);
        },
      );
      req.on('error', fail);
      req.end();
    });
  }

  /** Throws a DockerError for a non-2xx answer, with the engine's own message. */
  async #check(res: IncomingMessage): Promise<void> {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return;
    const body = await readBody(res, ERROR_BODY_LIMIT).catch(() => '');
    throw new DockerError(engineMessage(body, status), status);
  }

  async #json<T>(res: IncomingMessage, what: string): Promise<T> {
    await this.#check(res);
    const body = await readBody(res);
    try {
      return JSON.parse(body) as T;
    } catch (err) {
      throw new DockerError(`${what}: the engine answered with invalid JSON`, res.statusCode, { cause: err });
    }
  }

  async #getJson<T>(
    path: string,
    query: Record<string, string> | undefined,
    signal?: AbortSignal,
  ): Promise<T> {
    const res = await this.#get(await this.#versioned(path, signal), query, signal);
    return this.#json<T>(res, `GET ${path}`);
  }

  /** Every container (running or not) that matches `filters`, which the engine applies. */
  async listContainers(filters: Record<string, string[]>, signal?: AbortSignal): Promise<ContainerSummary[]> {
    const query: Record<string, string> = { all: '1' };
    if (Object.keys(filters).length > 0) query.filters = JSON.stringify(filters);
    const list = await this.#getJson<ContainerSummary[] | null>('/containers/json', query, signal);
    return list ?? [];
  }

  /** The container, or null when the engine does not know it (404). */
  async inspectContainer(id: string, signal?: AbortSignal): Promise<ContainerInspect | null> {
    const path = await this.#versioned(`/containers/${encodeURIComponent(id)}/json`, signal);
    const res = await this.#get(path, undefined, signal);
    if (res.statusCode === 404) {
      res.resume();
      return null;
    }
    return this.#json<ContainerInspect>(res, 'GET /containers/{id}/json');
  }

  async listNetworks(signal?: AbortSignal): Promise<NetworkSummary[]> {
    const list = await this.#getJson<NetworkSummary[] | null>('/networks', undefined, signal);
    return list ?? [];
  }

  /**
   * The engine's events as they happen (and from `since` on, which the engine treats as inclusive),
   * until the engine closes the connection or `signal` aborts; both end the iteration without an error.
   * A failure to connect, an HTTP error or a connection that breaks mid-stream throws a DockerError.
   */
  async *events(options: EventsOptions, signal: AbortSignal): AsyncGenerator<DockerEvent, void, undefined> {
    const query: Record<string, string> = {};
    if (options.since !== undefined) query.since = options.since;
    if (Object.keys(options.filters).length > 0) query.filters = JSON.stringify(options.filters);
    const res = await this.#get(await this.#versioned('/events', signal), query, signal);
    await this.#check(res);
    options.onOpen?.();
    const onMalformed =
      options.onMalformed ??
      ((line: string, reason: string) =>
        this.#log.warn('malformed docker event', { reason, line: line.slice(0, 200) }));
    try {
      yield* readEvents(res, onMalformed);
    } catch (err) {
      if (isAbort(err, signal)) return;
      this.#stale = true;
      throw new DockerError(`the events stream from ${this.name} failed: ${errorMessage(err)}`, undefined, {
        cause: err,
      });
    } finally {
      res.destroy();
    }
  }

  /**
   * Opens `GET /containers/{id}/logs?follow=1&timestamps=1` on a connection of its own, in HTTP/1.0
   * (logs-stream.ts): the body is the raw multiplexed stream, ending when the engine closes it. Errors
   * (404, 500, 501 when the log driver cannot be read) become DockerError with the engine's message.
   */
  async openLogs(id: string, options: OpenLogsOptions, signal: AbortSignal): Promise<LogsBody> {
    const query = new URLSearchParams({
      follow: '1',
      timestamps: '1',
      stdout: options.stdout ? '1' : '0',
      stderr: options.stderr ? '1' : '0',
      since: options.since,
    });
    const path = `${await this.#versioned(`/containers/${encodeURIComponent(id)}/logs`, signal)}?${query}`;
    let body: LogsBody | undefined;
    if (this.#logsOverHttp10) {
      try {
        body = await openLogsStream({
          connect: this.#connect,
          path,
          host: this.#hostHeader,
          name: this.name,
          headerTimeoutMs: this.#headerTimeoutMs,
          signal,
        });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (!(err instanceof FramedAnswerError)) {
          // No answer (as opposed to an error status): the engine may have restarted; negotiate again.
          if (!(err instanceof DockerError) || err.status === undefined) this.#stale = true;
          throw err;
        }
        this.#logsOverHttp10 = false;
        this.#log.warn(
          'logs streams go over HTTP/1.1 from now on (slower): an HTTP/1.0 request was answered chunked',
          {
            err: err.message,
          },
        );
      }
    }
    if (body === undefined) {
      const res = await this.#get(path, undefined, signal);
      await this.#check(res);
      body = readableBody(res);
    }
    // Counted against the host's inotify budget while open (the engine holds one instance per follow).
    this.follows.opened();
    body.onClose(() => this.follows.closed());
    return body;
  }
}
