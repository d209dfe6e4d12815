// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text holding ${VAR} references
// Property tests of the config loader (src/config/load.ts loadConfigText) with fast-check: random
// YAML-ish text, mutations of real configs and random value trees in every config position give either a
// config or located issues, never an exception, and a config comes only without issues.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { type LoadResult, loadConfigText } from '../../src/config/load.js';
import { dumpYaml, parseYaml } from '../../src/config/yaml.js';

const RUNS = Number(process.env.DOCKTAIL_FUZZ_RUNS ?? 300);
const here = dirname(fileURLToPath(import.meta.url));
const FULL = readFileSync(join(here, '../fixtures/config/full.yml'), 'utf8');
const CODEDANG = readFileSync(join(here, '../fixtures/user-configs/codedang/promtail-config.yml'), 'utf8');
const cwd = mkdtempSync(join(tmpdir(), 'docktail-fuzz-config-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

const KEYS = [
  'server',
  'http_listen_port',
  'http_listen_address',
  'log_level',
  'positions',
  'filename',
  'sync_period',
  'ignore_invalid_yaml',
  'clients',
  'url',
  'tenant_id',
  'batchwait',
  'batchsize',
  'timeout',
  'external_labels',
  'headers',
  'basic_auth',
  'password_file',
  'tls_config',
  'backoff_config',
  'max_retries',
  'scrape_configs',
  'job_name',
  'docker_sd_configs',
  'host',
  'refresh_interval',
  'filters',
  'name',
  'values',
  'relabel_configs',
  'source_labels',
  'regex',
  'target_label',
  'replacement',
  'action',
  'modulus',
  'pipeline_stages',
  'match',
  'selector',
  'stages',
  'limits_config',
  'max_line_size',
  '<<',
];
const SCALARS = [
  '0',
  '-1',
  '1e400',
  '0x10',
  '0123',
  '1.5',
  '9999999999999999999999',
  'true',
  'yes',
  'null',
  '~',
  "''",
  '""',
  '1s',
  '-5m',
  '1d2h',
  '10MiB',
  '256kB',
  'http://loki:3100/loki/api/v1/push',
  'unix:///var/run/docker.sock',
  'tcp://[::1]:2375',
  "'/(.*)'",
  "'(?P<x>'",
  "'[[:alpha:]'",
  'hashmod',
  'labelmap',
  'keep',
  'drop',
  '${LOKI}',
  '${NOPE:-x}',
  '$$',
  '{}',
  '[]',
  '[a, b]',
  '{a: 1}',
  '&a x',
  '*a',
  '!!binary aGk=',
  '!!str 1',
  '!custom x',
  '|',
  '>-',
  '"\\u0000"',
  '"\\xff"',
  '\t',
];

/** Lines of `indent key: value`, `- item`, comments and YAML punctuation, in any order. */
const yamlish = fc
  .array(
    fc.tuple(
      fc.integer({ min: 0, max: 4 }),
      fc.oneof(
        fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...SCALARS, '')).map(([k, v]) => `${k}: ${v}`),
        fc.constantFrom(...SCALARS).map(v => `- ${v}`),
        fc.constantFrom(...KEYS).map(k => `- ${k}:`),
        fc.constantFrom(
          '---',
          '...',
          '# comment',
          '%YAML 1.2',
          '? complex',
          ': value',
          '&anchor',
          '<<: *anchor',
        ),
        fc.string({ maxLength: 30 }),
      ),
    ),
    { maxLength: 40 },
  )
  .map(lines => lines.map(([indent, text]) => `${'  '.repeat(indent)}${text}`).join('\n'));

type Mutation = (lines: string[], a: number, b: number, token: string) => void;
const MUTATIONS: Mutation[] = [
  (l, a) => void l.splice(a % (l.length || 1), 1),
  (l, a) => void l.splice(a % (l.length || 1), 0, l[a % (l.length || 1)] ?? ''),
  (l, a, b) => {
    const i = a % (l.length || 1);
    const j = b % (l.length || 1);
    [l[i], l[j]] = [l[j] ?? '', l[i] ?? ''];
  },
  (l, a, _b, token) => {
    const i = a % (l.length || 1);
    const line = l[i] ?? '';
    const colon = line.indexOf(': ');
    l[i] = colon === -1 ? `${line} ${token}` : `${line.slice(0, colon + 2)}${token}`;
  },
  (l, a, b) => {
    const i = a % (l.length || 1);
    l[i] = b % 2 === 0 ? `  ${l[i] ?? ''}` : (l[i] ?? '').replace(/^ {1,2}/, '');
  },
  (l, a, b, token) => {
    const i = a % (l.length || 1);
    const line = l[i] ?? '';
    const at = b % (line.length + 1);
    l[i] = `${line.slice(0, at)}${token}${line.slice(at)}`;
  },
  (l, a) => void l.splice(a % (l.length || 1)),
];

/** A real config with a few random edits. */
const mutated = fc
  .tuple(
    fc.constantFrom(FULL, CODEDANG),
    fc.array(
      fc.tuple(
        fc.integer({ min: 0, max: MUTATIONS.length - 1 }),
        fc.nat(),
        fc.nat(),
        fc.oneof(fc.constantFrom(...SCALARS, ...KEYS), fc.string({ maxLength: 8 })),
      ),
      { minLength: 1, maxLength: 6 },
    ),
  )
  .map(([base, edits]) => {
    const lines = base.split('\n');
    for (const [m, a, b, token] of edits) MUTATIONS[m]!(lines, a, b, token);
    return lines.join('\n');
  });

/** Any JSON-ish value, to put anywhere in a valid config tree. */
const junk = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, Number.NaN, '', 'x', '1s', [], {}),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Lines as YAML counts them: `\r\n`, a lone `\r` and `\n` each end a line. */
function countLines(s: string): number {
  return s.split(/\r\n|\r|\n/).length;
}

/** The loader's contract on any input. */
function checkResult(r: LoadResult, text: string): void {
  assert.equal(r.config !== undefined, r.issues.length === 0, 'a config exactly when there is no issue');
  for (const issue of r.issues) {
    assert.equal(typeof issue.message, 'string');
    assert.ok(issue.message.length > 0);
    assert.ok(Array.isArray(issue.path));
    for (const p of issue.path) assert.ok(typeof p === 'string' || typeof p === 'number');
    if (issue.line !== undefined) {
      assert.ok(Number.isInteger(issue.line) && issue.line >= 1, `line ${issue.line}`);
      assert.ok(issue.line <= countLines(text) + 1, `line ${issue.line} past the end`);
    }
  }
  assert.ok(Array.isArray(r.notices));
  assert.equal(typeof r.locate, 'function');
}

function load(text: string, expand: boolean): LoadResult {
  return loadConfigText(text, {
    expandEnv: expand,
    env: { LOKI_SERVER_URL: 'loki:3100', LOKI: 'x' },
    cwd,
  });
}

describe('loadConfigText properties', () => {
  it('the unmutated configs load without issues', () => {
    for (const text of [FULL, CODEDANG]) {
      const r = load(text, true);
      checkResult(r, text);
    }
    assert.ok(load(CODEDANG, true).config);
  });

  it('random YAML-ish text gives a config or located issues, never an exception', () => {
    fc.assert(
      fc.property(yamlish, fc.boolean(), (text, expand) => checkResult(load(text, expand), text)),
      { numRuns: RUNS * 3 },
    );
  });

  it('mutated real configs give a config or located issues, never an exception', () => {
    fc.assert(
      fc.property(mutated, fc.boolean(), (text, expand) => checkResult(load(text, expand), text)),
      { numRuns: RUNS * 3 },
    );
  });

  it('any value at any place of a valid config tree is reported, never thrown on', () => {
    const tree = parseTree(FULL);
    const paths = collectPaths(tree);
    fc.assert(
      fc.property(fc.constantFrom(...paths), junk, (path, value) => {
        const copy = structuredClone(tree);
        setAt(copy, path, value);
        const text = dumpYaml(copy);
        checkResult(load(text, false), text);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('random text of any characters never throws', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.boolean(), (text, expand) =>
        checkResult(load(text, expand), text),
      ),
      { numRuns: RUNS },
    );
  });

  it('an alias bomb is answered with issues, not a throw or a hang', () => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 10; i++) {
      const prev = `*a${i - 1}`;
      text += `a${i}: &a${i} [${Array(9).fill(prev).join(', ')}]\n`;
    }
    for (const where of ['server', 'clients', 'scrape_configs', 'limits_config']) {
      const doc = `${text}${where}: *a9\n`;
      // Rendering the expanded value once took minutes and then threw; the runner's timeout catches a hang.
      checkResult(load(doc, false), doc);
    }
    const labels = `${text}clients:\n  - url: http://l/loki/api/v1/push\n    external_labels: *a9\n    headers: *a9\n`;
    checkResult(load(labels, false), labels);
  });
});

/** The config as a plain tree, read by the loader's own YAML reader. */
function parseTree(text: string): unknown {
  const parsed = parseYaml(text);
  assert.ok(parsed.ok);
  return parsed.value;
}

type Path = Array<string | number>;

function collectPaths(node: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (Array.isArray(node)) for (const [i, v] of node.entries()) collectPaths(v, [...path, i], out);
  else if (node !== null && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) collectPaths(v, [...path, k], out);
  return out;
}

function setAt(root: unknown, path: Path, value: unknown): void {
  if (path.length === 0) return;
  let node = root as Record<string | number, unknown>;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
}
