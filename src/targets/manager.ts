//! Turns what discovery reports into followers: one per container and scrape config, labelled once per
//! (container, Docker stream) through the scrape config's relabel rules. Followers are reconciled, not
//! accumulated: a destroyed container's follower ends, and its position is removed only after the
//! follower has ended and every line it handed on has an outcome.

import type { Logger } from '../core/logger.js';
import type { Cursor, EntrySink, Labels, LokiStream } from '../core/types.js';
import { formatTimestamp, lokiStream } from '../core/types.js';
import type { DiscoveredContainer, DiscoveryHandler } from '../discovery/discovery.js';
import type { DockerClient } from '../docker/client.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PositionsStore } from '../positions/store.js';
import { CursorTracker } from '../positions/tracker.js';
import type { RelabelRule } from '../relabel/relabel.js';
import { applyRelabel, finalizeLabels } from '../relabel/relabel.js';
import type { FollowerState, StreamRoutes } from './follower.js';
import { Follower } from './follower.js';
import type { ReadTick } from './read-tick.js';

/** What the manager needs to know of one scrape config. */
export interface ScrapeTargetsConfig {
  jobName: string;
  rules: readonly RelabelRule[];
  /** Prefix of position keys: '' for the first scrape config (keys are container ids, as Promtail's). */
  positionPrefix: string;
  /** Where this scrape config's followers push (its pipeline); the manager's sink when absent. */
  sink?: EntrySink;
}

export interface TargetManagerOptions {
  sink: EntrySink;
  /** The followers' read tick (read-tick.ts); none: every stream reads as data comes. */
  readTick?: ReadTick | undefined;
  positions: PositionsStore;
  maxLineSize: number;
  truncate: boolean;
  metrics: Metrics;
  logger: Logger;
}

interface Target {
  key: string;
  id: string;
  job: string;
  name: string;
  metaLabels: Record<string, string>;
  labels: StreamRoutes;
  follower: Follower;
  tracker: CursorTracker;
  client: DockerClient;
  ended: boolean;
}

/** One target as /targets shows it. */
export interface TargetSnapshot {
  job: string;
  id: string;
  name: string;
  labels: { stdout?: Labels; stderr?: Labels };
  discoveredLabels: Record<string, string>;
  state: FollowerState;
  cursor?: string;
  readCursor?: string;
  inFlight: number;
  lines: number;
  bytes: number;
  reconnects: number;
  lastLineAt?: string;
  lastError?: string;
  /** Seconds between the newest line read and the committed position (as docktail_cursor_lag_seconds). */
  cursorLagSeconds?: number;
}

/** Seconds the committed cursor trails the read cursor; 0 before anything is committed. */
function lagSeconds(read: Cursor, committed: Cursor | undefined): number {
  if (!committed) return 0;
  return Math.max(0, read.sec - committed.sec + (read.nsec - committed.nsec) / 1e9);
}

export class TargetManager {
  readonly #o: TargetManagerOptions;
  readonly #targets = new Map<string, Target>();
  /** Positions to remove once their lines have all settled. */
  readonly #retiring = new Map<string, Target>();
  readonly #streams = new Map<string, LokiStream>();
  #stopped = false;

  constructor(options: TargetManagerOptions) {
    this.#o = options;
  }

  /** The discovery handler for one docker_sd_config of one scrape config. */
  handlerFor(scrape: ScrapeTargetsConfig, client: DockerClient): DiscoveryHandler {
    const keyOf = (id: string): string => scrape.positionPrefix + id;
    return {
      upsert: c => this.#upsert(scrape, client, c),
      started: id => this.#targets.get(keyOf(id))?.follower.wake(),
      died: () => {},
      destroyed: id => this.#destroyed(keyOf(id)),
      synced: ids => {
        for (const t of this.#targets.values()) {
          if (t.job === scrape.jobName && t.client === client && !ids.has(t.id)) this.#destroyed(t.key);
        }
        this.#retire();
      },
    };
  }

  /** Relabels a container's meta labels for one Docker stream; null when the rules drop it. */
  #route(
    rules: readonly RelabelRule[],
    meta: Record<string, string>,
    stream: 'stdout' | 'stderr',
  ): LokiStream | undefined {
    const relabelled = applyRelabel({ ...meta, __meta_docker_container_log_stream: stream }, rules);
    const labels = relabelled === null ? null : finalizeLabels(relabelled);
    if (labels === null) return undefined;
    const built = lokiStream(labels);
    // Share one LokiStream per label set, so batches group by identity and nothing is rebuilt per line.
    const known = this.#streams.get(built.key);
    if (known) return known;
    this.#streams.set(built.key, built);
    return built;
  }

  #upsert(scrape: ScrapeTargetsConfig, client: DockerClient, c: DiscoveredContainer): void {
    if (this.#stopped) return;
    const key = scrape.positionPrefix + c.id;
    const routes: StreamRoutes = {};
    const stdout = this.#route(scrape.rules, c.metaLabels, 'stdout');
    const stderr = this.#route(scrape.rules, c.metaLabels, 'stderr');
    if (stdout) routes.stdout = stdout;
    if (stderr) routes.stderr = stderr;
    const existing = this.#targets.get(key);
    if (existing) {
      existing.name = c.name;
      existing.metaLabels = c.metaLabels;
      existing.labels = routes;
      existing.follower.update(c.name, routes);
      if (c.state === 'running') existing.follower.wake();
      return;
    }
    if (!stdout && !stderr) {
      this.#o.metrics.droppedTargets.inc({ reason: 'relabel' });
      this.#o.logger.debug('target dropped by relabel_configs', { job: scrape.jobName, container: c.name });
      return;
    }
    const positions = this.#o.positions;
    // The tracker commits at every settled line, and an acknowledged batch settles all its lines at once:
    // the store takes the last cursor of such a run once, in a microtask (before any timer or I/O, so
    // before any positions write). A target retired meanwhile (its position removed) is not written back.
    let created: Target | undefined;
    let pending: Cursor | undefined;
    const commit = (): void => {
      const cursor = pending!;
      pending = undefined;
      const t = created;
      if (t !== undefined && (this.#targets.get(key) === t || this.#retiring.get(key) === t)) {
        positions.set(key, cursor, t.name);
      }
    };
    const tracker = new CursorTracker(positions.get(key), cursor => {
      if (pending === undefined) queueMicrotask(commit);
      pending = cursor;
    });
    const follower = new Follower({
      id: c.id,
      name: c.name,
      routes,
      client,
      sink: scrape.sink ?? this.#o.sink,
      tracker,
      maxLineSize: this.#o.maxLineSize,
      truncate: this.#o.truncate,
      metrics: this.#o.metrics,
      logger: this.#o.logger.child({ job: scrape.jobName }),
      readTick: this.#o.readTick,
    });
    const target: Target = {
      key,
      id: c.id,
      job: scrape.jobName,
      name: c.name,
      metaLabels: c.metaLabels,
      labels: routes,
      follower,
      tracker,
      client,
      ended: false,
    };
    created = target;
    this.#targets.set(key, target);
    this.#o.logger.info('following container', {
      job: scrape.jobName,
      container: c.name,
      id: c.id.slice(0, 12),
    });
    void follower.start().then(() => {
      target.ended = true;
      this.#retire();
    });
  }

  #destroyed(key: string): void {
    const target = this.#targets.get(key);
    if (!target) return;
    this.#targets.delete(key);
    this.#retiring.set(key, target);
    target.follower.destroyed();
  }

  /** Removes the positions of destroyed containers whose followers ended and whose lines all settled. */
  #retire(): void {
    for (const [key, t] of this.#retiring) {
      if (!t.ended || t.tracker.inFlight > 0) continue;
      this.#retiring.delete(key);
      if (!this.#targets.has(key)) this.#o.positions.remove(key);
      this.#o.logger.info('container gone; position removed', { container: t.name, id: t.id.slice(0, 12) });
    }
  }

  /** Called periodically and before each metrics scrape: gauges and deferred removals. */
  refresh(): void {
    this.#retire();
    const byState = new Map<string, number>();
    this.#o.metrics.cursorLag.reset();
    for (const t of this.#targets.values()) {
      const state = t.follower.state;
      byState.set(state, (byState.get(state) ?? 0) + 1);
      const read = t.tracker.readCursor;
      const committed = t.tracker.committed;
      if (read) this.#o.metrics.cursorLag.set({ container: t.name }, lagSeconds(read, committed));
    }
    this.#o.metrics.activeTargets.reset();
    for (const [state, n] of byState) this.#o.metrics.activeTargets.set({ state }, n);
  }

  /** Whether any target is known (for logs) and how many. */
  get size(): number {
    return this.#targets.size;
  }

  snapshot(): TargetSnapshot[] {
    const out: TargetSnapshot[] = [];
    for (const t of this.#targets.values()) {
      const st = t.follower.status();
      const snap: TargetSnapshot = {
        job: t.job,
        id: t.id,
        name: t.name,
        labels: {},
        discoveredLabels: t.metaLabels,
        state: st.state,
        inFlight: t.tracker.inFlight,
        lines: st.lines,
        bytes: st.bytes,
        reconnects: st.reconnects,
      };
      if (t.labels.stdout) snap.labels.stdout = t.labels.stdout.labels;
      if (t.labels.stderr) snap.labels.stderr = t.labels.stderr.labels;
      const c = t.tracker.committed;
      if (c) snap.cursor = `${formatTimestamp(c.sec, c.nsec)}#${c.count}`;
      const r = t.tracker.readCursor;
      if (r) {
        snap.readCursor = `${formatTimestamp(r.sec, r.nsec)}#${r.count}`;
        snap.cursorLagSeconds = lagSeconds(r, c);
      }
      if (st.lastLineAt !== undefined) snap.lastLineAt = new Date(st.lastLineAt).toISOString();
      if (st.lastError !== undefined) snap.lastError = st.lastError;
      out.push(snap);
    }
    return out;
  }

  /** Stops every follower (reading ends at once; handed-on lines are the clients' to deliver). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#targets.values(), ...this.#retiring.values()].map(t => t.follower.stop()));
  }
}
