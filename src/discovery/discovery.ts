//! Container discovery for one docker_sd_config: the engine's /events stream for immediate reaction, plus a
//! full list at start, every refresh_interval and after each reconnect of the stream. The user's filters are
//! always applied by the engine: an event only counts for a container the filtered list returns.
//!
//! Every engine query runs on one serial worker, in arrival order: a list's answer is never applied after
//! an event that happened later, so a container started during a list cannot be dropped by its answer.

import { Backoff, sleep } from '../core/backoff.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ContainerSummary, DockerClient, NetworkSummary } from '../docker/client.js';
import type { DockerEvent } from '../docker/events.js';
import type { Metrics } from '../metrics/metrics.js';
import { EventCursor } from './event-cursor.js';
import { metaLabels } from './meta-labels.js';

/** A container that is a target of this discovery. */
export interface DiscoveredContainer {
  /** Full container id. */
  id: string;
  /** Container name without the leading `/`. */
  name: string;
  /** docker_sd meta labels (see meta-labels.ts), without `__meta_docker_container_log_stream`. */
  metaLabels: Record<string, string>;
  /** The engine's state: `running`, `exited`, `created`, `paused`, `restarting`, `dead`… */
  state: string;
}

/**
 * Receives what discovery learns; calls are synchronous and in the order things happened.
 * - `upsert`: a target is new, or its name, state or labels changed.
 * - `started` / `died`: a start / die event, or a list that saw a known target enter / leave `running`.
 * - `destroyed`: a known target was removed (destroy event).
 * - `synced`: a full list finished; `ids` are ALL current targets, any other is gone.
 */
export interface DiscoveryHandler {
  upsert(target: DiscoveredContainer): void;
  started(id: string): void;
  died(id: string): void;
  destroyed(id: string): void;
  synced(ids: ReadonlySet<string>): void;
}

export interface DiscoveryFilter {
  name: string;
  values: string[];
}

export interface DiscoveryOptions {
  client: DockerClient;
  /** docker_sd `filters`, passed to the engine's container list. @default [] */
  filters: readonly DiscoveryFilter[];
  /** docker_sd `refresh_interval`, in ms: how often the full list runs besides the events. @default 60000 */
  refreshIntervalMs: number;
  /** docker_sd `port`. @default 80 */
  port: number;
  /** docker_sd `host_networking_host`. @default localhost */
  hostNetworkingHost: string;
  logger: Logger;
  metrics: Metrics;
  handler: DiscoveryHandler;
}

/** The container events that change what docktail follows. */
const EVENT_ACTIONS = ['start', 'die', 'destroy', 'rename'];

/**
 * Event attributes the engine sets itself, over any container label of the same name: a `label` filter on
 * one of these keys does not mean the same for /events as for the list, so it is not passed to /events.
 */
const EVENT_ATTRIBUTES = new Set(['name', 'image', 'exitCode', 'execDuration', 'oldName', 'signal']);

type Job = { kind: 'list' } | { kind: 'event'; event: DockerEvent };

/** A stream that stayed open this long was healthy: the next reconnect starts again from the shortest wait. */
const HEALTHY_STREAM_MS = 10_000;

export class Discovery {
  readonly #o: DiscoveryOptions;
  readonly #log: Logger;
  readonly #host: string;
  readonly #filters: Record<string, string[]>;
  readonly #eventFilters: Record<string, string[]>;
  readonly #abort = new AbortController();
  readonly #targets = new Map<string, DiscoveredContainer>();
  /** The list entries of the targets, to resolve `container:<id>` network modes. */
  readonly #summaries = new Map<string, ContainerSummary>();
  #networks = new Map<string, NetworkSummary>();
  #queue: Job[] = [];
  #listQueued = false;
  #listRunning = false;
  #listFailing = false;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #loops: Promise<unknown> | undefined;
  #stopped = false;
  #synced = false;
  /** Where the events stream resumes, and the replayed events to skip. */
  readonly #cursor = new EventCursor();
  readonly #firstSync: Promise<void>;
  #resolveFirstSync!: () => void;
  #eventsTried!: Promise<void>;
  #resolveEventsTried!: () => void;

  constructor(options: DiscoveryOptions) {
    this.#o = options;
    this.#host = options.client.name;
    this.#log = options.logger.child({ component: 'discovery' });
    const filters: Record<string, string[]> = {};
    for (const f of options.filters) filters[f.name] = [...(filters[f.name] ?? []), ...f.values];
    this.#filters = filters;
    this.#eventFilters = { type: ['container'], event: EVENT_ACTIONS };
    const labels = filters.label ?? [];
    if (labels.length > 0 && labels.every(l => !EVENT_ATTRIBUTES.has(l.split('=', 1)[0] ?? ''))) {
      // Same meaning for /events (container labels are event attributes): fewer events to look up.
      this.#eventFilters.label = [...labels];
    }
    this.#firstSync = new Promise(resolve => {
      this.#resolveFirstSync = resolve;
    });
    this.#eventsTried = new Promise(resolve => {
      this.#resolveEventsTried = resolve;
    });
  }

  /** Resolves after the first full list has been applied (or on stop). */
  get firstSync(): Promise<void> {
    return this.#firstSync;
  }

  /** True once a full list has been applied. */
  get hasSynced(): boolean {
    return this.#synced;
  }

  /** Starts the events stream, the first list and the refresh timer; returns once they are under way. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#loops || this.#stopped) return;
    if (signal.aborted) {
      await this.stop();
      return;
    }
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    const own = this.#abort.signal;
    own.addEventListener('abort', () => this.#wake?.(), { once: true });
    this.#loops = Promise.all([this.#eventsLoop(own), this.#work(own)]);
    this.#timer = setInterval(() => this.#requestList(false), this.#o.refreshIntervalMs);
    this.#timer.unref();
  }

  /** Ends the events stream, the worker and the timer; idempotent. */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      clearInterval(this.#timer);
      this.#abort.abort();
      this.#resolveFirstSync();
      this.#resolveEventsTried();
    }
    await this.#loops;
  }

  #enqueue(job: Job): void {
    this.#queue.push(job);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Queues a full list unless one is already waiting (or, for a periodic refresh, running). */
  #requestList(afterReconnect: boolean): void {
    if (this.#stopped || this.#listQueued || (this.#listRunning && !afterReconnect)) return;
    this.#listQueued = true;
    this.#enqueue({ kind: 'list' });
  }

  #countError(): void {
    this.#o.metrics.discoveryErrors.inc({ host: this.#host });
  }

  #call(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error('discovery handler failed', { call: what, err: errorMessage(err) });
    }
  }

  // ---- events stream -------------------------------------------------------------------------------

  async #eventsLoop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ minMs: 250, maxMs: 30_000 });
    let opened = false;
    let down = false;
    while (!signal.aborted) {
      let openedAt = 0;
      let reason = 'the engine closed the stream';
      try {
        // After any drop the engine may have restarted, possibly as another version.
        if (opened || down) await this.#o.client.negotiate(signal);
        const since = this.#cursor.since;
        const events = this.#o.client.events(
          {
            since,
            filters: this.#eventFilters,
            onOpen: () => {
              openedAt = Date.now();
              if (down)
                this.#log.info('docker events stream reconnected', { attempts: backoff.attempt, since });
              down = false;
              // Whatever the replay from `since` does not cover (the engine keeps 256 events) the list does.
              if (opened) this.#requestList(true);
              opened = true;
              this.#resolveEventsTried();
            },
            onMalformed: (line, why) => {
              this.#countError();
              this.#log.warn('malformed docker event skipped', { reason: why, line: line.slice(0, 200) });
            },
          },
          signal,
        );
        for await (const event of events) this.#onEvent(event);
      } catch (err) {
        reason = errorMessage(err);
      }
      if (signal.aborted) break;
      this.#countError();
      this.#resolveEventsTried();
      if (!down) {
        this.#log.warn(
          opened
            ? 'docker events stream lost; reconnecting'
            : 'cannot open the docker events stream; retrying',
          {
            reason,
          },
        );
        down = true;
      } else {
        this.#log.debug('docker events stream still down', { reason, attempt: backoff.attempt });
      }
      if (openedAt > 0 && Date.now() - openedAt >= HEALTHY_STREAM_MS) backoff.reset();
      if (!(await sleep(backoff.next(), signal))) break;
    }
  }

  #onEvent(event: DockerEvent): void {
    if (event.type !== 'container' || !EVENT_ACTIONS.includes(event.action)) return;
    // A reconnect replays from `since` inclusive: the cursor skips the events already seen.
    if (this.#cursor.admit(event)) this.#enqueue({ kind: 'event', event });
  }

  // ---- worker ----------------------------------------------------------------------------------------

  async #work(signal: AbortSignal): Promise<void> {
    // List once the events subscription is live (or failed once): nothing can fall between the two.
    await this.#eventsTried;
    const backoff = new Backoff({ minMs: 250, maxMs: 30_000 });
    this.#listRunning = true;
    while (!signal.aborted && !(await this.#fullList(signal))) {
      if (!(await sleep(backoff.next(), signal))) break;
    }
    this.#listRunning = false;
    while (!signal.aborted) {
      const first = this.#queue[0];
      if (first === undefined) {
        await new Promise<void>(resolve => {
          this.#wake = resolve;
        });
        continue;
      }
      if (first.kind === 'list') {
        this.#queue.shift();
        this.#listQueued = false;
        this.#listRunning = true;
        await this.#fullList(signal);
        this.#listRunning = false;
        continue;
      }
      let n = 0;
      while (this.#queue[n]?.kind === 'event') n++;
      const batch = this.#queue.splice(0, n) as Array<{ kind: 'event'; event: DockerEvent }>;
      await this.#applyEvents(
        batch.map(j => j.event),
        signal,
      );
    }
  }

  /** Lists every matching container and reports the differences; false when the engine failed. */
  async #fullList(signal: AbortSignal): Promise<boolean> {
    let containers: ContainerSummary[];
    try {
      const [list, networks] = await Promise.all([
        this.#o.client.listContainers(this.#filters, signal),
        this.#o.client.listNetworks(signal),
      ]);
      containers = list;
      this.#networks = new Map(networks.map(n => [n.Id, n]));
    } catch (err) {
      if (signal.aborted) return false;
      this.#countError();
      // Once per failure streak; the retries of the first list would otherwise repeat it every few seconds.
      if (this.#listFailing) this.#log.debug('listing containers failed again', { err: errorMessage(err) });
      else this.#log.warn('listing containers failed', { err: errorMessage(err) });
      this.#listFailing = true;
      return false;
    }
    if (this.#listFailing) this.#log.info('listing containers works again');
    this.#listFailing = false;
    if (signal.aborted) return false;
    const byId = new Map(containers.map(c => [c.Id, c]));
    const ids = new Set<string>();
    for (const c of containers) {
      if (this.#apply(c, byId)) ids.add(c.Id);
    }
    for (const id of [...this.#targets.keys()]) {
      if (!ids.has(id)) this.#forget(id);
    }
    this.#call('synced', () => this.#o.handler.synced(ids));
    if (!this.#synced) {
      this.#synced = true;
      this.#log.info('first container list done', { targets: ids.size });
      this.#resolveFirstSync();
    }
    return true;
  }

  /** Looks the batch's containers up through the user's filters, then reports each event in order. */
  async #applyEvents(events: readonly DockerEvent[], signal: AbortSignal): Promise<void> {
    const wanted = new Set<string>();
    for (const e of events) if (e.action !== 'destroy') wanted.add(e.id);
    let found = new Map<string, ContainerSummary>();
    if (wanted.size > 0) {
      try {
        // With a user `id` filter, adding ours would widen it (values are ORed): pick from its answer instead.
        const filters = this.#filters.id ? this.#filters : { ...this.#filters, id: [...wanted] };
        const list = await this.#o.client.listContainers(filters, signal);
        found = new Map(list.filter(c => wanted.has(c.Id)).map(c => [c.Id, c]));
        if ([...found.values()].some(c => this.#unknownNetwork(c))) {
          this.#networks = new Map((await this.#o.client.listNetworks(signal)).map(n => [n.Id, n]));
        }
      } catch (err) {
        if (signal.aborted) return;
        this.#countError();
        this.#log.warn('looking up containers of events failed; listing all', { err: errorMessage(err) });
        this.#requestList(true);
        return;
      }
    }
    if (signal.aborted) return;
    // `container:<id>` network modes resolve through the other targets too (only built when needed).
    const peers = [...found.values()].some(c => c.HostConfig?.NetworkMode?.startsWith('container:'))
      ? new Map([...this.#summaries, ...found])
      : found;
    for (const e of events) {
      const c = found.get(e.id);
      switch (e.action) {
        case 'start':
          if (c && this.#apply(c, peers, true)) this.#call('started', () => this.#o.handler.started(e.id));
          break;
        case 'rename':
          if (c) this.#apply(withoutOldName(c, e), peers, true);
          break;
        case 'die':
          // The engine sends `die` before its list shows the new state: a lookup may still say running.
          if (c) this.#apply(c, peers, true, c.State === 'running' ? 'exited' : undefined);
          if (this.#targets.has(e.id)) this.#call('died', () => this.#o.handler.died(e.id));
          break;
        case 'destroy':
          if (this.#targets.has(e.id)) {
            this.#forget(e.id);
            this.#call('destroyed', () => this.#o.handler.destroyed(e.id));
          }
          break;
      }
    }
  }

  #unknownNetwork(c: ContainerSummary): boolean {
    for (const n of Object.values(c.NetworkSettings?.Networks ?? {})) {
      if (n?.NetworkID && !this.#networks.has(n.NetworkID)) return true;
    }
    return false;
  }

  /**
   * Records a listed container and reports it when new or changed; false when it cannot be a target.
   * `peers` are the containers a `container:<id>` network mode may point to.
   * From an event (`fromEvent`), the caller reports start/die itself; from a list, a known target that
   * entered or left `running` unseen is reported as started/died here.
   */
  #apply(
    c: ContainerSummary,
    peers: ReadonlyMap<string, ContainerSummary>,
    fromEvent = false,
    state = c.State ?? '',
  ): boolean {
    const labels = metaLabels(c, this.#networks, {
      port: this.#o.port,
      hostNetworkingHost: this.#o.hostNetworkingHost,
      containers: peers,
    });
    if (labels === null) return false;
    const target: DiscoveredContainer = {
      id: c.Id,
      name: (c.Names?.[0] ?? '').replace(/^\//, ''),
      metaLabels: labels,
      state,
    };
    const before = this.#targets.get(c.Id);
    this.#summaries.set(c.Id, c);
    if (before && !changed(before, target)) return true;
    this.#targets.set(c.Id, target);
    this.#call('upsert', () => this.#o.handler.upsert(target));
    if (!fromEvent && before && before.state !== target.state) {
      if (target.state === 'running') this.#call('started', () => this.#o.handler.started(c.Id));
      else if (before.state === 'running') this.#call('died', () => this.#o.handler.died(c.Id));
    }
    return true;
  }

  #forget(id: string): void {
    this.#targets.delete(id);
    this.#summaries.delete(id);
  }
}

/**
 * The container as it is after a rename. The engine releases the old name only after it has published
 * the `rename` event (a deferred call in its ContainerRename), so a list right after the event can
 * still show both names, and names are listed sorted: `/web` before `/web-2`, the new one. The event
 * names the old one (`oldName`), which is dropped here.
 */
function withoutOldName(c: ContainerSummary, e: DockerEvent): ContainerSummary {
  const old = e.attributes.oldName;
  const names = c.Names ?? [];
  if (old === undefined || names.length < 2 || !names.includes(old)) return c;
  return { ...c, Names: names.filter(name => name !== old) };
}

function changed(a: DiscoveredContainer, b: DiscoveredContainer): boolean {
  if (a.name !== b.name || a.state !== b.state) return true;
  const ka = Object.keys(a.metaLabels);
  if (ka.length !== Object.keys(b.metaLabels).length) return true;
  for (const k of ka) if (a.metaLabels[k] !== b.metaLabels[k]) return true;
  return false;
}
