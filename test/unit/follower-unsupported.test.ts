// A container whose log driver cannot be read (`--log-driver none`): the follower says so once and waits
// for the container's end; a start event or a re-list (wake) does not make it open the stream again.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DockerError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import type { EntrySink } from '../../src/core/types.js';
import type { DockerClient } from '../../src/docker/client.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { CursorTracker } from '../../src/positions/tracker.js';
import { Follower } from '../../src/targets/follower.js';

test('an unsupported log driver is tried once, whatever wakes the follower, until the container is gone', async () => {
  let opens = 0;
  let follower: Follower | undefined;
  const client = {
    name: 'fake',
    inspectContainer: async () => ({
      Config: { Tty: false },
      State: { Running: true, StartedAt: '2026-11-21T00:00:00Z' },
    }),
    openLogs: async () => {
      opens += 1;
      // The container's start event (or a re-list) arrives while the stream is being opened.
      follower!.wake();
      throw new DockerError('configured logging driver does not support reading', 501);
    },
  } as unknown as DockerClient;
  const sink: EntrySink = { push: () => true, drained: () => Promise.resolve() };
  const lines: string[] = [];
  follower = new Follower({
    id: 'c0ffee',
    name: '/no-logs',
    routes: {},
    client,
    sink,
    tracker: new CursorTracker(undefined, () => {}),
    maxLineSize: 0,
    truncate: false,
    metrics: new Metrics(),
    logger: createLogger({ level: 'info', write: line => lines.push(line) }),
  });
  const done = follower.start();
  for (let i = 0; i < 50 && follower.state !== 'unsupported'; i++) await new Promise(r => setTimeout(r, 2));
  assert.equal(follower.state, 'unsupported');
  follower.wake();
  await new Promise(r => setTimeout(r, 20));
  assert.equal(opens, 1, 'opened once');
  assert.equal(lines.filter(l => l.includes('cannot be read through the API')).length, 1, lines.join('\n'));
  assert.equal(follower.state, 'unsupported');
  follower.destroyed();
  await done;
  assert.equal(follower.state, 'ended');
});
