//! The composition root: builds every component from a loaded configuration, starts them in the order
//! of the data flow's dependencies (positions → clients → targets → discovery → HTTP) and stops them in
//! reverse. Only this module connects the pieces; they know each other only through core/types.

import type { Config } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { EntrySink } from '../core/types.js';
import { Discovery } from '../discovery/discovery.js';
import { DockerClient } from '../docker/client.js';
import { LokiClient } from '../loki/client.js';
import { Metrics } from '../metrics/metrics.js';
import { Inspector } from '../pipeline/inspect.js';
import type { PipelineSink } from '../pipeline/pipeline.js';
import { createPipelineSink } from '../pipeline/pipeline.js';
import { PositionsStore } from '../positions/store.js';
import { HttpServer } from '../server/http.js';
import { Follower } from '../targets/follower.js';
import { TargetManager } from '../targets/manager.js';
import { MIN_TICK_MS, ReadTick } from '../targets/read-tick.js';
import { clientOptions } from './client-options.js';
import type { CompiledScrape } from './compile.js';
import { compileScrapeConfigs } from './compile.js';
import { registerFollowMetrics } from './follow-metrics.js';
import { DryRunSink, FanOutSink } from './sinks.js';

const { readFileSync } = process.getBuiltinModule('node:fs');

/** The package version, read from package.json (two levels up from both src/app and dist/app). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface AgentOptions {
  config: Config;
  logger: Logger;
  dryRun?: boolean;
  /** Where -dry-run prints entries. */
  dryRunOut?: NodeJS.WritableStream;
  /** How long a graceful stop may take to flush batches. @default 10000 */
  shutdownDeadlineMs?: number;
  /** `-inspect`: print what each pipeline stage changes in every entry to stderr. @default false */
  inspect?: boolean;
}

/** A client that failed every try for this long makes /ready answer 503. */
const READY_FAILING_MS = 60_000;

/** What /ready weighs, at one moment. */
export interface ReadinessInput {
  /** The first discovery of every docker_sd_config has finished. */
  firstSync: boolean;
  /** Each client's name and, while it fails every try, since when (`Date.now()`). */
  clients: ReadonlyArray<{ name: string; failingSince?: number | undefined }>;
  positions?: { ok: boolean; lastError?: string | undefined } | undefined;
  /** `Date.now()` of the question. */
  now: number;
  /** How long a client may fail every try before the agent is not ready. @default 60000 */
  failingMs?: number;
}

/** Ready: first discovery done, no client failing every try for `failingMs`, positions writable. */
export function readiness(input: ReadinessInput): { ready: boolean; reasons: string[] } {
  const failingMs = input.failingMs ?? READY_FAILING_MS;
  const reasons: string[] = [];
  if (!input.firstSync) reasons.push('first discovery not finished');
  for (const client of input.clients) {
    const since = client.failingSince;
    if (since !== undefined && input.now - since >= failingMs) {
      reasons.push(
        `client ${client.name} has failed every push for ${Math.round((input.now - since) / 1000)}s`,
      );
    }
  }
  const health = input.positions;
  if (health && !health.ok)
    reasons.push(`positions file not writable: ${health.lastError ?? 'unknown error'}`);
  return { ready: reasons.length === 0, reasons };
}

export class Agent {
  readonly #o: AgentOptions;
  readonly metrics = new Metrics({ defaultMetrics: true });
  #positions: PositionsStore | undefined;
  #clients: LokiClient[] = [];
  #manager: TargetManager | undefined;
  #readTick: ReadTick | undefined;
  #pipelines: PipelineSink[] = [];
  #discoveries: Discovery[] = [];
  #server: HttpServer | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #firstSync = false;
  #stopping: Promise<void> | undefined;
  #port = 0;

  constructor(options: AgentOptions) {
    this.#o = options;
  }

  /** The HTTP port actually bound. */
  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    const { config, logger } = this.#o;
    const metrics = this.metrics;
    const compiled: CompiledScrape[] = compileScrapeConfigs(config, undefined, { metrics, logger });

    this.#positions = await PositionsStore.open({
      filename: config.positions.filename,
      syncPeriodMs: config.positions.sync_period,
      ignoreInvalidYaml: config.positions.ignore_invalid_yaml,
      readOnly: this.#o.dryRun === true,
      logger,
      metrics,
    });
    this.#positions.start();

    let sink: EntrySink;
    if (this.#o.dryRun) {
      sink = new DryRunSink(this.#o.dryRunOut);
    } else {
      this.#clients = config.clients.map(
        (c, i) => new LokiClient(clientOptions(c, i, { metrics, logger, userAgent: `docktail/${VERSION}` })),
      );
      sink = new FanOutSink(this.#clients);
      // Quiet streams are read once per (shortest) batch wait, right before the batches go (read-tick.ts).
      const clients = this.#clients;
      const periodMs = Math.min(...clients.map(c => c.batchWaitMs));
      if (periodMs >= MIN_TICK_MS) {
        this.#readTick = new ReadTick(periodMs, () => {
          for (const c of clients) c.sendDue(periodMs);
        });
      }
    }

    // One pipeline per scrape config (as Promtail's), in front of the shared sink; none when it has no
    // stage to run, so lines then cost nothing extra.
    const inspector = this.#o.inspect ? new Inspector() : undefined;
    for (const scrape of compiled) {
      if (scrape.stages.length === 0) continue;
      const pipeline = createPipelineSink(scrape.stages, sink, {
        metrics,
        logger: logger.child({ job: scrape.targets.jobName }),
        inspector,
      });
      this.#pipelines.push(pipeline);
      scrape.targets.sink = pipeline;
    }

    const manager = new TargetManager({
      sink,
      readTick: this.#readTick,
      positions: this.#positions,
      maxLineSize: config.limits_config.max_line_size,
      truncate: config.limits_config.max_line_size_truncate,
      metrics,
      logger,
    });
    this.#manager = manager;

    // One Docker API client per distinct host, shared by every scrape config that names it.
    const dockerClients = new Map<string, DockerClient>();
    registerFollowMetrics(metrics, () => dockerClients.values());
    for (const scrape of compiled) {
      for (const sd of scrape.sdConfigs) {
        let client = dockerClients.get(sd.host);
        if (!client) {
          client = new DockerClient({ host: sd.host, tls: sd.tls, logger });
          dockerClients.set(sd.host, client);
        }
        this.#discoveries.push(
          new Discovery({
            client,
            filters: sd.filters,
            refreshIntervalMs: sd.refreshIntervalMs,
            port: sd.port,
            hostNetworkingHost: sd.hostNetworkingHost,
            logger: logger.child({ job: scrape.targets.jobName, host: sd.host }),
            metrics,
            handler: manager.handlerFor(scrape.targets, client),
          }),
        );
      }
    }

    this.#server = new HttpServer({
      address: config.server.http_listen_address,
      port: config.server.http_listen_port,
      metrics,
      logger,
      ready: () => this.ready(),
      targets: () => this.targets(),
      beforeScrape: () => {
        Follower.reportCounts();
        manager.refresh();
      },
    });
    this.#port = await this.#server.listen();
    logger.info('listening', { address: config.server.http_listen_address || '0.0.0.0', port: this.#port });

    const signal = new AbortController().signal;
    const syncs = this.#discoveries.map(d => d.start(signal));
    void Promise.all(this.#discoveries.map(d => d.firstSync)).then(() => {
      this.#firstSync = true;
      logger.info('first discovery done', { targets: manager.size });
    });
    await Promise.all(syncs);
    this.#refreshTimer = setInterval(() => manager.refresh(), 5_000);
    this.#refreshTimer.unref();
  }

  ready(): { ready: boolean; reasons: string[] } {
    return readiness({
      firstSync: this.#firstSync,
      clients: this.#clients.map(c => ({ name: c.name, failingSince: c.status().failingSince })),
      positions: this.#positions?.health(),
      now: Date.now(),
    });
  }

  targets(): unknown {
    return {
      version: VERSION,
      // The server's clock, so the status page shows "3 s ago" right whatever the browser's clock says.
      now: new Date().toISOString(),
      ready: this.ready(),
      clients: this.#clients.map(c => ({ url: c.name, ...c.status() })),
      targets: this.#manager?.snapshot() ?? [],
    };
  }

  /**
   * Graceful stop: stop discovery and reading, flush batches until the deadline, write positions.
   * Idempotent: every caller gets the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const logger = this.#o.logger;
    const deadlineMs = this.#o.shutdownDeadlineMs ?? 10_000;
    if (this.#refreshTimer) clearInterval(this.#refreshTimer);
    await Promise.all(this.#discoveries.map(d => d.stop()));
    await this.#manager?.stop();
    this.#readTick?.stop();
    // Reading has stopped: what the pipelines still hold (multiline blocks, paced entries) goes on now,
    // while the clients can still deliver it.
    for (const pipeline of this.#pipelines) pipeline.stop();
    await Promise.all(
      this.#clients.map(c =>
        c
          .stop({ deadlineMs })
          .catch(err => logger.error('client stop failed', { client: c.name, err: errorMessage(err) })),
      ),
    );
    await this.#positions?.stop();
    await this.#server?.close();
    logger.info('stopped');
  }
}
