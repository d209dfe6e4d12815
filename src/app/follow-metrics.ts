//! The follow-stream gauges: how many logs streams each engine has open for docktail, and the engine
//! host's inotify budget for them (`fs.inotify.max_user_instances`, local engines only). Both are read
//! at scrape time from the Docker clients, so following costs nothing per stream for them.

import type { DockerClient } from '../docker/client.js';
import type { Metrics } from '../metrics/metrics.js';
import { Gauge } from '../metrics/prom.js';

/** Registers `docktail_follow_streams{host}` and `docktail_follow_streams_inotify_budget{host}`. */
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
}
