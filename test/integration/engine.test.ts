// Facts about the engine that docktail relies on, checked against the real engine of the test setup.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  docker,
  groundTruth,
  parseRfc3339Nano,
  removeContainers,
  runContainer,
  waitExit,
} from '../harness/docker.js';

const created: string[] = [];
after(() => removeContainers(created));

test('the logs endpoint takes a fractional since, inclusive, to the nanosecond', async () => {
  const id = await runContainer('for i in 1 2 3 4 5; do echo line$i; usleep 20000; done');
  created.push(id);
  await waitExit(id);
  const truth = await groundTruth(id);
  assert.equal(truth.length, 5);
  const third = truth[2]!;
  const { sec, nsec } = parseRfc3339Nano(third.ts);
  const since = `${sec}.${String(nsec).padStart(9, '0')}`;
  const inclusive = await docker(['logs', '--since', since, id]);
  assert.deepEqual(inclusive.split('\n'), ['line3', 'line4', 'line5']);
  const after1ns = `${sec}.${String(nsec + 1).padStart(9, '0')}`;
  const exclusive = await docker(['logs', '--since', after1ns, id]);
  assert.deepEqual(exclusive.split('\n'), ['line4', 'line5']);
});
