import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compress, uncompress } from 'snappyjs';
import type { AckHandle, LogEntry } from '../../src/core/types.js';
import { lokiStream, settleEntry } from '../../src/core/types.js';
import { Batch, entrySize, entrySizeBound } from '../../src/loki/batch.js';
import {
  BodyEncoder,
  compressRecords,
  encodeRecords,
  freeSegmentCount,
  SEGMENT_BYTES,
} from '../../src/loki/encode.js';
import { decodePushBody } from '../fakes/loki-push-decode.js';

class RecordingAck implements AckHandle {
  readonly settled: number[] = [];
  settle(seq: number): void {
    this.settled.push(seq);
  }
}

const STREAMS = [lokiStream({ job: 'a' }), lokiStream({ job: 'b' })];

function entry(ack: AckHandle, seq: number, line: string, extra: Partial<LogEntry> = {}): LogEntry {
  return { stream: STREAMS[0]!, sec: 1_790_000_000 + seq, nsec: seq, line, ack, seq, pending: 1, ...extra };
}

/** The lines of a batch as Loki decodes them, stream by stream. */
function lines(batch: Batch): string[] {
  return decodePushBody(compressRecords(batch.streams())).map(e => `${e.labelsString} ${e.line}`);
}

/** Splits `batch` in halves, and those again, until each holds at most `size` entries; in order. */
function halveDownTo(batch: Batch, size: number): Batch[] {
  const parts: Batch[] = [];
  const queue = [batch];
  while (queue.length > 0) {
    const b = queue.shift()!;
    if (b.count <= size) parts.push(b);
    else queue.unshift(...b.split());
  }
  return parts;
}

describe('Batch', () => {
  test('add returns the size Promtail counts, and bytes add up', () => {
    const ack = new RecordingAck();
    const batch = new Batch('');
    const entries = [
      entry(ack, 0, 'plain'),
      entry(ack, 1, 'délai ✓ 🚀'),
      entry(ack, 2, 'm', { metadata: { trace_id: 'abc', zé: 'ü' } }),
      entry(ack, 3, ''),
    ];
    let total = 0;
    for (const e of entries) {
      const size = batch.add(e.stream.key, e);
      assert.equal(size, entrySize(e));
      assert.ok(entrySizeBound(e) >= size);
      total += size;
    }
    assert.equal(batch.bytes, total);
    assert.equal(batch.count, 4);
    assert.equal(entrySize(entries[2]!), 1 + 'trace_idabc'.length + Buffer.byteLength('zéü'));
  });

  test('one client: settles through the AckHandle in order, and the entry is not kept', () => {
    const ack = new RecordingAck();
    const batch = new Batch('');
    for (let seq = 0; seq < 5; seq++) batch.add(STREAMS[seq % 2]!.key, entry(ack, seq, `l${seq}`));
    batch.settle(err => assert.fail(String(err)));
    // Stream by stream: job a holds 0, 2, 4 and job b holds 1, 3.
    assert.deepEqual(ack.settled, [0, 2, 4, 1, 3]);
  });

  test('two clients: the entry settles when the second batch holding it settles', () => {
    const ack = new RecordingAck();
    const first = new Batch('');
    const second = new Batch('');
    const shared = entry(ack, 7, 'both', { pending: 2 });
    first.add(shared.stream.key, shared);
    second.add(shared.stream.key, shared);
    first.settle(err => assert.fail(String(err)));
    assert.deepEqual(ack.settled, []);
    assert.equal(shared.pending, 1);
    second.settle(err => assert.fail(String(err)));
    assert.deepEqual(ack.settled, [7]);
  });

  test('an AckHandle that throws is reported and the other entries still settle', () => {
    const ack = new RecordingAck();
    const broken: AckHandle = {
      settle() {
        throw new Error('positions store closed');
      },
    };
    const batch = new Batch('');
    batch.add(STREAMS[0]!.key, entry(ack, 0, 'a'));
    batch.add(STREAMS[0]!.key, entry(broken, 1, 'b'));
    batch.add(STREAMS[0]!.key, entry(ack, 2, 'c'));
    const errors: unknown[] = [];
    batch.settle(err => errors.push(err));
    assert.deepEqual(ack.settled, [0, 2]);
    assert.equal(errors.length, 1);
  });

  test('split: the halves hold the entries in order, with their bytes and owners', () => {
    const ack = new RecordingAck();
    const batch = new Batch('t');
    const sent: string[] = [];
    for (let seq = 0; seq < 11; seq++) {
      const stream = STREAMS[seq < 4 ? 0 : 1]!;
      const line = seq === 5 ? `é${'x'.repeat(200)}` : `line ${seq}`;
      const e = { ...entry(ack, seq, line), stream, ...(seq === 6 && { metadata: { k: 'v' } }) };
      batch.add(stream.key, e);
      sent.push(`${stream.key} ${line}`);
    }
    const before = lines(batch);
    assert.deepEqual(before, sent);
    const bytes = batch.bytes;
    const [first, second] = batch.split();
    assert.equal(first.count, 5);
    assert.equal(second.count, 6);
    assert.equal(first.bytes + second.bytes, bytes);
    assert.equal(first.tenant, 't');
    assert.deepEqual([...lines(first), ...lines(second)], sent);
    assert.equal(batch.bytes, bytes, 'the split batch keeps its byte count for the client to release');
    first.settle(err => assert.fail(String(err)));
    second.settle(err => assert.fail(String(err)));
    assert.deepEqual(ack.settled, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test('split of halves again, down to single entries', () => {
    const ack = new RecordingAck();
    const batch = new Batch('');
    for (let seq = 0; seq < 6; seq++) batch.add(STREAMS[0]!.key, entry(ack, seq, `n${seq}`));
    const singles = halveDownTo(batch, 1);
    assert.deepEqual(
      singles.flatMap(b => lines(b)),
      [0, 1, 2, 3, 4, 5].map(i => `{job="a"} n${i}`),
    );
    assert.ok(singles.every(b => b.bytes === 2));
  });

  test('settle runs: interleaved handles, seq gaps and shared entries settle each seq once, in order', () => {
    const a = new RecordingAck();
    const b = new RecordingAck();
    // One stream (the pipeline can route several containers to one label set); a's seq 3 was dropped.
    const plan: Array<[RecordingAck, number, number]> = [
      [a, 0, 1],
      [a, 1, 1],
      [a, 2, 1],
      [b, 0, 1],
      [b, 1, 2], // shared by two clients
      [a, 4, 1],
      [a, 5, 1],
      [b, 2, 1],
    ];
    const make = () =>
      plan.map(([ack, seq, pending]) => entry(ack, seq, `${ack === a ? 'a' : 'b'}${seq}`, { pending }));
    const whole = new Batch('');
    for (const e of make()) whole.add(STREAMS[0]!.key, e);
    whole.settle(err => assert.fail(String(err)));
    assert.deepEqual(a.settled, [0, 1, 2, 4, 5]);
    assert.deepEqual(b.settled, [0, 2], "b's shared entry waits for its second client");
    // Halving batches of 2…8 of these entries cuts at every place: inside runs and between them.
    for (let n = 2; n <= plan.length; n++) {
      a.settled.length = 0;
      b.settled.length = 0;
      const batch = new Batch('');
      const entries = make().slice(0, n);
      for (const e of entries) batch.add(STREAMS[0]!.key, e);
      const halves = batch.split();
      assert.equal(halves[0].count, Math.floor(n / 2));
      for (const half of halves) half.settle(err => assert.fail(String(err)));
      // The other client's outcome for the shared entry.
      for (const [i, e] of entries.entries()) if (plan[i]![2] === 2) settleEntry(e);
      const want = (ack: RecordingAck) =>
        plan
          .slice(0, n)
          .filter(p => p[0] === ack)
          .map(p => p[1]);
      assert.deepEqual(a.settled, want(a), `${n} entries`);
      // b's shared entry settles when its other client answers, after b's later seq: any order is fine.
      assert.deepEqual([...b.settled].sort(), want(b), `${n} entries`);
    }
  });

  test('a stream over several segments, with a record larger than a segment, splits anywhere', () => {
    const ack = new RecordingAck();
    const batch = new Batch('');
    const sent: string[] = [];
    let bytes = 0;
    for (let seq = 0; seq < 3000; seq++) {
      const line =
        seq === 1500 ? 'L'.repeat(SEGMENT_BYTES + 10) : `${seq} ${'é'.repeat(seq % 7)}${'x'.repeat(90)}`;
      bytes += batch.add(STREAMS[0]!.key, entry(ack, seq, line));
      sent.push(`{job="a"} ${line}`);
    }
    assert.ok(encodeRecords(batch.streams()).length > 5 * SEGMENT_BYTES);
    assert.equal(batch.bytes, bytes);
    assert.deepEqual(lines(batch), sent);
    // Halve down to batches of ≤ 200 entries: every cut lands somewhere else in the segments.
    const parts = halveDownTo(batch, 200);
    assert.deepEqual(
      parts.flatMap(b => lines(b)),
      sent,
    );
    assert.equal(
      parts.reduce((sum, b) => sum + b.bytes, 0),
      bytes,
    );
    for (const b of parts) b.settle(err => assert.fail(String(err)));
    assert.equal(ack.settled.length, 3000);
  });

  test('release gives the segments back, and the next batch reuses them without mixing data', () => {
    const ack = new RecordingAck();
    const fill = (tag: string): Batch => {
      const batch = new Batch('');
      for (let seq = 0; seq < 2000; seq++)
        batch.add(STREAMS[0]!.key, entry(ack, seq, `${tag} ${seq} ${'y'.repeat(80)}`));
      return batch;
    };
    const first = fill('first');
    const before = freeSegmentCount();
    first.settle(() => {});
    first.release();
    assert.ok(freeSegmentCount() >= before + 2, 'the batch held pooled segments');
    const second = fill('second');
    assert.ok(freeSegmentCount() < before + 2, 'the second batch took them');
    assert.deepEqual(
      lines(second),
      Array.from({ length: 2000 }, (_, seq) => `{job="a"} second ${seq} ${'y'.repeat(80)}`),
    );
  });
});

describe('BodyEncoder', () => {
  /** A batch of `count` entries of one stream, the line of entry `seq` being `line(seq)`. */
  function batchOfLines(count: number, line: (seq: number) => string): Batch {
    const batch = new Batch('');
    const ack = new RecordingAck();
    for (let seq = 0; seq < count; seq++) batch.add(STREAMS[1]!.key, entry(ack, seq, line(seq)));
    return batch;
  }
  const batchOf = (text: string) => batchOfLines(50, seq => `${text} ${seq}`);

  test('builds each body into the buffer of the one before, until told to forget it', () => {
    const encoder = new BodyEncoder();
    const a = encoder.encode(batchOf('aaaa').streams());
    const expectA = Buffer.from(a);
    assert.deepEqual(uncompress(a), encodeRecords(batchOf('aaaa').streams()));
    const b = encoder.encode(batchOf('bbbb').streams());
    assert.equal(b.buffer, a.buffer, "the second body reuses the first one's buffer");
    assert.deepEqual(uncompress(b), encodeRecords(batchOf('bbbb').streams()));
    encoder.forget();
    const c = encoder.encode(batchOf('cccc').streams());
    assert.notEqual(c.buffer, b.buffer);
    assert.deepEqual(
      uncompress(b),
      encodeRecords(batchOf('bbbb').streams()),
      'a forgotten body stays intact',
    );
    assert.deepEqual(uncompress(c), encodeRecords(batchOf('cccc').streams()));
    assert.notDeepEqual(Buffer.from(b), expectA);
  });

  test('a body up to a fifth larger than the one that sized the buffer is built in that buffer', () => {
    const withLines = (length: number) => batchOfLines(500, () => 'z'.repeat(length)).streams();
    const encoder = new BodyEncoder();
    const first = encoder.encode(withLines(100));
    // Full batches differ by a few per cent; an outgrown buffer would stay in memory until a full GC.
    for (const length of [104, 110, 120]) {
      const body = encoder.encode(withLines(length));
      assert.equal(body.buffer, first.buffer, `lines of ${length} bytes: the same buffer`);
      assert.deepEqual(uncompress(body), encodeRecords(withLines(length)));
    }
    const larger = encoder.encode(withLines(300));
    assert.notEqual(larger.buffer, first.buffer, 'a body three times larger gets a larger buffer');
    assert.deepEqual(uncompress(larger), encodeRecords(withLines(300)));
  });

  test("an encoder told the batch size builds a small body, then a full batch's, in one buffer", () => {
    const batchBytes = 256 * 1024;
    const hundredByteLines = (count: number) =>
      batchOfLines(count, seq => `${String(seq).padStart(8, '0')} ${'q'.repeat(91)}`);
    const full = hundredByteLines(Math.floor((batchBytes - 1000) / 100));
    assert.ok(
      full.bytes <= batchBytes && full.bytes > batchBytes * 0.99,
      `a full batch: ${full.bytes} bytes`,
    );
    for (const [hint, same] of [
      [batchBytes, true],
      [0, false],
    ] as const) {
      const encoder = new BodyEncoder(hint);
      const small = encoder.encode(hundredByteLines(10).streams());
      const body = encoder.encode(full.streams());
      assert.equal(body.buffer === small.buffer, same, `batch size ${hint}: one buffer ${same}`);
      assert.deepEqual(uncompress(body), encodeRecords(full.streams()));
    }
  });

  test('a body built 64 KiB at a time is byte for byte the whole request compressed', () => {
    // Request sizes around and across fragment boundaries, several streams (headers split between
    // fragments), labels longer than the reused header buffer, lines that compress and lines that do not.
    const streams = fc.array(
      fc.record({
        labels: fc.oneof(
          fc.constantFrom('{job="a"}', '', '{job="b", container="web"}'),
          fc.string({ minLength: 200, maxLength: 3000 }).map(v => `{long="${v}"}`),
        ),
        lines: fc.array(
          fc.oneof(
            fc.integer({ min: 0, max: 70_000 }).map(n => 'x'.repeat(n)),
            fc.string({ unit: 'binary', maxLength: 5000 }),
            fc.uint8Array({ minLength: 0, maxLength: 40_000 }).map(b => Buffer.from(b).toString('latin1')),
          ),
          { maxLength: 12 },
        ),
      }),
      { minLength: 1, maxLength: 4 },
    );
    const encoder = new BodyEncoder();
    let sizes = 0;
    fc.assert(
      fc.property(streams, specs => {
        const batch = new Batch('');
        const ack = new RecordingAck();
        let seq = 0;
        for (const spec of specs)
          for (const line of spec.lines) batch.add(spec.labels, entry(ack, seq++, line));
        const request = encodeRecords(batch.streams());
        if (request.length > 65_536) sizes++;
        assert.deepEqual(Buffer.from(encoder.encode(batch.streams())), Buffer.from(compress(request)));
        batch.settle(err => assert.fail(String(err)));
      }),
      { numRuns: 150 },
    );
    assert.ok(sizes > 10, `requests over one fragment: ${sizes}`);
    for (const size of [65_535, 65_536, 65_537, 131_072, 131_073]) {
      // One entry's record is its line plus a few bytes of fields: the line length that gives `size`.
      let line = 'y'.repeat(size - 40);
      while (encodeRecords(streamsWith(line)).length < size) line += 'y';
      const request = encodeRecords(streamsWith(line));
      assert.equal(request.length, size);
      assert.deepEqual(Buffer.from(encoder.encode(streamsWith(line))), Buffer.from(compress(request)));
    }
  });
});

/** The streams of a batch holding one entry with `line`. */
function streamsWith(line: string) {
  const b = new Batch('');
  b.add(STREAMS[0]!.key, entry(new RecordingAck(), 0, line));
  return b.streams();
}
