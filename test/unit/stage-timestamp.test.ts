// The timestamp stage against Promtail's timestamp_test.go and util_test.go vectors, the docs' named
// formats, and Go's time.Parse rules (layouts, zones, fractions, ranges, DST), to the nanosecond.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { silentLogger } from '../../src/core/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { nanoseconds } from '../../src/pipeline/gotime/fields.js';
import { type Instant, parseRFC3339, timestampParser } from '../../src/pipeline/gotime/parse.js';
import { loadLocation, type TimeLocation } from '../../src/pipeline/gotime/zone.js';
import type { PipelineEntry, Stage, StageContext } from '../../src/pipeline/stage.js';
import { createJsonStage } from '../../src/pipeline/stages/json.js';
import { createTimestampStage } from '../../src/pipeline/stages/timestamp.js';

const ctx: StageContext = { jobName: 'test', metrics: new Metrics(), logger: silentLogger };

function entry(extracted: Record<string, unknown>, labels: Record<string, string> = {}): PipelineEntry {
  return { labels, extracted, line: 'hello world', sec: 1, nsec: 0, metadata: undefined, tenant: undefined };
}

function build(config: unknown): Stage {
  const { stage, issues } = createTimestampStage(config, ctx);
  assert.deepEqual(issues, []);
  assert.ok(stage);
  return stage;
}

/** [sec, nsec] of an ISO time with a `Z` or offset, plus extra nanoseconds. */
function at(iso: string, nsec = 0): [number, number] {
  const ms = Date.parse(iso);
  assert.ok(!Number.isNaN(ms), iso);
  return [Math.floor(ms / 1000), nsec];
}

function location(name: string): TimeLocation {
  const r = loadLocation(name);
  assert.ok(r.ok);
  return r.location;
}

/** Parses with a parser built for `format`; [sec, nsec] or undefined. */
function parse(format: string, value: string, loc?: TimeLocation, now?: Date): [number, number] | undefined {
  const out: Instant = { sec: 0, nsec: 0 };
  const ok = timestampParser(format, loc, now === undefined ? undefined : () => now)(value, out);
  return ok ? [out.sec, out.nsec] : undefined;
}

const year = new Date().getUTCFullYear();

describe('timestamp stage: Promtail vectors', () => {
  it('json then timestamp RFC3339 (TestTimestampPipeline)', () => {
    const e = entry({});
    e.line = '{"time":"2012-11-01T22:08:41-04:00","app":"loki","component":["parser","type"],"level":"WARN"}';
    createJsonStage({ expressions: { ts: 'time' } }, ctx).stage!.process(e);
    build({ source: 'ts', format: 'RFC3339' }).process(e);
    assert.deepEqual([e.sec, e.nsec], at('2012-11-02T02:08:41Z'));
  });

  // TestTimestampValidation's parsing cases and TestTimestampStage_Process.
  const cases: [string, Record<string, unknown>, string, [number, number]][] = [
    ['standard format', { format: 'RFC3339' }, '2012-11-01T22:08:41-04:00', at('2012-11-02T02:08:41Z')],
    ['custom format with year', { format: '2006-01-02' }, '2009-01-01', at('2009-01-01T00:00:00Z')],
    [
      'custom format without year',
      { format: 'Jan 02 15:04:05' },
      'Jul 15 01:02:03',
      at(`${year}-07-15T01:02:03Z`),
    ],
    [
      'custom format with location',
      { format: '2006-01-02 15:04:05', location: 'America/New_York' },
      '2009-07-01 03:30:20',
      at('2009-07-01T07:30:20Z'),
    ],
    ['unix_ms', { format: 'UnixMs' }, '1562708916919', at('2019-07-09T21:48:36Z', 919_000_000)],
    [
      'fallback formats contains the format',
      { format: 'UnixMs', fallback_formats: ['2006-01-02 03:04:05.000000000 +0000 UTC', 'RFC3339'] },
      '2012-11-01T22:08:41-04:00',
      at('2012-11-02T02:08:41Z'),
    ],
    ['set success', { format: 'RFC3339' }, '2106-01-02T23:04:05-04:00', at('2106-01-03T03:04:05Z')],
    ['unix success', { format: 'Unix' }, '1562708916', at('2019-07-09T21:48:36Z')],
    [
      'unix fractions ms success',
      { format: 'Unix' },
      '1562708916.414123',
      at('2019-07-09T21:48:36Z', 414_123_000),
    ],
    [
      'unix fractions ns success',
      { format: 'Unix' },
      '1562708916.000000123',
      at('2019-07-09T21:48:36Z', 123),
    ],
    [
      'unix millisecond success',
      { format: 'UnixMs' },
      '1562708916414',
      at('2019-07-09T21:48:36Z', 414_000_000),
    ],
    [
      'unix microsecond success',
      { format: 'UnixUs' },
      '1562708916414123',
      at('2019-07-09T21:48:36Z', 414_123_000),
    ],
    ['unix nano success', { format: 'UnixNs' }, '1562708916000000123', at('2019-07-09T21:48:36Z', 123)],
    [
      'with location success',
      { format: '2006-01-02 15:04:05', location: 'America/New_York' },
      '2019-07-22 20:29:32',
      at('2019-07-23T00:29:32Z'),
    ],
    [
      'docs: RFC3339Nano',
      { format: 'RFC3339Nano' },
      '2006-01-02T15:04:05.999999999-07:00',
      at('2006-01-02T22:04:05Z', 999_999_999),
    ],
  ];
  for (const [name, config, value, want] of cases) {
    it(name, () => {
      const e = entry({ somethingelse: 'notimportant', ts: value });
      build({ source: 'ts', ...config }).process(e);
      assert.deepEqual([e.sec, e.nsec], want);
    });
  }
  it('a number source is parsed as its text (Unix)', () => {
    const e = entry({ ts: 1562708916 });
    build({ source: 'ts', format: 'Unix' }).process(e);
    assert.deepEqual([e.sec, e.nsec], at('2019-07-09T21:48:36Z'));
  });
});

describe('timestamp stage: action_on_failure (TestTimestampStage_ProcessActionOnFailure)', () => {
  type Input = { labels?: Record<string, string>; time?: string };
  const good = (t: string): Input => ({ time: t });
  const cases: [string, string, Input[], ([number, number] | 'input')[]][] = [
    [
      'keeps the parsed timestamp on success',
      'fudge',
      [good('2019-10-01T01:02:03.400000000Z'), good('2019-10-01T01:02:03.500000000Z')],
      [at('2019-10-01T01:02:03Z', 400_000_000), at('2019-10-01T01:02:03Z', 500_000_000)],
    ],
    [
      'fudges from the last known value',
      'fudge',
      [good('2019-10-01T01:02:03.400000000Z'), {}, {}],
      [
        at('2019-10-01T01:02:03Z', 400_000_000),
        at('2019-10-01T01:02:03Z', 400_000_001),
        at('2019-10-01T01:02:03Z', 400_000_002),
      ],
    ],
    [
      'fudges per label set',
      'fudge',
      [
        { labels: { filename: '/1.log' }, time: '2019-10-01T01:02:03.400000000Z' },
        { labels: { filename: '/2.log' }, time: '2019-10-01T01:02:03.800000000Z' },
        { labels: { filename: '/1.log' } },
        { labels: { filename: '/2.log' } },
        { labels: { filename: '/1.log' } },
      ],
      [
        at('2019-10-01T01:02:03Z', 400_000_000),
        at('2019-10-01T01:02:03Z', 800_000_000),
        at('2019-10-01T01:02:03Z', 400_000_001),
        at('2019-10-01T01:02:03Z', 800_000_001),
        at('2019-10-01T01:02:03Z', 400_000_002),
      ],
    ],
    [
      'keeps the input timestamp when no timestamp is known yet',
      'fudge',
      [
        { labels: { filename: '/1.log' }, time: '2019-10-01T01:02:03.400000000Z' },
        { labels: { filename: '/2.log' } },
      ],
      [at('2019-10-01T01:02:03Z', 400_000_000), 'input'],
    ],
    [
      'skip keeps the input timestamp',
      'skip',
      [good('2019-10-01T01:02:03.400000000Z'), {}],
      [at('2019-10-01T01:02:03Z', 400_000_000), 'input'],
    ],
    [
      'label sets with colliding fingerprints stay apart',
      'fudge',
      [
        { labels: { app: 'm', uniq0: '1', uniq1: '1' }, time: '2019-10-01T01:02:03.400000000Z' },
        { labels: { app: 'l', uniq0: '0', uniq1: '1' }, time: '2019-10-01T01:02:03.800000000Z' },
        { labels: { app: 'm', uniq0: '1', uniq1: '1' } },
        { labels: { app: 'l', uniq0: '0', uniq1: '1' } },
        { labels: { app: 'm', uniq0: '1', uniq1: '1' } },
        { labels: { app: 'l', uniq0: '0', uniq1: '1' } },
      ],
      [
        at('2019-10-01T01:02:03Z', 400_000_000),
        at('2019-10-01T01:02:03Z', 800_000_000),
        at('2019-10-01T01:02:03Z', 400_000_001),
        at('2019-10-01T01:02:03Z', 800_000_001),
        at('2019-10-01T01:02:03Z', 400_000_002),
        at('2019-10-01T01:02:03Z', 800_000_002),
      ],
    ],
    [
      'the same labels in another order are the same stream',
      'fudge',
      [
        { labels: { a: '1', b: '2' }, time: '2019-10-01T01:02:03.999999999Z' },
        { labels: { b: '2', a: '1' } },
      ],
      [at('2019-10-01T01:02:03Z', 999_999_999), at('2019-10-01T01:02:04Z', 0)],
    ],
    [
      'an unparsable value fails like a missing one',
      'fudge',
      [good('2019-10-01T01:02:03.400000000Z'), good('yesterday')],
      [at('2019-10-01T01:02:03Z', 400_000_000), at('2019-10-01T01:02:03Z', 400_000_001)],
    ],
  ];
  for (const [name, action, inputs, want] of cases) {
    it(name, () => {
      const stage = build({ source: 'time', format: 'RFC3339Nano', action_on_failure: action });
      inputs.forEach((input, i) => {
        const e = entry(input.time === undefined ? {} : { time: input.time }, { ...input.labels });
        stage.process(e);
        const expected = want[i]!;
        assert.deepEqual([e.sec, e.nsec], expected === 'input' ? [1, 0] : expected, `entry ${i}`);
      });
    });
  }
  it('fudge is the default', () => {
    const stage = build({ source: 'time', format: 'RFC3339' });
    stage.process(entry({ time: '2019-10-01T01:02:03Z' }));
    const e = entry({});
    stage.process(e);
    assert.deepEqual([e.sec, e.nsec], at('2019-10-01T01:02:03Z', 1));
  });
});

describe('timestamp formats: the docs’ named formats (Promtail runs in UTC)', () => {
  const cases: [string, string, [number, number]][] = [
    ['ANSIC', 'Mon Jan  2 15:04:05 2006', at('2006-01-02T15:04:05Z')],
    ['UnixDate', 'Mon Jan  2 15:04:05 MST 2006', at('2006-01-02T15:04:05Z')],
    ['UnixDate', 'Mon Jan  2 15:04:05 UTC 2006', at('2006-01-02T15:04:05Z')],
    ['UnixDate', 'Mon Jan  2 15:04:05 GMT+3 2006', at('2006-01-02T12:04:05Z')],
    ['RubyDate', 'Mon Jan 02 15:04:05 -0700 2006', at('2006-01-02T22:04:05Z')],
    ['RFC822', '02 Jan 06 15:04 MST', at('2006-01-02T15:04:00Z')],
    ['RFC822Z', '02 Jan 06 15:04 -0700', at('2006-01-02T22:04:00Z')],
    ['RFC850', 'Monday, 02-Jan-06 15:04:05 MST', at('2006-01-02T15:04:05Z')],
    ['RFC1123', 'Mon, 02 Jan 2006 15:04:05 GMT', at('2006-01-02T15:04:05Z')],
    ['RFC1123Z', 'Mon, 02 Jan 2006 15:04:05 -0700', at('2006-01-02T22:04:05Z')],
    ['RFC3339', '2006-01-02T15:04:05Z', at('2006-01-02T15:04:05Z')],
    ['RFC3339', '2006-01-02T15:04:05.5+01:00', at('2006-01-02T14:04:05Z', 500_000_000)],
    ['RFC3339Nano', '2019-04-30T02:12:41.8443515Z', at('2019-04-30T02:12:41Z', 844_351_500)],
    ['RFC3339Nano', '2019-04-30T02:12:41Z', at('2019-04-30T02:12:41Z')],
    ['UnixNs', '-1', at('1969-12-31T23:59:59Z', 999_999_999)],
    ['Unix', '-1.5', [-1, 500_000_000]],
    ['Unix', '1.5', [1, 500_000_000]],
    ['Unix', '1.1234567891', [1, 123_456_789]],
    ['UnixMs', '-1500', [-2, 500_000_000]],
  ];
  for (const [format, value, want] of cases) {
    it(`${format}: ${value}`, () => assert.deepEqual(parse(format, value), want));
  }
  it('named Go layouts ignore `location`, as Promtail parses them with time.Parse', () => {
    const ny = location('America/New_York');
    assert.deepEqual(parse('ANSIC', 'Mon Jan  2 15:04:05 2006', ny), at('2006-01-02T15:04:05Z'));
    assert.deepEqual(parse('2006-01-02 15:04:05', '2006-01-02 15:04:05', ny), at('2006-01-02T20:04:05Z'));
  });
  const failures: [string, string][] = [
    ['RFC3339', '2006-01-02 15:04:05Z'],
    ['RFC3339', '2006-13-02T15:04:05Z'],
    ['RFC3339', '2006-02-30T15:04:05Z'],
    ['RFC3339', '2006-01-02T24:04:05Z'],
    ['RFC3339', '2006-01-02T15:60:05Z'],
    ['RFC3339', '2006-01-02T15:04:05Z trailing'],
    ['RFC3339', '2006-01-02T15:04:05+25:00'],
    ['UnixMs', '1.5'],
    ['UnixNs', '99999999999999999999'],
    ['Unix', '1.2.3'],
    ['Unix', 'abc'],
    ['UnixDate', 'Mon Jan  2 15:04:05 Mst 2006'],
    ['2006-01-02', ''],
  ];
  for (const [format, value] of failures) {
    it(`${format} refuses ${JSON.stringify(value)}`, () => assert.equal(parse(format, value), undefined));
  }
});

describe('timestamp formats: Go layout rules', () => {
  const cases: [string, string, string, [number, number]][] = [
    ['padded day', 'Jan _2 15:04:05 2006', 'Feb  3 01:02:03 2020', at('2020-02-03T01:02:03Z')],
    ['two-digit day with _2', 'Jan _2 15:04:05 2006', 'Feb 13 01:02:03 2020', at('2020-02-13T01:02:03Z')],
    ['several spaces match one', '2006-01-02 15:04', '2020-01-02    10:11', at('2020-01-02T10:11:00Z')],
    ['month names, any case', '02 January 2006', '05 MARCH 2021', at('2021-03-05T00:00:00Z')],
    [
      'weekday names are checked, not used',
      'Monday 2006-01-02',
      'Friday 2021-03-01',
      at('2021-03-01T00:00:00Z'),
    ],
    ['12-hour clock PM', '2006-01-02 3:04PM', '2020-01-02 3:15PM', at('2020-01-02T15:15:00Z')],
    ['12-hour clock 12 AM', '2006-01-02 03:04 pm', '2020-01-02 12:15 am', at('2020-01-02T00:15:00Z')],
    ['two-digit year ≥ 69 is 19xx', '06-01-02', '69-01-02', at('1969-01-02T00:00:00Z')],
    ['two-digit year < 69 is 20xx', '06-01-02', '68-01-02', at('2068-01-02T00:00:00Z')],
    [
      'fixed fraction .000',
      '15:04:05.000 2006-01-02',
      '01:02:03.045 2020-01-02',
      at('2020-01-02T01:02:03Z', 45_000_000),
    ],
    [
      'comma fraction',
      '2006-01-02 15:04:05,000',
      '2020-01-02 01:02:03,045',
      at('2020-01-02T01:02:03Z', 45_000_000),
    ],
    [
      'optional fraction .999 absent',
      '2006-01-02 15:04:05.999',
      '2020-01-02 01:02:03',
      at('2020-01-02T01:02:03Z'),
    ],
    [
      'optional fraction takes extra digits',
      '2006-01-02 15:04:05.999',
      '2020-01-02 01:02:03.123456789',
      at('2020-01-02T01:02:03Z', 123_456_789),
    ],
    [
      'fraction beyond nanoseconds is cut',
      '2006-01-02 15:04:05',
      '2020-01-02 01:02:03.1234567899',
      at('2020-01-02T01:02:03Z', 123_456_789),
    ],
    ['numeric zone -0700', '2006-01-02 15:04 -0700', '2020-01-02 10:00 +0530', at('2020-01-02T04:30:00Z')],
    ['numeric zone -07', '2006-01-02 15:04 -07', '2020-01-02 10:00 -03', at('2020-01-02T13:00:00Z')],
    [
      'numeric zone with seconds',
      '2006-01-02 15:04 -07:00:00',
      '2020-01-02 10:00 +01:00:30',
      at('2020-01-02T08:59:30Z'),
    ],
    ['ISO zone Z0700 with Z', '2006-01-02 15:04Z0700', '2020-01-02 10:00Z', at('2020-01-02T10:00:00Z')],
    [
      'ISO zone Z0700 with an offset',
      '2006-01-02 15:04Z0700',
      '2020-01-02 10:00-0100',
      at('2020-01-02T11:00:00Z'),
    ],
    ['day of year', '2006-002', '2020-060', at('2020-02-29T00:00:00Z')],
    ['day of year, padded', '2006 __2', '2021   7', at('2021-01-07T00:00:00Z')],
    ['_2006 is a literal underscore and a year', 'x_2006', 'x_2021', at('2021-01-01T00:00:00Z')],
    [
      'nginx access log time',
      '02/Jan/2006:15:04:05 -0700',
      '25/Jan/2000:14:00:01 -0500',
      at('2000-01-25T19:00:01Z'),
    ],
    ['leap day', '2006-01-02', '2020-02-29', at('2020-02-29T00:00:00Z')],
    ['year 0001', '2006-01-02', '0001-01-01', [-62135596800, 0]],
  ];
  for (const [name, layout, value, want] of cases) {
    it(name, () => assert.deepEqual(parse(layout, value), want));
  }
  const failures: [string, string, string][] = [
    ['leap day of a common year', '2006-01-02', '2021-02-29'],
    ['day of year and month disagree', '2006-01-002', '2020-03-060'],
    ['zero-padded element needs two digits', '2006-01-02', '2020-1-02'],
    ['fixed fraction needs all digits', '15:04:05.000', '01:02:03.04'],
    ['hour 13 on a 12-hour clock', '3:04PM', '13:04PM'],
    ['unknown month', 'Jan 2006', 'Foo 2006'],
  ];
  for (const [name, layout, value] of failures) {
    it(`refuses: ${name}`, () => assert.equal(parse(layout, value), undefined));
  }
});

describe('timestamp formats: years missing from the layout', () => {
  const stamp = 'Jan _2 15:04:05';
  const cases: [string, string, string, Date, [number, number]][] = [
    ['current year', stamp, 'Jul 15 01:02:03', new Date('2025-06-01T00:00:00Z'), at('2025-07-15T01:02:03Z')],
    [
      'December value in January: last year',
      stamp,
      'Dec 31 23:59:59',
      new Date('2026-01-01T00:00:10Z'),
      at('2025-12-31T23:59:59Z'),
    ],
    [
      'January value in December: next year',
      stamp,
      'Jan  1 00:00:01',
      new Date('2025-12-31T23:59:50Z'),
      at('2026-01-01T00:00:01Z'),
    ],
    [
      'Feb 29 in a common year rolls to Mar 1 (Go AddDate)',
      stamp,
      'Feb 29 10:00:00',
      new Date('2025-06-01T00:00:00Z'),
      at('2025-03-01T10:00:00Z'),
    ],
    [
      'StampMilli',
      'StampMilli',
      'Jul 15 01:02:03.004',
      new Date('2025-06-01T00:00:00Z'),
      at('2025-07-15T01:02:03Z', 4_000_000),
    ],
    [
      'StampMicro',
      'StampMicro',
      'Jul 15 01:02:03.000005',
      new Date('2025-06-01T00:00:00Z'),
      at('2025-07-15T01:02:03Z', 5_000),
    ],
    [
      'StampNano',
      'StampNano',
      'Jul 15 01:02:03.000000006',
      new Date('2025-06-01T00:00:00Z'),
      at('2025-07-15T01:02:03Z', 6),
    ],
    [
      'Stamp by name',
      'Stamp',
      'Jul  5 01:02:03',
      new Date('2025-06-01T00:00:00Z'),
      at('2025-07-05T01:02:03Z'),
    ],
    [
      'Kitchen: January 1st',
      'Kitchen',
      '3:04PM',
      new Date('2025-06-01T00:00:00Z'),
      at('2025-01-01T15:04:00Z'),
    ],
  ];
  for (const [name, format, value, now, want] of cases) {
    it(name, () => assert.deepEqual(parse(format, value, undefined, now), want));
  }
  it('the location applies, with its DST rules for the chosen year', () => {
    const ny = location('America/New_York');
    const now = new Date('2025-06-01T00:00:00Z');
    assert.deepEqual(parse(stamp, 'Jul 15 01:02:03', ny, now), at('2025-07-15T05:02:03Z'));
    assert.deepEqual(parse(stamp, 'Jan 15 01:02:03', ny, now), at('2025-01-15T06:02:03Z'));
  });
});

describe('timestamp formats: locations', () => {
  const ny = location('America/New_York');
  const cases: [string, string, TimeLocation, [number, number]][] = [
    ['summer time', '2019-07-22 20:29:32', ny, at('2019-07-23T00:29:32Z')],
    ['winter time', '2019-01-22 20:29:32', ny, at('2019-01-23T01:29:32Z')],
    // Go's Date: a wall clock in the spring-forward gap takes the offset after the change.
    ['in the DST gap', '2019-03-10 02:30:00', ny, at('2019-03-10T06:30:00Z')],
    // In the fall-back overlap, the first (daylight) occurrence.
    ['in the DST overlap', '2019-11-03 01:30:00', ny, at('2019-11-03T05:30:00Z')],
    ['half-hour zone', '2020-01-01 00:00:00', location('Asia/Kolkata'), at('2019-12-31T18:30:00Z')],
    ['quarter-hour zone', '2020-01-01 00:00:00', location('Asia/Kathmandu'), at('2019-12-31T18:15:00Z')],
    [
      'southern hemisphere summer',
      '2020-01-01 00:00:00',
      location('Australia/Sydney'),
      at('2019-12-31T13:00:00Z'),
    ],
    ['an alias resolves', '2019-07-22 20:29:32', location('US/Eastern'), at('2019-07-23T00:29:32Z')],
    ['UTC', '2019-07-22 20:29:32', location('UTC'), at('2019-07-22T20:29:32Z')],
  ];
  for (const [name, value, loc, want] of cases) {
    it(name, () => assert.deepEqual(parse('2006-01-02 15:04:05', value, loc), want));
  }
  it('an offset in the value wins over the location', () => {
    assert.deepEqual(
      parse('2006-01-02 15:04:05 -0700', '2019-07-22 20:29:32 +0000', ny),
      at('2019-07-22T20:29:32Z'),
    );
  });
  it('zone abbreviations of the location are known (EST/EDT), others are zero', () => {
    const layout = '2006-01-02 15:04:05 MST';
    assert.deepEqual(parse(layout, '2019-07-22 20:29:32 EDT', ny), at('2019-07-23T00:29:32Z'));
    assert.deepEqual(parse(layout, '2019-01-22 20:29:32 EST', ny), at('2019-01-23T01:29:32Z'));
    assert.deepEqual(parse(layout, '2019-01-22 20:29:32 EDT', ny), at('2019-01-23T00:29:32Z'));
    assert.deepEqual(parse(layout, '2019-01-22 20:29:32 JST', ny), at('2019-01-22T20:29:32Z'));
    assert.deepEqual(
      parse(layout, '2019-01-22 20:29:32 CET', location('Europe/Berlin')),
      at('2019-01-22T19:29:32Z'),
    );
  });
});

describe('timestamp stage: config issues (TestTimestampValidation)', () => {
  const cases: [string, unknown, (string | number)[], RegExp][] = [
    ['missing config', null, ['source'], /^timestamp source value is required if timestamp is specified$/],
    [
      'missing source',
      { format: 'RFC3339' },
      ['source'],
      /^timestamp source value is required if timestamp is specified$/,
    ],
    ['missing format', { source: 'source1' }, ['format'], /^timestamp format is required$/],
    [
      'invalid location',
      { source: 'source1', format: '2006-01-02', location: 'America/Canada' },
      ['location'],
      /^invalid location specified: unknown time zone America\/Canada$/,
    ],
    [
      'location in the wrong case (Go reads case-sensitive tzdata names)',
      { source: 's', format: 'RFC3339', location: 'america/new_york' },
      ['location'],
      /unknown time zone america\/new_york/,
    ],
    [
      'location that is an offset',
      { source: 's', format: 'RFC3339', location: '+01:00' },
      ['location'],
      /invalid location/,
    ],
    [
      'invalid action on failure',
      { source: 'source1', format: 'RFC3339', action_on_failure: 'foo' },
      ['action_on_failure'],
      /^invalid action on failure \(supported values are \[skip fudge\]\)/,
    ],
    [
      'fallback formats not a list',
      { source: 's', format: 'RFC3339', fallback_formats: 'Unix' },
      ['fallback_formats'],
      /to be a list/,
    ],
    [
      'fallback format not a string',
      { source: 's', format: 'RFC3339', fallback_formats: [5] },
      ['fallback_formats', 0],
      /to be a string/,
    ],
    [
      'unknown key',
      { source: 's', format: 'RFC3339', timezone: 'UTC' },
      ['timezone'],
      /Unknown key `timezone`/,
    ],
    [
      'misspelt format name',
      { source: 's', format: 'RFC3339nano' },
      ['format'],
      /^format `RFC3339nano` is not a format name \(names are case-sensitive\): did you mean `RFC3339Nano`\?$/,
    ],
    ['lower-case unix', { source: 's', format: 'unix' }, ['format'], /did you mean `Unix`\?/],
    [
      'text without a layout element',
      { source: 's', format: 'timestamp' },
      ['format'],
      /^format `timestamp` is neither a format name nor a Go layout \(it has no element of the reference time/,
    ],
    [
      'misspelt fallback format',
      { source: 's', format: 'RFC3339', fallback_formats: ['Unix', 'UnixMS'] },
      ['fallback_formats', 1],
      /did you mean `UnixMs`\?/,
    ],
  ];
  for (const [name, config, path, message] of cases) {
    it(name, () => {
      const { stage, issues } = createTimestampStage(config, ctx);
      assert.equal(stage, undefined);
      assert.ok(issues.length >= 1);
      assert.deepEqual(issues[0]!.path, path);
      assert.match(issues[0]!.message, message);
    });
  }
  it('valid locations: UTC, Local, empty, IANA names', () => {
    for (const loc of ['UTC', 'Local', '', 'Europe/Paris', 'Etc/GMT+5']) {
      assert.deepEqual(
        createTimestampStage({ source: 's', format: 'RFC3339', location: loc }, ctx).issues,
        [],
        loc,
      );
    }
  });
});

describe('timestamp formats: Unix counts at the int64 edges', () => {
  const cases: [string, string, [number, number] | undefined][] = [
    ['UnixNs', '9223372036854775807', [9223372036, 854_775_807]],
    ['UnixNs', '9223372036854775808', undefined],
    ['UnixNs', '1562708916000000123', [1562708916, 123]],
    ['UnixNs', '0000000000000000001', [0, 1]],
    ['UnixMs', '9223372036854', [9223372036, 854_000_000]],
    // Go computes ms × 1e6 in int64, which wraps past the year 2262.
    ['UnixMs', '9223372036855', [-9223372037, 145_448_384]],
    ['UnixUs', '-1', [-1, 999_999_000]],
    ['Unix', '+5', [5, 0]],
  ];
  for (const [format, value, want] of cases) {
    it(`${format}: ${value}`, () => assert.deepEqual(parse(format, value), want));
  }
});

describe('timestamp stage: the last-time cache holds 10,000 label sets, least recently used out', () => {
  const t0 = '2019-10-01T01:02:03.400000000Z';
  it('a label set unused for 10,000 others is forgotten', () => {
    const stage = build({ source: 'time', format: 'RFC3339Nano' });
    stage.process(entry({ time: t0 }, { s: 'A' }));
    for (let i = 0; i < 10_000; i++) stage.process(entry({ time: t0 }, { s: String(i) }));
    const e = entry({}, { s: 'A' });
    stage.process(e);
    assert.deepEqual([e.sec, e.nsec], [1, 0]);
  });
  it('a label set in use stays', () => {
    const stage = build({ source: 'time', format: 'RFC3339Nano' });
    stage.process(entry({ time: t0 }, { s: 'A' }));
    for (let i = 0; i < 30_000; i++) {
      stage.process(entry({ time: t0 }, { s: String(i) }));
      if (i % 100 === 0) stage.process(entry({ time: t0 }, { s: 'A' }));
    }
    const e = entry({}, { s: 'A' });
    stage.process(e);
    assert.deepEqual([e.sec, e.nsec], at('2019-10-01T01:02:03Z', 400_000_001));
  });
  it('entries switching among label sets, in any label order, fudge as one map keyed by the set would', () => {
    // More label sets than the stage compares directly, each reached in two label orders.
    const sets = Array.from({ length: 7 }, (_, k) => [
      ['job', `j${k % 3}`],
      ['level', `l${k}`],
    ]);
    const step = fc.record({
      set: fc.nat({ max: sets.length - 1 }),
      reversed: fc.boolean(),
      nsec: fc.option(fc.integer({ min: 0, max: 999_999_999 }), { nil: undefined, freq: 2 }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), steps => {
        const stage = build({ source: 'time', format: 'RFC3339Nano' });
        const model = new Map<number, [number, number]>();
        const sec = at('2019-10-01T01:02:03Z')[0];
        for (const s of steps) {
          const pairs = s.reversed ? [...sets[s.set]!].reverse() : sets[s.set]!;
          const time =
            s.nsec === undefined ? {} : { time: `2019-10-01T01:02:03.${String(s.nsec).padStart(9, '0')}Z` };
          const e = entry(time, Object.fromEntries(pairs));
          stage.process(e);
          const last = model.get(s.set);
          let want: [number, number] = [1, 0];
          if (s.nsec !== undefined) want = [sec, s.nsec];
          else if (last !== undefined)
            want = last[1] === 999_999_999 ? [last[0] + 1, 0] : [last[0], last[1] + 1];
          if (s.nsec !== undefined || last !== undefined) model.set(s.set, want);
          assert.deepEqual([e.sec, e.nsec], want);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("Go's RFC3339 fast path", () => {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  // Values near the form: every field in and just out of range, other separators, fractions of any
  // length (or with a comma), and the zone forms Go's general parser also knows.
  const value = fc
    .record({
      year: fc.integer({ min: 0, max: 9999 }),
      month: fc.integer({ min: 0, max: 13 }),
      day: fc.integer({ min: 0, max: 32 }),
      hour: fc.integer({ min: 0, max: 25 }),
      min: fc.integer({ min: 0, max: 60 }),
      sec: fc.integer({ min: 0, max: 60 }),
      t: fc.constantFrom('T', 'T', 'T', 't', ' '),
      dash: fc.constantFrom('-', '-', '-', '/'),
      frac: fc.oneof(fc.constant(''), fc.stringMatching(/^[.,][0-9]{1,12}$/), fc.constant('.')),
      zone: fc.oneof(
        fc.constantFrom('Z', 'z', '', 'UTC', '+00:00'),
        fc
          .tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }))
          .chain(([sign, h, m]) =>
            fc.constantFrom(`${sign}${pad(h, 2)}:${pad(m, 2)}`, `${sign}${pad(h, 2)}${pad(m, 2)}`),
          ),
      ),
    })
    .map(
      v =>
        `${pad(v.year, 4)}${v.dash}${pad(v.month, 2)}-${pad(v.day, 2)}${v.t}${pad(v.hour, 2)}:${pad(v.min, 2)}:` +
        `${pad(v.sec, 2)}${v.frac}${v.zone}`,
    );

  for (const format of ['RFC3339', 'RFC3339Nano']) {
    it(`gives the general parser's instant wherever it accepts a value (${format})`, () => {
      const general = timestampParser(format, undefined, undefined, false);
      let accepted = 0;
      fc.assert(
        fc.property(value, v => {
          const fast: Instant = { sec: 0, nsec: 0 };
          if (!parseRFC3339(v, fast)) return;
          accepted++;
          const slow: Instant = { sec: 0, nsec: 0 };
          assert.ok(general(v, slow), `${v}: the general parser refuses it`);
          assert.deepEqual(fast, slow, v);
        }),
        { numRuns: 5000 },
      );
      assert.ok(accepted > 150, `only ${accepted} values took the fast path`);
    });
  }

  it('takes the common forms and leaves the rest to the general parser', () => {
    const out: Instant = { sec: 0, nsec: 0 };
    assert.ok(parseRFC3339('2026-11-21T17:55:01.123456789Z', out));
    assert.deepEqual([out.sec, out.nsec], at('2026-11-21T17:55:01Z', 123_456_789));
    assert.ok(parseRFC3339('2026-11-21T17:55:01.1234567891234+02:30', out));
    assert.deepEqual([out.sec, out.nsec], at('2026-11-21T15:25:01Z', 123_456_789));
    for (const v of [
      '2026-11-21T17:55:01,5Z',
      '2026-11-21t17:55:01Z',
      '2026-11-21T17:55:01+0200',
      '2026-02-29T00:00:00Z',
    ]) {
      assert.equal(parseRFC3339(v, out), false, v);
    }
    // What the fast path leaves, the general parser still reads (a comma fraction, as in Go).
    const parse = timestampParser('RFC3339Nano', undefined);
    assert.ok(parse('2026-11-21T17:55:01,5Z', out));
    assert.deepEqual([out.sec, out.nsec], at('2026-11-21T17:55:01Z', 500_000_000));
  });
});

describe("nanoseconds (Go's parseNanoseconds)", () => {
  it('reads up to nine digits after the separator, and Go atoi rules for anything else', () => {
    const cases: Array<[string, number, number | undefined]> = [
      ['.5', 2, 500_000_000],
      [',7', 2, 700_000_000],
      ['.123456789123', 13, 123_456_789],
      ['.000000001', 10, 1],
      ['.12', 5, 1_200_000], // past the end: the digits there are, scaled for n - 1 of them (as Go's)
      ['.+12', 4, 12_000_000], // Go's atoi takes a sign (a fixed-width layout fraction can meet one)
      ['.-1', 3, undefined],
      ['.1x', 3, undefined],
      ['x1', 2, undefined],
    ];
    for (const [value, n, want] of cases) assert.equal(nanoseconds(value, 0, n), want, `${value} ${n}`);
  });
});
