//! The follow-stream metrics: how many logs streams each engine has open for docktail, the engine
//! host's inotify budget for them (`fs.inotify.max_user_instances`, local engines only), and the
//! streams' socket reads. All are read at scrape time from the Docker clients, so following costs
//! nothing per stream or read for them.

import type { DockerClient } from '../docker/client.js';
import type { Metrics } from '../metrics/metrics.js';
import { Counter, Gauge } from '../metrics/prom.js';

/**
 * Registers `docktail_follow_streams{host}`, `docktail_follow_streams_inotify_budget{host}` and
 * `docktail_follow_reads_total{host}`.
 */
export function registerFollowMetrics(metrics: Metrics, clients: () => Iterable<DockerClient>): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'docktail_follow_streams',
    help: 'Log streams open in follow mode, per engine (the engine holds one inotify instance for each).',
    labelNames: ['host'],
    registers,
    collect() {
      for (const c of clients()) this.set({ host: c.name }, c.follows.open);
    },
  });
  new Gauge({
    name: 'docktail_follow_streams_inotify_budget',
    help:
      "The engine host's fs.inotify.max_user_instances (local engines): past it the engine polls the " +
      'extra follow streams every 200 ms.',
    labelNames: ['host'],
    registers,
    collect() {
      for (const c of clients()) {
        const limit = c.follows.limit;
        if (limit !== undefined) this.set({ host: c.name }, limit);
      }
    },
  });
  new Counter({
    name: 'docktail_follow_reads_total',
    help:
      'Socket reads of the log streams, per engine: against docktail_read_entries_total, how many lines a ' +
      'read brings (quiet streams are read once per batch wait, busy ones in gathered reads).',
    labelNames: ['host'],
    registers,
    collect() {
      this.reset();
      for (const c of clients()) this.inc({ host: c.name }, c.follows.reads);
    },
  });
}
