// The sinks in front of the Loki clients: the fan-out (an entry settles once every client has an outcome
// for it; full as soon as one client is full) and the dry-run printer.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { DryRunSink, FanOutSink } from '../../src/app/sinks.js';
import type { AckHandle, EntrySink, LogEntry } from '../../src/core/types.js';
import { lokiStream, settleEntry } from '../../src/core/types.js';

/** Records every settle call. */
class Acks implements AckHandle {
  readonly settled: number[] = [];
  settle(seq: number): void {
    this.settled.push(seq);
  }
}

/** A client stand-in: keeps what it is given, reports itself full on demand, drains when told. */
class FakeClient implements EntrySink {
  readonly entries: LogEntry[] = [];
  full = false;
  drainedCalls = 0;
  #release: (() => void) | undefined;

  push(entry: LogEntry): boolean {
    this.entries.push(entry);
    return !this.full;
  }

  drained(): Promise<void> {
    this.drainedCalls += 1;
    if (!this.full) return Promise.resolve();
    return new Promise(resolve => {
      this.#release = resolve;
    });
  }

  /** Room again: resolves the pending drained(). */
  drain(): void {
    this.full = false;
    this.#release?.();
    this.#release = undefined;
  }

  /** This client's outcome for every entry it holds (accepted or dropped: the same to the fan-out). */
  settleAll(): void {
    for (const e of this.entries.splice(0)) settleEntry(e);
  }
}

const stream = lokiStream({ container: 'web', stream: 'stdout' });

function entry(ack: AckHandle, seq: number, line = `line ${seq}`, sec = 1_700_000_000, nsec = 0): LogEntry {
  return { stream, sec, nsec, line, ack, seq, pending: 0 };
}

/** Whether a promise has settled after the current microtasks and one macrotask. */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await new Promise(r => setImmediate(r));
  return done;
}

describe('FanOutSink', () => {
  it('refuses to fan out to no client', () => {
    assert.throws(() => new FanOutSink([]), TypeError);
  });

  it('gives every entry to every client, the same object', () => {
    const clients = [new FakeClient(), new FakeClient()];
    const fan = new FanOutSink(clients);
    const acks = new Acks();
    const e = entry(acks, 1);
    assert.equal(fan.push(e), true);
    for (const c of clients) assert.deepEqual(c.entries, [e]);
    assert.equal(e.pending, 2);
  });

  for (const order of [
    [0, 1, 2],
    [2, 0, 1],
    [1, 2, 0],
  ]) {
    it(`settles an entry only once every client has an outcome (clients answer in order ${order.join(',')})`, () => {
      const clients = [new FakeClient(), new FakeClient(), new FakeClient()];
      const fan = new FanOutSink(clients);
      const acks = new Acks();
      fan.push(entry(acks, 7));
      fan.push(entry(acks, 8));
      for (let k = 0; k < order.length; k++) {
        assert.deepEqual(acks.settled, [], `settled after ${k} of 3 clients answered`);
        clients[order[k]!]!.settleAll();
      }
      assert.deepEqual(
        acks.settled,
        [7, 8],
        'each entry settled exactly once, when the last client answered',
      );
    });
  }

  it('with one client, settles as soon as that client answers', () => {
    const client = new FakeClient();
    const fan = new FanOutSink([client]);
    const acks = new Acks();
    fan.push(entry(acks, 3));
    assert.equal(acks.settled.length, 0);
    client.settleAll();
    assert.deepEqual(acks.settled, [3]);
  });

  it('is full when any one client is full, and not otherwise', () => {
    const a = new FakeClient();
    const b = new FakeClient();
    const fan = new FanOutSink([a, b]);
    const acks = new Acks();
    assert.equal(fan.push(entry(acks, 1)), true);
    b.full = true;
    assert.equal(fan.push(entry(acks, 2)), false);
    assert.equal(a.entries.length, 2, 'a full client does not keep the entry from the others');
    assert.equal(b.entries.length, 2, 'the full client still takes the entry it reports full on');
  });

  it('drained() waits for the full clients only, and only until they drain', async () => {
    const a = new FakeClient();
    const b = new FakeClient();
    const c = new FakeClient();
    const fan = new FanOutSink([a, b, c]);
    const acks = new Acks();
    a.full = true;
    c.full = true;
    assert.equal(fan.push(entry(acks, 1)), false);
    const drained = fan.drained();
    assert.equal(b.drainedCalls, 0, 'a client with room is not waited for');
    assert.equal(a.drainedCalls, 1);
    assert.equal(c.drainedCalls, 1);
    assert.equal(await isSettled(drained), false, 'both full clients still full');
    a.drain();
    assert.equal(await isSettled(drained), false, 'one full client still full');
    c.drain();
    assert.equal(await isSettled(drained), true, 'every full client drained');
    // Nothing is full any more: the next drained() does not wait on the old ones.
    assert.equal(await isSettled(fan.drained()), true);
    assert.equal(a.drainedCalls, 1);
  });

  it('drained() after pushes that all fitted resolves at once', async () => {
    const a = new FakeClient();
    const fan = new FanOutSink([a, new FakeClient()]);
    fan.push(entry(new Acks(), 1));
    assert.equal(await isSettled(fan.drained()), true);
    assert.equal(a.drainedCalls, 0);
  });
});

/** A writable that records what it is given; with `hold`, it does not finish writes until released. */
class Capture extends Writable {
  readonly chunks: string[] = [];
  #held: Array<() => void> = [];
  hold = false;

  constructor(highWaterMark = 16 * 1024) {
    super({ highWaterMark, decodeStrings: false });
  }

  override _write(chunk: string | Buffer, _enc: BufferEncoding, done: (err?: Error) => void): void {
    this.chunks.push(String(chunk));
    if (this.hold) this.#held.push(() => done());
    else done();
  }

  release(): void {
    this.hold = false;
    for (const done of this.#held.splice(0)) done();
  }

  get text(): string {
    return this.chunks.join('');
  }
}

/** Parses `2023-11-14T22:13:20.123456789Z` (any fraction length) back into seconds and nanoseconds. */
function parseNano(ts: string): { sec: number; nsec: number } {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(ts);
  assert.ok(m, `not an RFC3339Nano UTC timestamp: ${ts}`);
  return { sec: Date.parse(`${m[1]}Z`) / 1000, nsec: Number((m[2] ?? '').padEnd(9, '0')) };
}

describe('DryRunSink', () => {
  it('prints <RFC3339Nano>\\t{labels}\\tline and settles the entry at once', () => {
    const out = new Capture();
    const sink = new DryRunSink(out);
    const acks = new Acks();
    const ok = sink.push(entry(acks, 5, 'hello "world"\tagain', 1_700_000_000, 123_456_789));
    assert.equal(ok, true);
    assert.deepEqual(acks.settled, [5]);
    assert.equal(
      out.text,
      '2023-11-14T22:13:20.123456789Z\t{container="web", stream="stdout"}\thello "world"\tagain\n',
    );
  });

  const stamps: Array<[number, number]> = [
    [0, 0],
    [1_700_000_000, 0],
    [1_700_000_000, 5],
    [1_700_000_000, 500_000_000],
    [1_700_000_059, 999_999_999],
    [951_782_400, 1_000], // 2000-02-29
  ];
  for (const [sec, nsec] of stamps) {
    it(`prints ${sec}.${String(nsec).padStart(9, '0')} as a timestamp that reads back exactly`, () => {
      const out = new Capture();
      const acks = new Acks();
      new DryRunSink(out).push(entry(acks, 1, 'x', sec, nsec));
      const [ts, labels, line] = out.text.replace(/\n$/, '').split('\t');
      assert.deepEqual(parseNano(ts!), { sec, nsec });
      assert.equal(new Date(sec * 1000).toISOString().slice(0, 19), ts!.slice(0, 19));
      assert.equal(labels, stream.key);
      assert.equal(line, 'x');
      assert.deepEqual(acks.settled, [1]);
    });
  }

  it('prints each entry on its own line, in push order', () => {
    const out = new Capture();
    const sink = new DryRunSink(out);
    const acks = new Acks();
    for (let i = 1; i <= 3; i++) sink.push(entry(acks, i, `n${i}`, 1_700_000_000 + i, 0));
    const lines = out.text.split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(
      lines.map(l => l.split('\t')[2]),
      ['n1', 'n2', 'n3'],
    );
    assert.deepEqual(acks.settled, [1, 2, 3]);
  });

  it('is full while its output is over its buffer, and drained() waits for the output to drain', async () => {
    const out = new Capture(64);
    out.hold = true;
    const sink = new DryRunSink(out);
    const acks = new Acks();
    assert.equal(await isSettled(sink.drained()), true, 'nothing written yet: not full');
    const ok = sink.push(entry(acks, 1, 'y'.repeat(200)));
    assert.equal(ok, false, 'a write over the buffer reports the sink full');
    assert.deepEqual(acks.settled, [1], 'settled even when full: the entry was printed');
    const drained = sink.drained();
    assert.equal(await isSettled(drained), false);
    out.release();
    assert.equal(await isSettled(drained), true);
    assert.equal(await isSettled(sink.drained()), true, 'room again');
  });
});
