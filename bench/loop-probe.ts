//! An idle Node process that only measures its own event-loop delay (monitorEventLoopDelay at the same
//! resolution as docktail's prom-client metrics): what the machine alone does to a loop that has nothing to do.
//! bench/run.ts quotes it beside docktail's figure, so a busy machine is not taken for a blocked loop.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EVENT_LOOP_RESOLUTION_MS } from '../src/metrics/metrics.js';

const histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
histogram.enable();
// Each message answers with the delay since the previous one, and starts a new window.
process.on('message', (msg: { id: number }) => {
  const p99Ms = histogram.percentile(99) / 1e6;
  const maxMs = histogram.max / 1e6;
  histogram.reset();
  process.send?.({ id: msg.id, p99Ms, maxMs });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
