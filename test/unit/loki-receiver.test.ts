import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';
import protobuf from 'protobufjs';
import { compress } from 'snappyjs';
import { encodePushRequest } from '../../src/loki/encode.js';
import { PushRequestType, parseLabels } from '../fakes/loki-push-decode.js';
import type { LokiReceiver } from '../fakes/loki-receiver.js';
import { startLokiReceiver } from '../fakes/loki-receiver.js';

const TS = { seconds: 1_790_000_000, nanos: 5 };

/** A snappy body from a reflection message (which may set fields a client must not). */
function body(message: Record<string, unknown>): Buffer {
  return compress(Buffer.from(PushRequestType.encode(message).finish()));
}

function oneStream(labels: string, entry: Record<string, unknown> = { timestamp: TS, line: 'x' }) {
  return body({ streams: [{ labels, entries: [entry] }] });
}

/** An entry carrying field 9, unknown to push.proto. */
function withUnknownField(): Buffer {
  const entry = protobuf.Writer.create();
  entry.uint32(10).fork().uint32(8).uint32(1).ldelim().uint32(18).string('x').uint32(74).string('?');
  const entryBytes = entry.finish();
  const stream = protobuf.Writer.create().uint32(10).string('{a="b"}').uint32(18).bytes(entryBytes).finish();
  return compress(Buffer.from(protobuf.Writer.create().uint32(10).bytes(stream).finish()));
}

async function post(
  url: string,
  payload: Buffer,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/x-protobuf', ...headers },
    ...(method === 'POST' && { body: payload }),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const good = () =>
  encodePushRequest([
    { labels: '{job="a"}', entries: [{ sec: 1_790_000_000, nsec: 1, line: 'one', metadata: { k: 'v' } }] },
  ]);

describe('parseLabels', () => {
  test('reads Go-quoted values', () => {
    assert.deepEqual(parseLabels('{a="x\\"y\\n", b="\\u00e9\\x41\\101", c="C:\\\\"}'), {
      a: 'x"y\n',
      b: 'éAA',
      c: 'C:\\',
    });
    assert.deepEqual(parseLabels('{ a = "1" ,b="2" }'), { a: '1', b: '2' });
  });
});

describe('loki receiver', () => {
  let receiver: LokiReceiver;
  before(async () => {
    receiver = await startLokiReceiver();
  });
  after(() => receiver.close());
  beforeEach(() => receiver.clearFaults());

  const rejections: Array<{ name: string; payload: () => Buffer; message: RegExp }> = [
    { name: 'bad snappy', payload: () => Buffer.from('not snappy at all'), message: /snappy/ },
    {
      name: 'bad protobuf',
      payload: () => compress(Buffer.from([0x0a, 0xff, 0xff, 0x01])),
      message: /proto/,
    },
    { name: 'no labels', payload: () => oneStream('{}'), message: /at least one label pair/ },
    { name: 'empty label string', payload: () => oneStream(''), message: /parse error/ },
    { name: 'unterminated set', payload: () => oneStream('{a="b"'), message: /parse error/ },
    { name: 'unquoted value', payload: () => oneStream('{a=b}'), message: /expected/ },
    { name: 'trailing comma', payload: () => oneStream('{a="b",}'), message: /trailing comma/ },
    { name: 'bad escape', payload: () => oneStream('{a="\\q"}'), message: /unknown escape/ },
    { name: 'duplicate names', payload: () => oneStream('{a="b", a="c"}'), message: /duplicate label name/ },
    { name: 'name with a dash', payload: () => oneStream('{a-b="c"}'), message: /invalid label name/ },
    {
      name: 'name starting with a digit',
      payload: () => oneStream('{1a="c"}'),
      message: /invalid label name/,
    },
    {
      name: 'seconds past year 9999',
      payload: () => oneStream('{a="b"}', { timestamp: { seconds: 253_402_300_800, nanos: 0 }, line: 'x' }),
      message: /timestamp out of range/,
    },
    {
      name: 'nanos of a full second',
      payload: () => oneStream('{a="b"}', { timestamp: { seconds: 1, nanos: 1_000_000_000 }, line: 'x' }),
      message: /timestamp out of range/,
    },
    {
      name: 'negative nanos',
      payload: () => oneStream('{a="b"}', { timestamp: { seconds: 1, nanos: -1 }, line: 'x' }),
      message: /timestamp out of range/,
    },
    {
      name: 'no timestamp',
      payload: () => oneStream('{a="b"}', { line: 'x' }),
      message: /without timestamp/,
    },
    {
      name: 'hash set',
      payload: () =>
        body({ streams: [{ labels: '{a="b"}', hash: 42, entries: [{ timestamp: TS, line: 'x' }] }] }),
      message: /hash set by the client/,
    },
    {
      name: 'parsed set',
      payload: () => oneStream('{a="b"}', { timestamp: TS, line: 'x', parsed: [{ name: 'p', value: 'q' }] }),
      message: /parsed labels set by the client/,
    },
    { name: 'format set', payload: () => body({ streams: [], format: 'otlp' }), message: /format set/ },
    { name: 'unknown field', payload: withUnknownField, message: /unknown field in EntryAdapter/ },
  ];
  for (const { name, payload, message } of rejections) {
    test(`answers 400 and records nothing: ${name}`, async () => {
      const before = receiver.entries().length;
      const res = await post(receiver.url, payload());
      assert.equal(res.status, 400);
      assert.match(res.text, message);
      assert.equal(receiver.entries().length, before);
      assert.equal(receiver.requests().at(-1)?.status, 400);
    });
  }

  test('accepts a valid push with 204 and records entries, tenant and request', async () => {
    const sentAt = performance.timeOrigin + performance.now();
    const res = await post(receiver.url, good(), { 'x-scope-orgid': 'team-a' });
    assert.equal(res.status, 204);
    const entry = receiver.entries().at(-1)!;
    assert.deepEqual(
      { labels: entry.labels, sec: entry.sec, nsec: entry.nsec, line: entry.line, meta: entry.metadata },
      { labels: { job: 'a' }, sec: 1_790_000_000, nsec: 1, line: 'one', meta: { k: 'v' } },
    );
    assert.equal(entry.tenant, 'team-a');
    assert.ok(entry.receivedAt >= sentAt && entry.receivedAt < sentAt + 5000);
    const request = receiver.requests().at(-1)!;
    assert.equal(request.status, 204);
    assert.equal(request.accepted, 1);
    assert.equal(request.headers['x-scope-orgid'], 'team-a');
  });

  test('answers 404, 405 and 415 for the wrong path, method and content type', async () => {
    assert.equal((await post(receiver.url.replace('/push', '/pushx'), good())).status, 404);
    assert.equal((await post(receiver.url, good(), {}, 'GET')).status, 405);
    assert.equal((await post(receiver.url, good(), { 'content-type': 'application/json' })).status, 415);
  });

  test('failWith: count, Retry-After and body, then accepts again', async () => {
    receiver.failWith(503, { count: 2, retryAfter: 3, body: 'slow down' });
    const first = await post(receiver.url, good());
    assert.deepEqual([first.status, first.text, first.headers.get('retry-after')], [503, 'slow down', '3']);
    assert.equal((await post(receiver.url, good())).status, 503);
    assert.equal((await post(receiver.url, good())).status, 204);
  });

  test('failWith: untilMs', async () => {
    receiver.failWith(500, { untilMs: 150 });
    assert.equal((await post(receiver.url, good())).status, 500);
    await new Promise(resolve => setTimeout(resolve, 200));
    assert.equal((await post(receiver.url, good())).status, 204);
  });

  test('stall holds requests until unstall', async () => {
    receiver.stall();
    let answered = false;
    const pending = post(receiver.url, good()).then(res => {
      answered = true;
      return res;
    });
    await new Promise(resolve => setTimeout(resolve, 100));
    assert.equal(answered, false);
    receiver.unstall();
    assert.equal((await pending).status, 204);
  });

  test('dropConnectionAfterAccept records the entries and answers nothing', async () => {
    receiver.dropConnectionAfterAccept(1);
    const before = receiver.entries().length;
    await assert.rejects(post(receiver.url, good()));
    assert.equal(receiver.entries().length, before + 1);
    assert.equal(receiver.requests().at(-1)?.status, 0);
    assert.equal((await post(receiver.url, good())).status, 204);
  });

  test('rejectLinesMatching stores the other entries and answers 400', async () => {
    receiver.rejectLinesMatching(/bad/);
    const before = receiver.entries().length;
    const payload = encodePushRequest([
      {
        labels: '{job="a"}',
        entries: [
          { sec: 1, nsec: 0, line: 'ok 1' },
          { sec: 2, nsec: 0, line: 'bad 2' },
          { sec: 3, nsec: 0, line: 'ok 3' },
        ],
      },
    ]);
    const res = await post(receiver.url, payload);
    assert.equal(res.status, 400);
    assert.match(res.text, /total ignored: 1 out of 3/);
    assert.deepEqual(
      receiver
        .entries()
        .slice(before)
        .map(e => e.line),
      ['ok 1', 'ok 3'],
    );
  });

  test('maxBodyBytes answers 413', async () => {
    receiver.maxBodyBytes = 10;
    try {
      const res = await post(receiver.url, good());
      assert.equal(res.status, 413);
      assert.match(res.text, /too large/);
    } finally {
      receiver.maxBodyBytes = undefined;
    }
  });

  test('waitFor resolves on a later entry and rejects on timeout', async () => {
    const waiting = receiver.waitFor(entries => entries.some(e => e.line === 'later'), 2000);
    await post(
      receiver.url,
      encodePushRequest([{ labels: '{a="b"}', entries: [{ sec: 1, nsec: 1, line: 'later' }] }]),
    );
    await waiting;
    await assert.rejects(
      receiver.waitFor(() => false, 50),
      /timed out/,
    );
  });

  test('uses a keep-alive friendly HTTP/1.1 server on 127.0.0.1', async () => {
    assert.match(receiver.url, /^http:\/\/127\.0\.0\.1:\d+\/loki\/api\/v1\/push$/);
    const agent = new http.Agent({ keepAlive: true });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          receiver.url,
          { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf' } },
          res => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(good());
      });
      assert.equal(status, 204);
    } finally {
      agent.destroy();
    }
  });
});
