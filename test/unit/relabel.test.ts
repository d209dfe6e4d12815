// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${1}` and `${name}` are Go templates under test, not JS templates.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { RawRelabelConfig } from '../../src/relabel/compile.js';
import { compileRelabelConfigs, isValidTemplateName } from '../../src/relabel/compile.js';
import { applyRelabel, finalizeLabels, hashMod } from '../../src/relabel/relabel.js';

type L = Record<string, string>;

function rules(raw: RawRelabelConfig[]) {
  const { rules, issues } = compileRelabelConfigs(raw);
  assert.deepEqual(issues, []);
  return rules;
}

function run(input: L, raw: RawRelabelConfig[]): L | null {
  const frozen = Object.freeze({ ...input });
  const out = applyRelabel(frozen, rules(raw));
  assert.deepEqual(frozen, input, 'the input must not change');
  return out;
}

/** hashmod computed here independently: md5, bytes 8..15 as a big-endian integer, modulo. */
function expectedHash(value: string, modulus: number): string {
  const low = createHash('md5').update(Buffer.from(value, 'utf8')).digest().subarray(8).toString('hex');
  return (BigInt(`0x${low}`) % BigInt(modulus)).toString();
}

interface Case {
  name: string;
  input: L;
  config: RawRelabelConfig[];
  /** null: the target is dropped. */
  output: L | null;
}

// Cases from prometheus/prometheus model/relabel/relabel_test.go (TestRelabel), written as YAML would give them.
const prometheusCases: Case[] = [
  {
    name: 'replace with ${1} twice',
    input: { a: 'foo', b: 'bar', c: 'baz' },
    config: [{ source_labels: ['a'], regex: 'f(.*)', target_label: 'd', replacement: 'ch${1}-ch${1}' }],
    output: { a: 'foo', b: 'bar', c: 'baz', d: 'choo-choo' },
  },
  {
    name: 'replace chained over joined sources',
    input: { a: 'foo', b: 'bar', c: 'baz' },
    config: [
      { source_labels: ['a', 'b'], regex: 'f(.*);(.*)r', target_label: 'a', replacement: 'b${1}${2}m' },
      { source_labels: ['c', 'a'], regex: '(b).*b(.*)ba(.*)', target_label: 'd', replacement: '$1$2$2$3' },
    ],
    output: { a: 'boobam', b: 'bar', c: 'baz', d: 'boooom' },
  },
  {
    name: 'drop stops before later rules',
    input: { a: 'foo' },
    config: [
      { source_labels: ['a'], regex: '.*o.*', action: 'drop' },
      { source_labels: ['a'], regex: 'f(.*)', target_label: 'd', replacement: 'ch$1-ch$1' },
    ],
    output: null,
  },
  {
    name: 'replace with the group in the middle',
    input: { a: 'abc' },
    config: [{ source_labels: ['a'], regex: '.*(b).*', target_label: 'd' }],
    output: { a: 'abc', d: 'b' },
  },
  {
    name: 'drop with no match keeps',
    input: { a: 'foo' },
    config: [{ source_labels: ['a'], regex: 'no-match', action: 'drop' }],
    output: { a: 'foo' },
  },
  {
    name: 'drop is anchored: f|o does not match foo',
    input: { a: 'foo' },
    config: [{ source_labels: ['a'], regex: 'f|o', action: 'drop' }],
    output: { a: 'foo' },
  },
  {
    name: 'keep with no match drops',
    input: { a: 'foo' },
    config: [{ source_labels: ['a'], regex: 'no-match', action: 'keep' }],
    output: null,
  },
  {
    name: 'keep with a match keeps',
    input: { a: 'foo' },
    config: [{ source_labels: ['a'], regex: 'f.*', action: 'keep' }],
    output: { a: 'foo' },
  },
  {
    name: 'replace without a match writes nothing',
    input: { a: 'boo' },
    config: [{ source_labels: ['a'], regex: 'f', target_label: 'b', replacement: 'bar' }],
    output: { a: 'boo' },
  },
  {
    name: 'an empty replacement deletes the target label',
    input: { a: 'foo', f: 'baz' },
    config: [{ source_labels: ['a'], regex: '(f).*', target_label: '$1', replacement: '$2' }],
    output: { a: 'foo' },
  },
  {
    name: 'hashmod 1000 of "baz" is 976 (Prometheus test vector)',
    input: { a: 'foo', b: 'bar', c: 'baz' },
    config: [{ source_labels: ['c'], target_label: 'd', action: 'hashmod', modulus: 1000 }],
    output: { a: 'foo', b: 'bar', c: 'baz', d: '976' },
  },
  {
    name: 'hashmod 1000 of "foo\\nbar" is 734 (Prometheus test vector)',
    input: { a: 'foo\nbar' },
    config: [{ source_labels: ['a'], target_label: 'b', action: 'hashmod', modulus: 1000 }],
    output: { a: 'foo\nbar', b: '734' },
  },
  {
    name: 'labelmap with a prefix',
    input: { a: 'foo', b1: 'bar', b2: 'baz' },
    config: [{ regex: '(b.*)', replacement: 'bar_${1}', action: 'labelmap' }],
    output: { a: 'foo', b1: 'bar', b2: 'baz', bar_b1: 'bar', bar_b2: 'baz' },
  },
  {
    name: 'labelmap of meta labels',
    input: { a: 'foo', __meta_my_bar: 'aaa', __meta_my_baz: 'bbb', __meta_other: 'ccc' },
    config: [{ regex: '__meta_(my.*)', replacement: '${1}', action: 'labelmap' }],
    output: {
      a: 'foo',
      __meta_my_bar: 'aaa',
      __meta_my_baz: 'bbb',
      __meta_other: 'ccc',
      my_bar: 'aaa',
      my_baz: 'bbb',
    },
  },
  {
    name: 'target label built from a group',
    input: { a: 'some-name-value' },
    config: [
      { source_labels: ['a'], regex: 'some-([^-]+)-([^,]+)', replacement: '${2}', target_label: '${1}' },
    ],
    output: { a: 'some-name-value', name: 'value' },
  },
  {
    name: 'a missing group as replacement writes nothing',
    input: { a: 'some-name-value' },
    config: [
      { source_labels: ['a'], regex: 'some-([^-]+)-([^,]+)', replacement: '${3}', target_label: '${1}' },
    ],
    output: { a: 'some-name-value' },
  },
  {
    name: 'an empty expanded target label is skipped',
    input: { a: 'some-name-0' },
    config: [
      { source_labels: ['a'], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '${3}' },
      { source_labels: ['a'], regex: 'some-([^-]+)(-[^,]+)', replacement: '${1}', target_label: '${3}' },
    ],
    output: { a: 'some-name-0' },
  },
  {
    name: 'a real-life tag split',
    input: { __meta_sd_tags: 'path:/secret,job:some-job,label:foo=bar' },
    config: [
      {
        source_labels: ['__meta_sd_tags'],
        regex: '(?:.+,|^)path:(/[^,]+).*',
        target_label: '__metrics_path__',
      },
      { source_labels: ['__meta_sd_tags'], regex: '(?:.+,|^)job:([^,]+).*', target_label: 'job' },
      {
        source_labels: ['__meta_sd_tags'],
        regex: '(?:.+,|^)label:([^=]+)=([^,]+).*',
        replacement: '${2}',
        target_label: '${1}',
      },
    ],
    output: {
      __meta_sd_tags: 'path:/secret,job:some-job,label:foo=bar',
      __metrics_path__: '/secret',
      job: 'some-job',
      foo: 'bar',
    },
  },
  {
    name: 'prometheus#12283: labeldrop, then replace the dropped label, then keep on it',
    input: {
      __meta_kubernetes_pod_container_port_name: 'foo',
      __meta_kubernetes_pod_annotation_XXX_metrics_port: '9091',
    },
    config: [
      { regex: '^__meta_kubernetes_pod_container_port_name$', action: 'labeldrop' },
      {
        source_labels: ['__meta_kubernetes_pod_annotation_XXX_metrics_port'],
        regex: '(.+)',
        replacement: 'metrics',
        target_label: '__meta_kubernetes_pod_container_port_name',
      },
      { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: '^metrics$', action: 'keep' },
    ],
    output: {
      __meta_kubernetes_pod_annotation_XXX_metrics_port: '9091',
      __meta_kubernetes_pod_container_port_name: 'metrics',
    },
  },
  {
    name: 'labelkeep',
    input: { a: 'foo', b1: 'bar', b2: 'baz' },
    config: [{ regex: '(b.*)', action: 'labelkeep' }],
    output: { b1: 'bar', b2: 'baz' },
  },
  {
    name: 'labeldrop',
    input: { a: 'foo', b1: 'bar', b2: 'baz' },
    config: [{ regex: '(b.*)', action: 'labeldrop' }],
    output: { a: 'foo' },
  },
  {
    name: 'uppercase and lowercase',
    input: { foo: 'bAr123Foo' },
    config: [
      { source_labels: ['foo'], action: 'uppercase', target_label: 'foo_uppercase' },
      { source_labels: ['foo'], action: 'lowercase', target_label: 'foo_lowercase' },
    ],
    output: { foo: 'bAr123Foo', foo_lowercase: 'bar123foo', foo_uppercase: 'BAR123FOO' },
  },
  {
    name: 'keepequal with an equal value keeps',
    input: { __tmp_port: '1234', __port1: '1234', __port2: '5678' },
    config: [{ source_labels: ['__tmp_port'], action: 'keepequal', target_label: '__port1' }],
    output: { __tmp_port: '1234', __port1: '1234', __port2: '5678' },
  },
  {
    name: 'dropequal with an equal value drops',
    input: { __tmp_port: '1234', __port1: '1234', __port2: '5678' },
    config: [{ source_labels: ['__tmp_port'], action: 'dropequal', target_label: '__port1' }],
    output: null,
  },
  {
    name: 'dropequal with another value keeps',
    input: { __tmp_port: '1234', __port1: '1234', __port2: '5678' },
    config: [{ source_labels: ['__tmp_port'], action: 'dropequal', target_label: '__port2' }],
    output: { __tmp_port: '1234', __port1: '1234', __port2: '5678' },
  },
  {
    name: 'keepequal with another value drops',
    input: { __tmp_port: '1234', __port1: '1234', __port2: '5678' },
    config: [{ source_labels: ['__tmp_port'], action: 'keepequal', target_label: '__port2' }],
    output: null,
  },
  {
    name: '. matches a newline in relabel regexes',
    input: { a: 'line1\nline2', b: 'bar', c: 'baz' },
    config: [{ source_labels: ['a'], regex: 'line1.*line2', target_label: 'd', replacement: 'match${1}' }],
    output: { a: 'line1\nline2', b: 'bar', c: 'baz', d: 'match' },
  },
  {
    name: 'named groups as ${name} and $name',
    input: { a: 'line1\nline2' },
    config: [
      {
        source_labels: ['a'],
        regex: '(line1).*(?<second>line2)',
        target_label: 'label1_${1}',
        replacement: 'val_${second}',
      },
      {
        source_labels: ['a'],
        regex: '(line1).*(?<second>line2)',
        target_label: 'label2_$1',
        replacement: 'val_$second',
      },
    ],
    output: { a: 'line1\nline2', label1_line1: 'val_line2', label2_line1: 'val_line2' },
  },
];

// The actions as the Prometheus relabel_config documentation describes them, and its notes.
const docsCases: Case[] = [
  {
    name: 'replace: missing source labels count as empty values',
    input: { a: 'x' },
    config: [{ source_labels: ['a', 'missing', 'a'], target_label: 'joined', replacement: '[$1]' }],
    output: { a: 'x', joined: '[x;;x]' },
  },
  {
    name: 'replace: a custom separator',
    input: { a: 'x', b: 'y' },
    config: [{ source_labels: ['a', 'b'], separator: '/', target_label: 'path' }],
    output: { a: 'x', b: 'y', path: 'x/y' },
  },
  {
    name: 'the regex is anchored on both ends; .*<regex>.* un-anchors it',
    input: { a: 'xxfooxx' },
    config: [
      { source_labels: ['a'], regex: 'foo', target_label: 'anchored', replacement: 'yes' },
      { source_labels: ['a'], regex: '.*foo.*', target_label: 'unanchored', replacement: 'yes' },
    ],
    output: { a: 'xxfooxx', unanchored: 'yes' },
  },
  {
    name: 'a static label: no source labels, replacement only',
    input: { a: 'x' },
    config: [{ target_label: 'env', replacement: 'prod' }],
    output: { a: 'x', env: 'prod' },
  },
  {
    name: 'hashmod with a modulus',
    input: { __address__: '10.0.0.1:9100' },
    config: [{ source_labels: ['__address__'], modulus: 8, target_label: '__tmp_hash', action: 'hashmod' }],
    output: { __address__: '10.0.0.1:9100', __tmp_hash: expectedHash('10.0.0.1:9100', 8) },
  },
  {
    name: 'labelmap matches all label names, not only source_labels',
    input: { __meta_x_a: '1', __meta_x_b: '2' },
    config: [{ source_labels: ['unused'], regex: '__meta_x_(.+)', action: 'labelmap' }],
    output: { __meta_x_a: '1', __meta_x_b: '2', a: '1', b: '2' },
  },
  {
    name: 'a __tmp label carries a value between steps',
    input: { __meta_host: 'web-1.example.com' },
    config: [
      { source_labels: ['__meta_host'], regex: '([^.]+)\\..*', target_label: '__tmp_short' },
      { source_labels: ['__tmp_short'], regex: '(.*)-\\d+', target_label: 'role' },
    ],
    output: { __meta_host: 'web-1.example.com', __tmp_short: 'web-1', role: 'web' },
  },
  {
    name: 'action names are case-insensitive',
    input: { a: 'foo', b: 'x' },
    config: [
      { regex: 'b', action: 'LabelDrop' },
      { source_labels: ['a'], target_label: 'A_up', action: 'UPPERCASE' },
    ],
    output: { a: 'foo', A_up: 'FOO' },
  },
];

// Promtail's docker_sd_configs example (docs/sources/send-data/promtail/configuration.md).
const promtailCases: Case[] = [
  {
    name: 'container name without its slash, log stream, job from a Docker label',
    input: {
      __meta_docker_container_id: '0123456789ab',
      __meta_docker_container_name: '/flog',
      __meta_docker_container_log_stream: 'stderr',
      __meta_docker_container_label_logging_jobname: 'containerlogs',
      __meta_docker_container_label_logging: 'promtail',
    },
    config: [
      { source_labels: ['__meta_docker_container_name'], regex: '/(.*)', target_label: 'container' },
      { source_labels: ['__meta_docker_container_log_stream'], target_label: 'logstream' },
      { source_labels: ['__meta_docker_container_label_logging_jobname'], target_label: 'job' },
    ],
    output: {
      __meta_docker_container_id: '0123456789ab',
      __meta_docker_container_name: '/flog',
      __meta_docker_container_log_stream: 'stderr',
      __meta_docker_container_label_logging_jobname: 'containerlogs',
      __meta_docker_container_label_logging: 'promtail',
      container: 'flog',
      logstream: 'stderr',
      job: 'containerlogs',
    },
  },
  {
    name: 'a container without the job label gets no job (empty value deletes)',
    input: { __meta_docker_container_name: '/db', __meta_docker_container_log_stream: 'stdout' },
    config: [
      { source_labels: ['__meta_docker_container_name'], regex: '/(.*)', target_label: 'container' },
      { source_labels: ['__meta_docker_container_label_logging_jobname'], target_label: 'job' },
    ],
    output: {
      __meta_docker_container_name: '/db',
      __meta_docker_container_log_stream: 'stdout',
      container: 'db',
    },
  },
];

describe('applyRelabel', () => {
  for (const [group, cases] of [
    ['Prometheus relabel_test.go', prometheusCases],
    ['Prometheus docs', docsCases],
    ['Promtail docker_sd_configs docs', promtailCases],
  ] as const) {
    describe(group, () => {
      for (const c of cases) {
        it(c.name, () => assert.deepEqual(run(c.input, c.config), c.output));
      }
    });
  }

  it('hashmod agrees with an independent md5 computation', () => {
    const values = ['', 'a', 'baz', 'foo\nbar', 'héllo wörld', '😀', '10.0.0.1:9100;job'];
    for (const modulus of [1, 2, 3, 8, 1000, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
      for (const value of values) {
        assert.equal(
          hashMod(value, BigInt(modulus)).toString(),
          expectedHash(value, modulus),
          `${value} % ${modulus}`,
        );
      }
    }
    const out = run({ a: 'x', b: 'y' }, [
      { source_labels: ['a', 'b'], separator: '|', modulus: 7, target_label: 'h', action: 'hashmod' },
    ]);
    assert.equal(out?.h, expectedHash('x|y', 7));
  });

  it('labelmap collisions resolve in Go labels.Builder order', () => {
    // Go visits untouched labels by name, then the labels earlier rules set, in the order they were
    // set: `a_x` (set by the first rule) comes after `b_x`, so its value wins for `x`, although
    // name order alone would let `b_x` win.
    const out = run({ b_x: 'from-b', c: 'c' }, [
      { source_labels: ['c'], target_label: 'a_x', replacement: 'from-a' },
      { regex: '[ab]_(.*)', action: 'labelmap' },
    ]);
    assert.deepEqual(out, { a_x: 'from-a', b_x: 'from-b', c: 'c', x: 'from-a' });
    const untouched = run({ a_x: 'from-a', b_x: 'from-b' }, [{ regex: '[ab]_(.*)', action: 'labelmap' }]);
    assert.equal(untouched?.x, 'from-b');
  });

  it('labelmap skips names Loki would refuse', () => {
    assert.deepEqual(run({ foo: 'v' }, [{ regex: 'foo(.*)', action: 'labelmap' }]), { foo: 'v' });
  });

  it('replace skips an expanded target that is not a valid label name', () => {
    assert.deepEqual(run({ a: 'x-y' }, [{ source_labels: ['a'], regex: '(.*)', target_label: 'l_$1' }]), {
      a: 'x-y',
    });
  });

  it('replace with the default regex on an empty value sets the static replacement', () => {
    assert.deepEqual(run({}, [{ source_labels: ['nope'], target_label: 't', replacement: 'v' }]), { t: 'v' });
  });

  it('lowercase/uppercase map one code point to one, as Go does', () => {
    const out = run({ a: 'Straße İSTANBUL ΟΔΟΣ' }, [
      { source_labels: ['a'], target_label: 'up', action: 'uppercase' },
      { source_labels: ['a'], target_label: 'low', action: 'lowercase' },
    ]);
    assert.equal(out?.up, 'STRAßE İSTANBUL ΟΔΟΣ'); // JS alone would write STRASSE
    assert.equal(out?.low, 'straße istanbul οδοσ'); // JS alone: i̇stanbul, final ς
  });

  it('an empty lowercase result deletes the target', () => {
    assert.deepEqual(
      run({ t: 'old' }, [{ source_labels: ['none'], target_label: 't', action: 'lowercase' }]),
      {},
    );
  });

  it('treats labels with empty values as absent', () => {
    assert.deepEqual(run({ a: '', b: 'x' }, [{ regex: '.*', action: 'labelkeep' }]), { b: 'x' });
  });

  it('handles labels named like Object.prototype members', () => {
    const input = JSON.parse('{"__proto__": "v"}') as L;
    const out = run(input, [{ source_labels: ['__proto__'], target_label: 'constructor' }]);
    assert.equal(Object.hasOwn(out!, '__proto__'), true);
    assert.equal(Object.hasOwn(out!, 'constructor'), true);
    assert.equal(out?.constructor, 'v');
    assert.deepEqual(Object.keys(finalizeLabels(out!)!), ['constructor']);
  });
});

describe('finalizeLabels', () => {
  it('drops every __ label', () => {
    assert.deepEqual(finalizeLabels({ __meta_x: '1', __tmp: '2', job: 'j', _one: 'kept' }), {
      job: 'j',
      _one: 'kept',
    });
  });
  it('returns null when nothing is left', () => {
    assert.equal(finalizeLabels({ __meta_docker_container_name: '/x' }), null);
    assert.equal(finalizeLabels({}), null);
  });
});

describe('compileRelabelConfigs', () => {
  it('applies Prometheus defaults: replace, ";", "(.*)", "$1"', () => {
    const [rule] = rules([{ source_labels: ['a'], target_label: 'b' }]);
    assert.equal(rule?.action, 'replace');
    assert.equal(rule?.separator, ';');
    assert.equal(rule?.regex.source, '^(?:(.*))$');
    assert.deepEqual(rule?.replacement, [1]);
    assert.equal(rule?.modulus, 0n);
  });

  it('accepts every relabel entry of Prometheus config/testdata/conf.good.yml', () => {
    const good: RawRelabelConfig[] = [
      {
        source_labels: ['job', '__meta_dns_name'],
        regex: '(.*)some-[regex]',
        target_label: 'job',
        replacement: 'foo-${1}',
      },
      { source_labels: ['abc'], target_label: 'cde' },
      { replacement: 'static', target_label: 'abc' },
      { regex: null, replacement: 'static', target_label: 'abc' },
      { source_labels: ['foo'], target_label: 'abc', action: 'keepequal' },
      { source_labels: ['foo'], target_label: 'abc', action: 'dropequal' },
      { source_labels: ['job'], regex: '(.*)some-[regex]', action: 'drop' },
      { source_labels: ['__address__'], modulus: 8, target_label: '__tmp_hash', action: 'hashmod' },
      { source_labels: ['__tmp_hash'], regex: '1', action: 'keep' },
      { action: 'labelmap', regex: '1' },
      { action: 'labeldrop', regex: 'd' },
      { action: 'labelkeep', regex: 'k' },
      {
        source_labels: ['__meta_sd_consul_tags'],
        separator: ',',
        regex: 'label:([^=]+)=([^,]+)',
        target_label: '${1}',
        replacement: '${2}',
      },
    ];
    assert.equal(rules(good).length, good.length);
  });

  it('reads a YAML null as Go zero value: `regex:` is the empty regex', () => {
    const [rule] = rules([{ source_labels: ['a'], regex: null, target_label: 'b', replacement: 'hit' }]);
    assert.deepEqual(applyRelabel({ a: '' }, [rule!]), { b: 'hit' });
    assert.deepEqual(applyRelabel({ a: 'x' }, [rule!]), { a: 'x' });
  });

  it('takes YAML numbers where strings belong (`regex: 1`)', () => {
    const raw = [{ source_labels: ['a'], regex: 1, action: 'keep' }] as unknown as RawRelabelConfig[];
    assert.deepEqual(applyRelabel({ a: '1' }, rules(raw)), { a: '1' });
  });

  // Messages as Prometheus words them (model/relabel/relabel.go and config/config_test.go).
  const bad: [string, unknown, (string | number)[], string][] = [
    ['null entry', null, [0], 'empty or null relabeling rule'],
    ['not a mapping', 'keep', [0], 'Expected a relabel config (a mapping), got `keep` (string)'],
    ['action: null', { action: null }, [0, 'action'], 'relabel action cannot be empty'],
    ['action: ""', { action: '' }, [0, 'action'], 'unknown relabel action ""'],
    ['unknown action', { action: 'Rename' }, [0, 'action'], 'unknown relabel action "Rename"'],
    [
      'hashmod without modulus',
      { action: 'hashmod', target_label: 'h' },
      [0, 'modulus'],
      'relabel configuration for hashmod requires non-zero modulus',
    ],
    [
      'negative modulus',
      { action: 'hashmod', target_label: 'h', modulus: -1 },
      [0, 'modulus'],
      'Expected `modulus` to be a non-negative integer, got `-1` (number)',
    ],
    [
      'replace without target',
      { source_labels: ['a'] },
      [0, 'target_label'],
      "relabel configuration for replace action requires 'target_label' value",
    ],
    [
      'hashmod without target',
      { action: 'hashmod', modulus: 2 },
      [0, 'target_label'],
      "relabel configuration for hashmod action requires 'target_label' value",
    ],
    [
      'lowercase without target',
      { action: 'lowercase' },
      [0, 'target_label'],
      "relabel configuration for lowercase action requires 'target_label' value",
    ],
    [
      'uppercase without target',
      { action: 'uppercase' },
      [0, 'target_label'],
      "relabel configuration for uppercase action requires 'target_label' value",
    ],
    [
      'keepequal without target',
      { action: 'keepequal', source_labels: ['a'] },
      [0, 'target_label'],
      "relabel configuration for keepequal action requires 'target_label' value",
    ],
    [
      'dropequal without target',
      { action: 'dropequal', source_labels: ['a'] },
      [0, 'target_label'],
      "relabel configuration for dropequal action requires 'target_label' value",
    ],
    [
      'invalid replace target',
      { target_label: '1abc' },
      [0, 'target_label'],
      `"1abc" is invalid 'target_label' for replace action`,
    ],
    [
      'invalid replace template',
      { target_label: 'a-${1}' },
      [0, 'target_label'],
      `"a-\${1}" is invalid 'target_label' for replace action`,
    ],
    [
      'template in lowercase target',
      { action: 'lowercase', target_label: '${3}' },
      [0, 'target_label'],
      `"\${3}" is invalid 'target_label' for lowercase action`,
    ],
    [
      'invalid hashmod target',
      { action: 'hashmod', modulus: 2, target_label: 'a.b' },
      [0, 'target_label'],
      `"a.b" is invalid 'target_label' for hashmod action`,
    ],
    [
      'replacement on lowercase',
      { action: 'lowercase', source_labels: ['__name__'], target_label: '__name__', replacement: 'bar' },
      [0, 'replacement'],
      "'replacement' can not be set for lowercase action",
    ],
    [
      'replacement on uppercase',
      { action: 'uppercase', target_label: 'x', replacement: 'bar' },
      [0, 'replacement'],
      "'replacement' can not be set for uppercase action",
    ],
    [
      'invalid labelmap replacement',
      { action: 'labelmap', replacement: 'x-$1' },
      [0, 'replacement'],
      `"x-$1" is invalid 'replacement' for labelmap action`,
    ],
    [
      'dropequal with regex',
      { source_labels: ['abcdef'], action: 'dropequal', regex: 'foo', target_label: 'bar' },
      [0],
      "dropequal action requires only 'source_labels' and `target_label`, and no other fields",
    ],
    [
      'keepequal with regex',
      { source_labels: ['abcdef'], action: 'keepequal', regex: 'foo', target_label: 'bar' },
      [0],
      "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
    ],
    [
      'labeldrop with source_labels',
      { source_labels: ['abcdef'], action: 'labeldrop' },
      [0],
      "labeldrop action requires only 'regex', and no other fields",
    ],
    [
      'labeldrop with modulus',
      { modulus: 8, action: 'labeldrop' },
      [0],
      "labeldrop action requires only 'regex', and no other fields",
    ],
    [
      'labeldrop with separator',
      { separator: ',', action: 'labeldrop' },
      [0],
      "labeldrop action requires only 'regex', and no other fields",
    ],
    [
      'labeldrop with replacement',
      { replacement: 'yolo-{1}', action: 'labeldrop' },
      [0],
      "labeldrop action requires only 'regex', and no other fields",
    ],
    [
      'labelkeep with target',
      { target_label: 'yolo', action: 'labelkeep' },
      [0],
      "labelkeep action requires only 'regex', and no other fields",
    ],
    [
      'source_labels as a string',
      { source_labels: 'a', target_label: 'b' },
      [0, 'source_labels'],
      'Expected `source_labels` to be a list of label names, got `a` (string)',
    ],
    [
      'empty source label',
      { source_labels: ['a', ''], target_label: 'b' },
      [0, 'source_labels', 1],
      '"" is not a valid label name',
    ],
    [
      'separator as a list',
      { separator: [','], target_label: 'b' },
      [0, 'separator'],
      'Expected `separator` to be a string, got `[","]` (list)',
    ],
    [
      'Go-invalid regex',
      { regex: '(a)\\1', action: 'keep' },
      [0, 'regex'],
      'invalid regular expression `(a)\\1`: backreference `\\1` is not supported (Go RE2 has no backreferences)',
    ],
    [
      'lookahead',
      { regex: 'a(?=b)', action: 'drop' },
      [0, 'regex'],
      'invalid regular expression `a(?=b)`: lookahead `(?=` is not supported (Go RE2 syntax)',
    ],
  ];
  for (const [name, entry, path, message] of bad) {
    it(`rejects ${name}`, () => {
      const result = compileRelabelConfigs([entry as RawRelabelConfig]);
      assert.deepEqual(result, { rules: [], issues: [{ path, message }] });
    });
  }

  it('reports issues of several entries together, by index', () => {
    const { rules, issues } = compileRelabelConfigs([
      { source_labels: ['a'], target_label: 'ok' },
      { regex: '(' },
      { action: 'nope' },
    ]);
    assert.deepEqual(rules, []);
    assert.deepEqual(
      issues.map(i => i.path),
      [
        [1, 'regex'],
        [2, 'action'],
      ],
    );
  });

  it('checks template names like Prometheus relabelTargetLegacy, without backtracking', () => {
    // TestTargetLabelLegacyValidity in prometheus relabel_test.go
    const cases: [string, boolean][] = [
      ['-label', false],
      ['label', true],
      ['label${1}', true],
      ['${1}label', true],
      ['${1}', true],
      ['${', false],
      ['$', false],
      ['${}', false],
      ['foo${', false],
      ['$1', true],
      ['asd$2asd', true],
      ['-foo${1}bar-', false],
      ['bar.foo${1}bar', false],
      ['_${1}_', true],
      ['foo${bar}foo', true],
      ['1abc', false],
    ];
    for (const [name, valid] of cases) assert.equal(isValidTemplateName(name), valid, name);
    // A check that backtracks would never finish on this input; finishing is the assertion.
    assert.equal(isValidTemplateName(`${'a'.repeat(100_000)}-`), false);
  });
});
