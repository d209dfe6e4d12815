import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/core/logger.js';
import type { LogEntry } from '../../src/core/types.js';
import { settleEntry } from '../../src/core/types.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { Inspector } from '../../src/pipeline/inspect.js';
import { createPipelineSink, EMPTY_LABELS_REASON, PipelineSink } from '../../src/pipeline/pipeline.js';
import type { PipelineNode } from '../../src/pipeline/registry.js';
import type { PipelineEntry, Stage } from '../../src/pipeline/stage.js';
import {
  compile,
  dropped,
  issuesOf,
  logEntry,
  pipeline,
  RecordingAck,
  RecordingSink,
} from '../harness/pipeline.js';

/** A stage made of a function, for tests of the pipeline itself. */
function fnStage(name: string, fn: (e: PipelineEntry) => unknown, extra: Partial<Stage> = {}) {
  const stage: Stage = { name, process: e => (fn(e) === 'drop' ? 'drop' : 'keep'), ...extra };
  return { kind: 'stage', stage } as PipelineNode;
}

function sinkOf(nodes: PipelineNode[], metrics = new Metrics()) {
  const out = new RecordingSink();
  const sink = createPipelineSink(nodes, out, { metrics, logger: createLogger({ write: () => {} }) });
  return { sink, out, metrics };
}

describe('pipeline: entries in, entries out', () => {
  it('an entry whose labels do not change goes on as the same LogEntry, on the same LokiStream', () => {
    const { sink, out } = sinkOf([fnStage('noop', () => 'keep')]);
    const e = logEntry({ app: 'a' }, 'hello');
    const stream = e.stream;
    assert.equal(sink.push(e), true);
    assert.equal(out.entries.length, 1);
    assert.equal(out.entries[0], e);
    assert.equal(out.entries[0]!.stream, stream);
  });

  it('changed labels map to one shared LokiStream per label set', () => {
    const { sink, out } = pipeline([{ static_labels: { env: 'prod' } }]);
    sink.push(logEntry({ app: 'a' }, 'one'));
    sink.push(logEntry({ app: 'a' }, 'two'));
    sink.push(logEntry({ app: 'b' }, 'three'));
    const [a, b, c] = out.entries;
    assert.equal(a!.stream.key, '{app="a", env="prod"}');
    assert.deepEqual(a!.stream.labels, { app: 'a', env: 'prod' });
    assert.equal(b!.stream, a!.stream, 'the same label set shares its LokiStream');
    assert.equal(c!.stream.key, '{app="b", env="prod"}');
  });

  it('the same label set reached in another order shares its LokiStream', () => {
    const { sink, out } = sinkOf([
      fnStage('reorder', e => {
        if (e.line === 'swap') {
          delete e.labels.app;
          e.labels.env = 'prod';
          e.labels.app = 'a';
        } else e.labels.env = 'prod';
      }),
    ]);
    sink.push(logEntry({ app: 'a' }, 'plain'));
    sink.push(logEntry({ app: 'a' }, 'swap'));
    assert.equal(out.entries[0]!.stream.key, '{app="a", env="prod"}');
    assert.equal(out.entries[1]!.stream, out.entries[0]!.stream);
  });

  it('the LokiStream cache is bounded', () => {
    const out = new RecordingSink();
    const sink = new PipelineSink(
      [
        fnStage('tag', e => {
          e.labels.n = e.line;
        }),
      ],
      out,
      {
        metrics: new Metrics(),
        logger: createLogger({ write: () => {} }),
        streamCacheSize: 2,
      },
    );
    for (const n of ['1', '2', '1', '3', '1']) sink.push(logEntry({ app: 'a' }, n));
    const s = out.entries.map(e => e.stream);
    assert.equal(s[2], s[0], 'still cached');
    assert.notEqual(s[4], s[0], 'evicted once a third label set came');
    assert.equal(s[4]!.key, s[0]!.key);
  });

  it('extracted data starts as a copy of the labels (Promtail), separate from them', () => {
    let seen: Record<string, unknown> | undefined;
    const { sink, out } = sinkOf([
      fnStage('read', e => {
        seen = { ...e.extracted };
        e.extracted.app = 'changed';
        return 'keep';
      }),
    ]);
    sink.push(logEntry({ app: 'a', stream: 'stdout' }, 'x'));
    assert.deepEqual(seen, { app: 'a', stream: 'stdout' });
    assert.equal(out.entries[0]!.stream.labels.app, 'a');
  });

  it('timestamp, line, structured metadata and tenant set by stages reach the LogEntry', () => {
    const { sink, out } = sinkOf([
      fnStage('set', e => {
        e.sec = 42;
        e.nsec = 7;
        e.line = `${e.line}!`;
        e.metadata = { trace_id: 'abc' };
        e.tenant = 'team-a';
        return 'keep';
      }),
    ]);
    sink.push(logEntry({ app: 'a' }, 'x'));
    const e = out.entries[0]!;
    assert.deepEqual(
      { sec: e.sec, nsec: e.nsec, line: e.line, metadata: e.metadata, tenant: e.tenant },
      { sec: 42, nsec: 7, line: 'x!', metadata: { trace_id: 'abc' }, tenant: 'team-a' },
    );
  });

  it('empty structured metadata is not sent', () => {
    const { sink, out } = sinkOf([
      fnStage('m', e => {
        e.metadata = {};
      }),
    ]);
    sink.push(logEntry({ app: 'a' }, 'x'));
    assert.equal(out.entries[0]!.metadata, undefined);
  });
});

describe('pipeline: drops and acknowledgements', () => {
  it('a dropped entry is settled at once and counted under its reason', async () => {
    const { sink, out, metrics } = pipeline([
      { drop: { expression: 'debug', drop_counter_reason: 'noisy' } },
      { match: { selector: '{app="a"} |= "trace"', action: 'drop' } },
    ]);
    const ack = new RecordingAck();
    sink.push(logEntry({ app: 'a' }, 'a debug line', { ack, seq: 1 }));
    sink.push(logEntry({ app: 'a' }, 'kept', { ack, seq: 2 }));
    sink.push(logEntry({ app: 'a' }, 'a trace line', { ack, seq: 3 }));
    assert.deepEqual(ack.settled, [1, 3]);
    assert.deepEqual(
      out.entries.map(e => e.line),
      ['kept'],
    );
    assert.equal(await dropped(metrics, 'noisy'), 1);
    assert.equal(await dropped(metrics, 'match_stage'), 1);
  });

  it('an entry whose labels end empty is dropped (Loki refuses a stream without labels)', async () => {
    const { sink, out, metrics } = pipeline([{ labeldrop: ['app'] }]);
    const ack = new RecordingAck();
    sink.push(logEntry({ app: 'a' }, 'x', { ack, seq: 9 }));
    assert.equal(out.entries.length, 0);
    assert.deepEqual(ack.settled, [9]);
    assert.equal(await dropped(metrics, EMPTY_LABELS_REASON), 1);
  });

  it('a stage that throws does not lose the entry: it goes on as it was, and the failure is logged', () => {
    const logged: string[] = [];
    const out = new RecordingSink();
    const sink = new PipelineSink(
      [
        fnStage('boom', e => {
          e.line = 'half-changed';
          throw new Error('kaput');
        }),
        fnStage('after', e => {
          e.labels.after = 'yes';
        }),
      ],
      out,
      { metrics: new Metrics(), logger: createLogger({ write: l => logged.push(l) }) },
    );
    sink.push(logEntry({ app: 'a' }, 'x'));
    sink.push(logEntry({ app: 'a' }, 'y'));
    assert.equal(out.entries.length, 2);
    assert.equal(out.entries[0]!.stream.labels.after, 'yes');
    assert.equal(logged.length, 1, 'logged once, not per line');
    assert.match(logged[0]!, /stage=boom/);
    assert.match(logged[0]!, /kaput/);
  });

  it('backpressure: push answers false when the next sink is full, drained() waits for it', async () => {
    const { sink, out } = sinkOf([fnStage('noop', () => 'keep')]);
    assert.equal(sink.push(logEntry({ app: 'a' }, '1')), true);
    out.full = true;
    assert.equal(sink.push(logEntry({ app: 'a' }, '2')), false);
    await sink.drained();
    assert.equal(out.drains, 1);
  });

  it('a multiline block settles every line it joined only once the downstream settles it', () => {
    const { sink, out } = pipeline([{ multiline: { firstline: '^\\S' } }]);
    // Two containers whose lines share a label set: the block holds lines of both trackers.
    const c1 = new RecordingAck();
    const c2 = new RecordingAck();
    sink.push(logEntry({ app: 'a' }, 'Exception: boom', { ack: c1, seq: 10 }));
    sink.push(logEntry({ app: 'a' }, '  at one()', { ack: c1, seq: 11 }));
    sink.push(logEntry({ app: 'a' }, '  at two()', { ack: c2, seq: 5 }));
    assert.equal(out.entries.length, 0);
    assert.equal(sink.held, 3);
    sink.push(logEntry({ app: 'a' }, 'next line', { ack: c1, seq: 12 }));
    assert.equal(out.entries.length, 1);
    assert.equal(out.entries[0]!.line, 'Exception: boom\n  at one()\n  at two()');
    assert.deepEqual([c1.settled, c2.settled], [[], []], 'nothing settled before the client answers');
    out.settleAll();
    assert.deepEqual(c1.settled, [10, 11]);
    assert.deepEqual(c2.settled, [5]);
    assert.equal(sink.held, 1, '`next line` is held, unsettled');
    sink.stop();
    out.settleAll();
    assert.deepEqual(c1.settled, [10, 11, 12]);
  });

  it('a multiline block that a later stage drops settles all its lines', async () => {
    const { sink, out, metrics } = pipeline([
      { multiline: { firstline: '^\\S' } },
      { drop: { expression: 'boom' } },
    ]);
    const ack = new RecordingAck();
    sink.push(logEntry({ app: 'a' }, 'boom', { ack, seq: 1 }));
    sink.push(logEntry({ app: 'a' }, '  more', { ack, seq: 2 }));
    sink.push(logEntry({ app: 'a' }, 'fine', { ack, seq: 3 }));
    assert.deepEqual(ack.settled, [1, 2]);
    assert.equal(out.entries.length, 0);
    assert.equal(await dropped(metrics, 'drop_stage'), 1);
  });

  it('a held block is handed on after max_wait_time without a new line', t => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 });
    const { sink, out } = pipeline([{ multiline: { firstline: '^\\S', max_wait_time: '60ms' } }]);
    sink.push(logEntry({ app: 'a' }, 'Exception', { sec: 5, nsec: 1 }));
    sink.push(logEntry({ app: 'a' }, '  at x', { sec: 5, nsec: 2 }));
    t.mock.timers.tick(20);
    sink.push(logEntry({ app: 'a' }, '  at y', { sec: 5, nsec: 3 }));
    t.mock.timers.tick(59);
    assert.equal(out.entries.length, 0, 'the wait restarts with each line');
    t.mock.timers.tick(1);
    assert.equal(out.entries.length, 1);
    assert.equal(out.entries[0]!.line, 'Exception\n  at x\n  at y');
    assert.deepEqual([out.entries[0]!.sec, out.entries[0]!.nsec], [5, 1], "the first line's timestamp");
  });

  it('stop() hands on every held block', () => {
    const { sink, out } = pipeline([{ multiline: { firstline: '^\\S' } }]);
    sink.push(logEntry({ app: 'a' }, 'A'));
    sink.push(logEntry({ app: 'b' }, 'B'));
    sink.push(logEntry({ app: 'b' }, ' b'));
    sink.stop();
    assert.deepEqual(out.entries.map(e => e.line).sort(), ['A', 'B\n b']);
    sink.push(logEntry({ app: 'a' }, 'after stop'));
    assert.equal(out.entries.at(-1)!.line, 'after stop', 'nothing is held after stop');
  });
});

describe('pipeline: match', () => {
  it('nested stages run on matching entries only, then the stages after the match run on all', () => {
    const { sink, out } = pipeline([
      {
        match: {
          selector: '{app="java"}',
          stages: [{ multiline: { firstline: '^\\d{4}-' } }, { static_labels: { kind: 'trace' } }],
        },
      },
      { static_labels: { seen: 'yes' } },
    ]);
    sink.push(logEntry({ app: 'java' }, '2024-01-01 boom'));
    sink.push(logEntry({ app: 'web' }, 'GET /'));
    sink.push(logEntry({ app: 'java' }, '\tat x'));
    sink.push(logEntry({ app: 'java' }, '2024-01-01 ok'));
    sink.stop();
    assert.deepEqual(
      out.entries.map(e => [e.line, e.stream.key]),
      [
        ['GET /', '{app="web", seen="yes"}'],
        ['2024-01-01 boom\n\tat x', '{app="java", kind="trace", seen="yes"}'],
        ['2024-01-01 ok', '{app="java", kind="trace", seen="yes"}'],
      ],
    );
  });

  it('the nested pipeline starts by copying the labels into extracted again', () => {
    let seen: unknown;
    const nodes = compile([{ match: { selector: '{app="a"}', stages: [{ static_labels: { x: '1' } }] } }]);
    const inner = nodes[0]!;
    assert.equal(inner.kind, 'match');
    const { sink } = sinkOf([
      fnStage('set', e => {
        e.labels.late = 'yes';
      }),
      ...nodes,
      fnStage('read', e => {
        seen = e.extracted.late;
      }),
    ]);
    sink.push(logEntry({ app: 'a' }, 'x'));
    assert.equal(seen, 'yes');
  });
});

describe('pipeline: pacing', () => {
  it('a delayed entry holds back every entry behind it, in order, and the pipeline reports full', async () => {
    let delays = [0, 50, 0, 0];
    const pacer = fnStage('limit', () => 'keep', {
      takeDelay: () => delays.shift() ?? 0,
    });
    const { sink, out } = sinkOf([pacer]);
    assert.equal(sink.push(logEntry({ app: 'a' }, '1')), true);
    assert.equal(sink.push(logEntry({ app: 'a' }, '2')), false, 'delayed');
    assert.equal(sink.push(logEntry({ app: 'a' }, '3')), false, 'queued behind 2');
    assert.deepEqual(
      out.entries.map(e => e.line),
      ['1'],
    );
    assert.equal(sink.waiting, 2);
    const t0 = Date.now();
    await sink.drained();
    assert.ok(Date.now() - t0 >= 40, 'drained() waited for the delay');
    assert.deepEqual(
      out.entries.map(e => e.line),
      ['1', '2', '3'],
    );
    delays = [1000];
    sink.push(logEntry({ app: 'a' }, '4'));
    sink.stop();
    assert.equal(out.entries.at(-1)!.line, '4', 'stop hands on delayed entries at once');
  });
});

describe('pipeline: -inspect', () => {
  it('prints what each stage changed, or none', () => {
    const printed: string[] = [];
    const inspector = new Inspector({ write: t => printed.push(t), color: false });
    const out = new RecordingSink();
    const nodes = compile([{ static_labels: { env: 'prod' } }, { labeldrop: ['nothing'] }]);
    const sink = new PipelineSink(
      [
        fnStage('regex', e => {
          e.extracted.user = 'alexis';
          e.line = 'changed';
          e.sec += 1;
          return 'keep';
        }),
        ...nodes,
      ],
      out,
      { metrics: new Metrics(), logger: createLogger({ write: () => {} }), inspector },
    );
    sink.push(logEntry({ app: 'a' }, 'x', { sec: 1_546_304_400, nsec: 1 }));
    assert.deepEqual(printed, [
      '[inspect: regex stage]: \n' +
        '{stages.Entry}.Extracted["user"]:\n\t+: alexis\n' +
        '{stages.Entry}.Entry.Entry.Timestamp:\n' +
        '\t-: 2019-01-01 01:00:00.000000001 +0000 UTC\n' +
        '\t+: 2019-01-01 01:00:01.000000001 +0000 UTC\n' +
        '{stages.Entry}.Entry.Entry.Line:\n\t-: x\n\t+: changed\n',
      '[inspect: static_labels stage]: \n{stages.Entry}.Entry.Labels["env"]:\n\t+: prod\n',
      '[inspect: labeldrop stage]: none\n',
    ]);
  });
});

describe('pipeline: compiled stages', () => {
  it('stages docktail does not serve are load-time errors that say why', () => {
    const got = issuesOf([
      { geoip: { db: '/x.mmdb', source: 'ip' } },
      { eventlogmessage: {} },
      { pipeline: {} },
      { jsonn: {} },
    ]);
    assert.equal(got.length, 4, got.join('\n'));
    assert.match(
      got[0]!,
      /^\[0\]\.geoip: The `geoip` stage is not served by docktail: it ships no GeoIP database/,
    );
    assert.match(got[1]!, /^\[1\]\.eventlogmessage: .* reads Windows event logs/);
    assert.match(got[2]!, /^\[2\]\.pipeline: Promtail has no runnable `pipeline` stage/);
    assert.match(got[3]!, /^\[3\]\.jsonn: Unknown pipeline stage `jsonn` \(did you mean `json`\?\)/);
  });

  it('docker and cri stages compile to nothing (they change nothing on Engine API lines)', () => {
    assert.deepEqual(compile([{ docker: {} }, { cri: {} }]), []);
  });

  it('settleEntry of a joined block with two clients settles its lines after both', () => {
    const ack = new RecordingAck();
    const got: LogEntry[] = [];
    // Replace the recording sink by a fan-out-like one: two clients owe an outcome.
    const twoClients = new PipelineSink(
      compile([{ multiline: { firstline: '^\\S' } }]),
      {
        push: e => {
          e.pending = 2;
          got.push(e);
          return true;
        },
        drained: () => Promise.resolve(),
      },
      { metrics: new Metrics(), logger: createLogger({ write: () => {} }) },
    );
    twoClients.push(logEntry({ app: 'a' }, 'A', { ack, seq: 1 }));
    twoClients.push(logEntry({ app: 'a' }, ' a', { ack, seq: 2 }));
    twoClients.stop();
    settleEntry(got[0]!);
    assert.deepEqual(ack.settled, []);
    settleEntry(got[0]!);
    assert.deepEqual(ack.settled, [1, 2]);
  });
});
