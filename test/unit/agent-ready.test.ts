// /ready: the rule (first discovery done, no client failing every try for a minute, positions writable),
// a real Loki client that fails every try feeding it, and the HTTP route's status codes.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { readiness } from '../../src/app/agent.js';
import { silentLogger } from '../../src/core/logger.js';
import type { AckHandle, LogEntry } from '../../src/core/types.js';
import { lokiStream } from '../../src/core/types.js';
import { LokiClient } from '../../src/loki/client.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { HttpServer } from '../../src/server/http.js';
import { startLokiReceiver } from '../fakes/loki-receiver.js';

const NOW = 1_700_000_000_000;
const MINUTE = 60_000;

describe('readiness', () => {
  const cases: Array<{
    name: string;
    input: Parameters<typeof readiness>[0];
    ready: boolean;
    reasons?: RegExp[];
  }> = [
    {
      name: 'first discovery done, clients fine, positions fine',
      input: { firstSync: true, clients: [{ name: 'a' }], positions: { ok: true }, now: NOW },
      ready: true,
    },
    {
      name: 'before the first discovery',
      input: { firstSync: false, clients: [{ name: 'a' }], now: NOW },
      ready: false,
      reasons: [/first discovery not finished/],
    },
    {
      name: 'a client failing every try for 59 s',
      input: { firstSync: true, clients: [{ name: 'a', failingSince: NOW - 59_000 }], now: NOW },
      ready: true,
    },
    {
      name: 'a client failing every try for exactly a minute',
      input: { firstSync: true, clients: [{ name: 'a', failingSince: NOW - MINUTE }], now: NOW },
      ready: false,
      reasons: [/client a has failed every push for 60s/],
    },
    {
      name: 'one client of two failing for 5 minutes',
      input: {
        firstSync: true,
        clients: [{ name: 'ok' }, { name: 'down', failingSince: NOW - 5 * MINUTE }],
        now: NOW,
      },
      ready: false,
      reasons: [/client down has failed every push for 300s/],
    },
    {
      name: 'a shorter threshold when asked',
      input: {
        firstSync: true,
        clients: [{ name: 'a', failingSince: NOW - 2_000 }],
        now: NOW,
        failingMs: 1_000,
      },
      ready: false,
      reasons: [/client a/],
    },
    {
      name: 'positions not writable',
      input: { firstSync: true, clients: [], positions: { ok: false, lastError: 'EACCES' }, now: NOW },
      ready: false,
      reasons: [/positions file not writable: EACCES/],
    },
    {
      name: 'every reason at once',
      input: {
        firstSync: false,
        clients: [{ name: 'a', failingSince: NOW - 2 * MINUTE }],
        positions: { ok: false },
        now: NOW,
      },
      ready: false,
      reasons: [/first discovery/, /client a/, /positions file not writable: unknown error/],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = readiness(c.input);
      assert.equal(r.ready, c.ready);
      const want = c.reasons ?? [];
      assert.equal(r.reasons.length, want.length, r.reasons.join('; '));
      want.forEach((re, i) => {
        assert.match(r.reasons[i]!, re);
      });
    });
  }
});

describe('a Loki client that fails every try', () => {
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of closers) await close();
  });

  it('is reported failing after max_retries, not ready a minute later, ready again once Loki accepts', async () => {
    const receiver = await startLokiReceiver();
    closers.push(() => receiver.close());
    receiver.failWith(503);
    const client = new LokiClient({
      name: 'test-client',
      url: receiver.url,
      batchWaitMs: 10,
      backoff: { minMs: 10, maxMs: 40, maxRetries: 3 },
      metrics: new Metrics(),
      logger: silentLogger,
    });
    closers.push(() => client.stop({ deadlineMs: 100 }));
    const settled: number[] = [];
    const ack: AckHandle = { settle: seq => settled.push(seq) };
    const entry: LogEntry = {
      stream: lokiStream({ job: 'x' }),
      sec: Math.floor(Date.now() / 1000),
      nsec: 0,
      line: 'hello',
      ack,
      seq: 1,
      pending: 1,
    };
    const before = Date.now();
    client.push(entry);
    await waitUntil(() => client.status().failingSince !== undefined, 5_000);
    const since = client.status().failingSince!;
    assert.ok(since >= before && since <= Date.now());
    assert.ok(
      receiver.requests().filter(r => r.status === 503).length >= 3,
      'failed max_retries times first',
    );
    assert.deepEqual(settled, [], 'a failing batch is kept, not dropped');

    const at = (now: number) =>
      readiness({ firstSync: true, clients: [{ name: client.name, failingSince: since }], now });
    assert.equal(at(since + 59_999).ready, true, 'failing for less than a minute: still ready');
    const late = at(since + MINUTE);
    assert.equal(late.ready, false);
    assert.match(late.reasons[0]!, /client test-client has failed every push/);

    receiver.clearFaults();
    await waitUntil(() => settled.length === 1, 5_000);
    assert.equal(client.status().failingSince, undefined, 'accepted again: no longer failing');
    assert.equal(
      readiness({
        firstSync: true,
        clients: [{ name: client.name, ...client.status() }],
        now: since + MINUTE,
      }).ready,
      true,
    );
    assert.equal(receiver.entries().length, 1, 'the kept batch arrived once');
  });
});

describe('GET /ready', () => {
  it('answers 200 when ready and 503 with the reasons when not', async () => {
    let state = readiness({ firstSync: true, clients: [{ name: 'a' }], now: NOW });
    const server = new HttpServer({
      address: '127.0.0.1',
      port: 0,
      metrics: new Metrics(),
      logger: silentLogger,
      ready: () => state,
      targets: () => ({}),
      beforeScrape: () => {},
    });
    const port = await server.listen();
    try {
      const ok = await fetch(`http://127.0.0.1:${port}/ready`);
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), 'Ready\n');
      state = readiness({ firstSync: true, clients: [{ name: 'a', failingSince: NOW - 61_000 }], now: NOW });
      const down = await fetch(`http://127.0.0.1:${port}/ready`);
      assert.equal(down.status, 503);
      assert.match(await down.text(), /^Not ready: client a has failed every push for 61s\n$/);
    } finally {
      await server.close();
    }
  });
});

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise(r => setTimeout(r, 10));
  }
}
