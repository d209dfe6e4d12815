import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { LogFields, Logger } from '../../src/core/logger.js';
import type { AckHandle, LogEntry, LokiStream } from '../../src/core/types.js';
import { lokiStream } from '../../src/core/types.js';
import type { LokiClientOptions } from '../../src/loki/client.js';
import { LokiClient } from '../../src/loki/client.js';
import { parseRetryAfter } from '../../src/loki/transport.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { LokiReceiver, ReceivedEntry } from '../fakes/loki-receiver.js';
import { startLokiReceiver } from '../fakes/loki-receiver.js';

const now = () => performance.timeOrigin + performance.now();

/** Records every settle; a second settle of one seq is recorded as a double. */
class Acks implements AckHandle {
  readonly settledAt = new Map<number, number>();
  readonly doubles: number[] = [];
  settle(seq: number): void {
    if (this.settledAt.has(seq)) this.doubles.push(seq);
    else this.settledAt.set(seq, now());
  }
}

/** A logger that keeps its lines, to check what the client reports. */
class MemoryLogger implements Logger {
  readonly lines: Array<{ level: string; msg: string; fields: LogFields }>;
  readonly #fields: LogFields;
  constructor(lines: Array<{ level: string; msg: string; fields: LogFields }> = [], fields: LogFields = {}) {
    this.lines = lines;
    this.#fields = fields;
  }
  debug(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'debug', msg, fields: { ...this.#fields, ...fields } });
  }
  info(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'info', msg, fields: { ...this.#fields, ...fields } });
  }
  warn(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'warn', msg, fields: { ...this.#fields, ...fields } });
  }
  error(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'error', msg, fields: { ...this.#fields, ...fields } });
  }
  child(fields: LogFields): Logger {
    return new MemoryLogger(this.lines, { ...this.#fields, ...fields });
  }
}

const STREAMS = [
  lokiStream({ container: 'web', stream: 'stdout' }),
  lokiStream({ container: 'web', stream: 'stderr' }),
  lokiStream({ container: 'db', stream: 'stdout' }),
];

/** Line `seq=<n> ` padded to `size` bytes, so the receiver's entries can be mapped back to seqs. */
function makeEntry(
  acks: Acks,
  seq: number,
  stream: LokiStream = STREAMS[0]!,
  size = 100,
  tenant?: string,
): LogEntry {
  const head = `seq=${seq} `;
  const entry: LogEntry = {
    stream,
    sec: Math.floor(Date.now() / 1000),
    nsec: seq,
    line: head + 'x'.repeat(Math.max(0, size - head.length)),
    ack: acks,
    seq,
    pending: 1,
  };
  if (tenant !== undefined) entry.tenant = tenant;
  return entry;
}

const seqOf = (e: ReceivedEntry) => Number(/^seq=(\d+)/.exec(e.line)![1]);

/** Sum of a metric's samples matching `labels`; `name` may be a histogram's `_count` series. */
async function metric(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const base = name.replace(/_count$/, '');
  const values = (await metrics.registry.getSingleMetric(base)!.get()).values;
  return values
    .filter(v => ((v as { metricName?: string }).metricName ?? base) === name)
    .filter(v => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await delay(5);
  }
}

describe('LokiClient', () => {
  let receiver: LokiReceiver;
  let metrics: Metrics;
  let logger: MemoryLogger;
  let acks: Acks;
  let clients: LokiClient[];

  before(async () => {
    receiver = await startLokiReceiver();
  });
  after(() => receiver.close());
  beforeEach(() => {
    receiver.clearFaults();
    metrics = new Metrics();
    logger = new MemoryLogger();
    acks = new Acks();
    clients = [];
  });
  afterEach(async () => {
    for (const client of clients) {
      client.abort();
      await client.stop({ deadlineMs: 0 });
    }
    assert.deepEqual(acks.doubles, [], 'an entry was settled twice');
  });

  /** Entries received since `from` (an index into receiver.entries()). */
  const since = (from: number) => receiver.entries().slice(from);

  function newClient(options: Partial<LokiClientOptions> = {}): LokiClient {
    const client = new LokiClient({
      name: 'test',
      url: receiver.url,
      batchWaitMs: 20,
      batchSizeBytes: 64 * 1024,
      timeoutMs: 1000,
      backoff: { minMs: 10, maxMs: 40, maxRetries: 3 },
      metrics,
      logger,
      ...options,
    });
    clients.push(client);
    return client;
  }

  test('sends a batch once it reaches batch_size, without waiting for batch_wait', async () => {
    const from = receiver.entries().length;
    const requestsFrom = receiver.requests().length;
    const client = newClient({ batchSizeBytes: 1000, batchWaitMs: 60_000 });
    for (let i = 0; i < 50; i++) client.push(makeEntry(acks, i));
    await receiver.waitFor(() => since(from).length === 50);
    const requests = receiver.requests().slice(requestsFrom);
    assert.deepEqual(
      requests.map(r => r.accepted),
      [10, 10, 10, 10, 10],
    );
    await until(() => acks.settledAt.size === 50);
    assert.equal(await metric(metrics, 'docktail_sent_entries_total', { client: 'test' }), 50);
    assert.equal(await metric(metrics, 'docktail_sent_bytes_total', { client: 'test' }), 5000);
  });

  test('sends a smaller batch once it is older than batch_wait', async () => {
    const from = receiver.entries().length;
    const client = newClient({ batchWaitMs: 150 });
    const start = now();
    for (let i = 0; i < 3; i++) client.push(makeEntry(acks, i, STREAMS[i]));
    await receiver.waitFor(() => since(from).length === 3);
    const waited = since(from)[0]!.receivedAt - start;
    assert.ok(waited >= 145, `sent after ${waited} ms`);
    assert.ok(waited < 600, `sent after ${waited} ms`);
    assert.equal(new Set(since(from).map(e => e.receivedAt)).size, 1, 'one request');
  });

  test('sendDue sends the open batches due within the given time, and only those', async () => {
    const from = receiver.entries().length;
    const requestsFrom = receiver.requests().length;
    const client = newClient({ batchWaitMs: 10_000 });
    client.push(makeEntry(acks, 0, STREAMS[0], 100, 'a'));
    await delay(300);
    client.push(makeEntry(acks, 1, STREAMS[0], 100, 'b')); // tenant b's batch is due ~300 ms later
    client.sendDue(9_850); // tenant a's batch is due within ~9.7 s, b's in ~10 s
    await receiver.waitFor(() => since(from).length === 1);
    assert.deepEqual(
      since(from).map(e => [seqOf(e), e.tenant]),
      [[0, 'a']],
    );
    client.sendDue(10_000);
    await receiver.waitFor(() => since(from).length === 2);
    assert.deepEqual(
      since(from).map(e => seqOf(e)),
      [0, 1],
    );
    assert.equal(receiver.requests().length - requestsFrom, 2, 'one request per batch, none sent twice');
    await until(() => acks.settledAt.size === 2);
  });

  test('keeps per-stream order across many batches and a failure', async () => {
    const from = receiver.entries().length;
    const client = newClient({ batchSizeBytes: 2000 });
    receiver.failWith(503, { count: 2 });
    for (let i = 0; i < 600; i++) client.push(makeEntry(acks, i, STREAMS[i % 3], 50 + (i % 7) * 20));
    await receiver.waitFor(() => since(from).length >= 600);
    await until(() => acks.settledAt.size === 600);
    const got = since(from);
    assert.equal(got.length, 600);
    for (const stream of STREAMS) {
      const seqs = got.filter(e => e.labelsString === stream.key).map(seqOf);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        `order of ${stream.key}`,
      );
      assert.equal(seqs.length, 200);
    }
  });

  test('retries 503 and loses nothing; settles only after acceptance', async () => {
    const from = receiver.entries().length;
    const client = newClient();
    receiver.failWith(503, { count: 3 });
    for (let i = 0; i < 20; i++) client.push(makeEntry(acks, i));
    await receiver.waitFor(() => since(from).length === 20);
    await until(() => acks.settledAt.size === 20);
    assert.deepEqual(since(from).map(seqOf), [...Array(20).keys()]);
    const accepted = since(from)[0]!.receivedAt;
    for (const at of acks.settledAt.values()) assert.ok(at >= accepted, 'settled before Loki accepted');
    assert.equal(await metric(metrics, 'docktail_push_retries_total', { client: 'test', reason: '503' }), 3);
    assert.equal(await metric(metrics, 'docktail_request_duration_seconds_count', { status_code: '503' }), 3);
    assert.equal(await metric(metrics, 'docktail_request_duration_seconds_count', { status_code: '204' }), 1);
    assert.equal(await metric(metrics, 'docktail_batch_latency_seconds_count', { client: 'test' }), 1);
    assert.equal(client.status().retrying, false);
    assert.equal(client.status().failingSince, undefined);
  });

  test('nothing is settled while Loki holds the request', async () => {
    const from = receiver.entries().length;
    receiver.stall();
    const client = newClient();
    for (let i = 0; i < 5; i++) client.push(makeEntry(acks, i));
    await until(() => receiver.requests().some(r => r.status === 0));
    await delay(100);
    assert.equal(acks.settledAt.size, 0);
    receiver.unstall();
    await until(() => acks.settledAt.size === 5);
    assert.equal(since(from).length, 5);
  });

  test('honours Retry-After', async () => {
    const requestsFrom = receiver.requests().length;
    receiver.failWith(429, { count: 1, retryAfter: 1 });
    // Retry-After is honoured up to the longest backoff, so that must be above one second here.
    const client = newClient({ backoff: { minMs: 10, maxMs: 2000, maxRetries: 3 } });
    client.push(makeEntry(acks, 1));
    await until(() => acks.settledAt.size === 1, 4000);
    const [first, second] = receiver.requests().slice(requestsFrom);
    const gap = second!.at - first!.at;
    assert.ok(gap >= 995 && gap < 1600, `retried after ${gap} ms`);
    assert.equal(await metric(metrics, 'docktail_push_retries_total', { reason: '429' }), 1);
  });

  test('parses Retry-After seconds and HTTP dates', () => {
    const at = Date.parse('2026-01-01T00:00:00Z');
    const cases: Array<[string | undefined, number | undefined]> = [
      ['5', 5000],
      [' 0 ', 0],
      ['Thu, 01 Jan 2026 00:00:03 GMT', 3000],
      ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
      ['soon', undefined],
      ['-1', undefined],
      [undefined, undefined],
    ];
    for (const [value, expected] of cases) assert.equal(parseRetryAfter(value, at), expected, String(value));
  });

  test('400: drops the batch without retrying, counts it, settles it, and later entries flow', async () => {
    const from = receiver.entries().length;
    const requestsFrom = receiver.requests().length;
    receiver.rejectLinesMatching(/^seq=2 /);
    const client = newClient();
    for (let i = 0; i < 4; i++) client.push(makeEntry(acks, i));
    await until(() => acks.settledAt.size === 4);
    assert.equal(receiver.requests().length - requestsFrom, 1, 'not retried');
    assert.deepEqual(since(from).map(seqOf), [0, 1, 3]);
    assert.equal(
      await metric(metrics, 'docktail_dropped_entries_total', { client: 'test', reason: 'ingester_error' }),
      4,
    );
    const logged = logger.lines.find(
      l => l.level === 'error' && String(l.fields.err).includes('total ignored: 1'),
    );
    assert.ok(logged, "Loki's message is logged");
    receiver.rejectLinesMatching(undefined);
    for (let i = 4; i < 8; i++) client.push(makeEntry(acks, i));
    await until(() => acks.settledAt.size === 8);
    assert.deepEqual(since(from).map(seqOf), [0, 1, 3, 4, 5, 6, 7]);
    assert.equal(client.status().lastError, undefined);
    assert.ok(client.status().lastPushAt !== undefined);
  });

  test('413: splits the batch in halves until it fits; a single entry too large is dropped', async () => {
    const from = receiver.entries().length;
    receiver.maxBodyBytes = 900;
    try {
      const client = newClient({ batchWaitMs: 30 });
      // Random-looking lines do not compress, so the body grows with the batch.
      const noisy = (seq: number) => {
        const entry = makeEntry(acks, seq, STREAMS[seq % 2]);
        entry.line = `seq=${seq} ${randomBytes(60).toString('base64')}`;
        return entry;
      };
      for (let i = 0; i < 40; i++) client.push(noisy(i));
      await until(() => acks.settledAt.size === 40);
      const got = since(from);
      assert.deepEqual(
        got.map(seqOf).sort((a, b) => a - b),
        [...Array(40).keys()],
      );
      for (const stream of [STREAMS[0]!, STREAMS[1]!]) {
        const seqs = got.filter(e => e.labelsString === stream.key).map(seqOf);
        assert.deepEqual(
          seqs,
          [...seqs].sort((a, b) => a - b),
        );
      }
      assert.ok(receiver.requests().some(r => r.status === 413));
      const big = makeEntry(acks, 100, STREAMS[0], 5000);
      big.line = `seq=100 ${randomBytes(3000).toString('base64')}`;
      client.push(big);
      await until(() => acks.settledAt.has(100));
      assert.equal(await metric(metrics, 'docktail_dropped_entries_total', { reason: 'too_large' }), 1);
      assert.equal(await metric(metrics, 'docktail_sent_entries_total', { client: 'test' }), 40);
    } finally {
      receiver.maxBodyBytes = undefined;
    }
  });

  test('a stalled request times out and is retried', async () => {
    const from = receiver.entries().length;
    const requestsFrom = receiver.requests().length;
    receiver.stall();
    const client = newClient({ timeoutMs: 150 });
    for (let i = 0; i < 3; i++) client.push(makeEntry(acks, i));
    await until(() => receiver.requests().length - requestsFrom >= 2);
    receiver.unstall();
    await until(() => acks.settledAt.size === 3);
    assert.deepEqual(since(from).map(seqOf), [0, 1, 2]);
    assert.ok((await metric(metrics, 'docktail_push_retries_total', { reason: 'network' })) >= 1);
  });

  test('a connection dropped after acceptance is retried: duplicates only within that batch', async () => {
    const from = receiver.entries().length;
    receiver.dropConnectionAfterAccept(1);
    const client = newClient({ batchSizeBytes: 500 });
    for (let i = 0; i < 20; i++) client.push(makeEntry(acks, i));
    await until(() => acks.settledAt.size === 20);
    const seqs = since(from).map(seqOf);
    assert.deepEqual(
      [...new Set(seqs)].sort((a, b) => a - b),
      [...Array(20).keys()],
    );
    const duplicated = seqs.filter((s, i) => seqs.indexOf(s) !== i);
    assert.deepEqual(duplicated, [0, 1, 2, 3, 4], 'the first batch (5 × 100 bytes) came twice');
  });

  test('push returns false over max_pending_bytes and drained() resolves once Loki accepts', async () => {
    const from = receiver.entries().length;
    receiver.stall();
    const client = newClient({ batchSizeBytes: 500, maxPendingBytes: 2000 });
    let pushed = 0;
    while (client.push(makeEntry(acks, pushed++)));
    assert.equal(pushed, 21, 'false once more than 2000 bytes are held');
    assert.equal(client.pendingBytes, 2100);
    let drained = false;
    const waiting = client.drained().then(() => {
      drained = true;
    });
    await delay(100);
    assert.equal(drained, false);
    receiver.unstall();
    await waiting;
    assert.ok(client.pendingBytes <= 2000);
    await until(() => acks.settledAt.size === 21);
    assert.equal(since(from).length, 21);
    assert.equal(client.pendingBytes, 0);
    assert.equal(await client.drained(), undefined);
  });

  test('stop() flushes open batches within the deadline', async () => {
    const from = receiver.entries().length;
    const client = newClient({ batchWaitMs: 60_000 });
    for (let i = 0; i < 10; i++) client.push(makeEntry(acks, i, STREAMS[i % 3]));
    const start = Date.now();
    await client.stop({ deadlineMs: 3000 });
    assert.ok(Date.now() - start < 1000);
    assert.equal(since(from).length, 10);
    assert.equal(acks.settledAt.size, 10);
  });

  test('stop() gives up at the deadline and leaves unaccepted entries unsettled', async () => {
    receiver.failWith(503);
    const client = newClient({ batchSizeBytes: 300 });
    for (let i = 0; i < 10; i++) client.push(makeEntry(acks, i));
    await until(() => client.status().retrying);
    const start = Date.now();
    await client.stop({ deadlineMs: 200 });
    const took = Date.now() - start;
    assert.ok(took >= 190 && took < 800, `stopped after ${took} ms`);
    assert.equal(acks.settledAt.size, 0);
    assert.equal(client.pendingBytes, 0);
    assert.equal(client.push(makeEntry(acks, 11)), true, 'push after stop is accepted and ignored');
    await delay(50);
    assert.equal(acks.settledAt.size, 0);
    assert.ok(
      logger.lines.some(l => l.level === 'warn' && l.msg.startsWith('stopping before Loki accepted')),
    );
  });

  test('keeps retrying after max_retries and reports failing until Loki is back', async () => {
    const from = receiver.entries().length;
    receiver.failWith(500);
    const client = newClient({ backoff: { minMs: 5, maxMs: 30, maxRetries: 2 } });
    client.push(makeEntry(acks, 1));
    await until(() => client.status().failingSince !== undefined);
    assert.equal(client.status().retrying, true);
    assert.match(client.status().lastError ?? '', /500/);
    assert.ok(logger.lines.some(l => l.level === 'error' && l.msg.startsWith('Loki keeps failing')));
    await delay(120); // several more tries at maxMs
    assert.equal(acks.settledAt.size, 0);
    assert.equal(await metric(metrics, 'docktail_dropped_entries_total', {}), 0);
    receiver.clearFaults();
    await until(() => acks.settledAt.size === 1);
    assert.equal(since(from).length, 1);
    assert.equal(client.status().failingSince, undefined);
    assert.equal(client.status().retrying, false);
  });

  test('drop_rate_limited_batches drops a 429 batch and settles it', async () => {
    const requestsFrom = receiver.requests().length;
    receiver.failWith(429, { count: 1 });
    const client = newClient({ dropRateLimitedBatches: true });
    for (let i = 0; i < 3; i++) client.push(makeEntry(acks, i));
    await until(() => acks.settledAt.size === 3);
    assert.equal(receiver.requests().length - requestsFrom, 1);
    assert.equal(await metric(metrics, 'docktail_dropped_entries_total', { reason: 'rate_limited' }), 3);
  });

  test('one batch per tenant; headers, auth and external labels', async () => {
    const from = receiver.entries().length;
    const requestsFrom = receiver.requests().length;
    const client = newClient({
      tenantId: 'default-team',
      externalLabels: { host: 'node-1', container: 'overridden?' },
      headers: { 'X-Scope-OrgID': 'evil', 'X-Custom': 'yes' },
      basicAuth: { username: 'u', password: 'p' },
      userAgent: 'docktail/test',
    });
    client.push(makeEntry(acks, 0));
    client.push(makeEntry(acks, 1, STREAMS[2], 100, 'team-b'));
    client.push(makeEntry(acks, 2, STREAMS[1]));
    await until(() => acks.settledAt.size === 3);
    const requests = receiver.requests().slice(requestsFrom);
    assert.equal(requests.length, 2);
    const byTenant = new Map(requests.map(r => [r.headers['x-scope-orgid'], r]));
    assert.deepEqual([...byTenant.keys()].sort(), ['default-team', 'team-b']);
    for (const r of requests) {
      assert.equal(r.headers['content-type'], 'application/x-protobuf');
      assert.equal(r.headers['user-agent'], 'docktail/test');
      assert.equal(r.headers['x-custom'], 'yes');
      assert.equal(r.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
    }
    const got = since(from);
    assert.deepEqual(
      got.find(e => seqOf(e) === 0)?.labels,
      { container: 'web', host: 'node-1', stream: 'stdout' },
      "the stream's own label wins",
    );
    assert.equal(got.find(e => seqOf(e) === 1)?.tenant, 'team-b');
    assert.equal(
      got.find(e => seqOf(e) === 1)?.labelsString,
      '{container="db", host="node-1", stream="stdout"}',
    );
  });

  test('bearer token, and userinfo in the URL as basic auth (not sent in the request line)', async () => {
    const requestsFrom = receiver.requests().length;
    const bearer = newClient({ bearerToken: 's3cret' });
    bearer.push(makeEntry(acks, 0));
    await until(() => acks.settledAt.size === 1);
    assert.equal(receiver.requests()[requestsFrom]!.headers.authorization, 'Bearer s3cret');
    assert.equal(
      receiver.requests()[requestsFrom]!.headers['x-scope-orgid'],
      undefined,
      'no tenant, no header',
    );
    const userinfo = newClient({ url: receiver.url.replace('http://', 'http://me:p%40ss@') });
    userinfo.push(makeEntry(acks, 1));
    await until(() => acks.settledAt.size === 2);
    const last = receiver.requests().at(-1)!;
    assert.equal(last.headers.authorization, `Basic ${Buffer.from('me:p@ss').toString('base64')}`);
    assert.equal(last.path, '/loki/api/v1/push');
  });

  test('a network error (nothing listening) is retried, and the client reports it', async () => {
    const closed = await startLokiReceiver();
    const url = closed.url;
    await closed.close();
    const client = newClient({ url, backoff: { minMs: 5, maxMs: 10, maxRetries: 2 } });
    client.push(makeEntry(acks, 0));
    await until(() => client.status().failingSince !== undefined);
    assert.match(client.status().lastError ?? '', /ECONNREFUSED/);
    assert.ok((await metric(metrics, 'docktail_push_retries_total', { reason: 'network' })) >= 2);
    assert.equal(acks.settledAt.size, 0);
  });

  test('metrics are initialised per client and pending bytes are exported', async () => {
    const client = newClient({ name: 'fresh', batchWaitMs: 1000 });
    assert.equal(
      await metric(metrics, 'docktail_dropped_entries_total', { client: 'fresh', reason: 'too_large' }),
      0,
    );
    client.push(makeEntry(acks, 0, STREAMS[0], 300));
    await until(() => client.pendingBytes === 300);
    await delay(150); // the ticker (every batch_wait / 10) refreshes the gauge
    assert.equal(await metric(metrics, 'docktail_pending_bytes', { client: 'fresh' }), 300);
  });
});
