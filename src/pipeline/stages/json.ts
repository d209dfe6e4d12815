//! The `json` stage (Promtail's json.go): parses the line (or an extracted value) as a JSON object
//! once per entry and sets one extracted value per JMESPath expression. Values keep their JSON type
//! (number, string, bool, null); objects and arrays are stored as JSON text, as Promtail re-marshals
//! them. When every expression is a plain field path (`a`, `a.b`, `"grpc.stream"`), the line is not
//! parsed into an object: json-scan.ts checks it as JSON.parse would and reads only the top-level
//! fields the paths start from, building no object to collect (on a 100-byte line 0.55–0.86 µs against
//! JSON.parse's 0.83–0.93 µs). Other expressions go through the JMESPath interpreter, each compiled
//! once at load time.

import { compile, type JSONValue, TreeInterpreter } from '@jmespath-community/jmespath';
import { goJsonMarshal } from '../go-json.js';
import { mayBeObject, TopLevelFields } from '../json-scan.js';
import type { PipelineEntry, Stage, StageFactory, StageIssue, StageResult } from '../stage.js';
import {
  expected,
  extractedValueString,
  isMapping,
  type Mapping,
  strictString,
  structConfig,
} from './config-values.js';

/** `json:` as written in the config. */
export interface JsonStageConfig {
  /** Extracted name → JMESPath expression (empty: the name itself). Required, not empty. */
  expressions: Record<string, string>;
  /** Extracted value to parse instead of the line. @default the line */
  source?: string;
  /** Drop entries whose input is not a JSON object. @default false */
  drop_malformed?: boolean;
}

/** The package does not export its AST type. */
type ExpressionNode = ReturnType<typeof compile>;

interface Expression {
  readonly name: string;
  /** Field names to follow, when the expression is a plain path. */
  readonly path: readonly string[] | undefined;
  readonly ast: ExpressionNode;
}

const YAML_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const YAML_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);

/** A boolean under mapstructure's strict Decode: YAML booleans only (YAML 1.1 `yes`/`no` included). */
function strictBool(m: Mapping, key: string, issues: StageIssue[]): boolean | undefined {
  const value = m[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && YAML_TRUE.has(value)) return true;
  if (typeof value === 'string' && YAML_FALSE.has(value)) return false;
  expected(issues, [key], 'a boolean', value);
  return undefined;
}

/** The field names of `a`, `a.b`, `"x.y".z`; undefined for anything else (indexes, functions…). */
function fieldPath(node: ExpressionNode): string[] | undefined {
  if (node.type === 'Field') return [node.name];
  if (node.type === 'Subexpression') {
    const left = fieldPath(node.left);
    const right = left && fieldPath(node.right);
    return right && [...left!, ...right];
  }
  return undefined;
}

/** Functions of go-jmespath, the JMESPath Promtail runs; the community package adds more. */
const GO_JMESPATH_FUNCTIONS = new Set([
  'abs',
  'avg',
  'ceil',
  'contains',
  'ends_with',
  'floor',
  'join',
  'keys',
  'length',
  'map',
  'max',
  'max_by',
  'merge',
  'min',
  'min_by',
  'not_null',
  'reverse',
  'sort',
  'sort_by',
  'starts_with',
  'sum',
  'to_array',
  'to_number',
  'to_string',
  'type',
  'values',
]);

/** Syntax the community package reads but go-jmespath does not: refused, as Promtail refuses it. */
const NOT_IN_GO_JMESPATH: Readonly<Record<string, string>> = {
  Arithmetic: 'arithmetic',
  Unary: 'arithmetic',
  Root: 'the `$` root reference',
  LetExpression: '`let` expressions',
  Variable: 'variables',
  Ternary: 'the `?:` operator',
};

/** Why Promtail's go-jmespath would refuse an expression the community package compiled. */
function goJmespathProblem(node: unknown, expression: string): string | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  if (Array.isArray(node)) {
    for (const child of node) {
      const problem = goJmespathProblem(child, expression);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  const n = node as { type?: unknown; name?: unknown };
  const what = typeof n.type === 'string' ? NOT_IN_GO_JMESPATH[n.type] : undefined;
  if (what !== undefined) {
    const dash = /^[A-Za-z_][\w-]*-[\w-]*$/.test(expression)
      ? `; a key with a dash must be quoted: '"${expression}"'`
      : '';
    return `${what} is not supported by Promtail's JMESPath${dash}`;
  }
  if (n.type === 'Function' && typeof n.name === 'string' && !GO_JMESPATH_FUNCTIONS.has(n.name))
    return `unknown function: ${n.name}()`;
  for (const value of Object.values(node)) {
    const problem = goJmespathProblem(value, expression);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** JMESPath field access from `path[from]` on: null once a step is not an object or lacks the key. */
function followPath(data: unknown, path: readonly string[], from = 0): unknown {
  let cur = data;
  for (let i = from; i < path.length; i++) {
    const key = path[i]!;
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return null;
    cur = Object.hasOwn(cur, key) ? (cur as Record<string, unknown>)[key] : null;
  }
  return cur;
}

/**
 * JSON.parse reviver giving objects no prototype: the JMESPath interpreter reads a field as
 * `value[name]`, which would find `constructor`, `toString` or `__proto__` on Object.prototype where
 * Go's map has no such key (null).
 */
function withoutPrototype(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.assign(Object.create(null) as object, value);
}

/** What Promtail stores: numbers, strings, booleans and null as they are; objects and arrays as JSON. */
function extractedValue(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? goJsonMarshal(v) : v;
}

function compileExpressions(raw: unknown, issues: StageIssue[]): Expression[] {
  if (raw === undefined || raw === null) {
    issues.push({ path: ['expressions'], message: 'JMES expression is required' });
    return [];
  }
  if (!isMapping(raw)) {
    expected(issues, ['expressions'], 'a mapping of names to JMESPath expressions', raw);
    return [];
  }
  const names = Object.keys(raw);
  if (names.length === 0) issues.push({ path: ['expressions'], message: 'JMES expression is required' });
  const out: Expression[] = [];
  for (const name of names) {
    const text = raw[name] ?? '';
    if (typeof text !== 'string') {
      expected(issues, ['expressions', name], 'a string (a JMESPath expression)', text);
      continue;
    }
    const expression = text === '' ? name : text;
    let problem: string | undefined;
    try {
      const ast = compile(expression);
      problem = goJmespathProblem(ast, expression);
      if (problem === undefined) out.push({ name, path: fieldPath(ast), ast });
    } catch (err) {
      problem = (err as Error).message;
    }
    if (problem !== undefined)
      issues.push({
        path: ['expressions', name],
        message: `could not compile JMES expression: ${problem} in \`${expression}\``,
      });
  }
  return out;
}

/**
 * The top-level fields that plain-path expressions start from, read without JSON.parse building the
 * whole line (json-scan.ts); undefined when an expression needs the JMESPath interpreter.
 */
interface FieldReader {
  readonly fields: TopLevelFields;
  /** Per expression, the index of its first key among the fields. */
  readonly fieldOf: readonly number[];
}

function fieldReader(expressions: readonly Expression[]): FieldReader | undefined {
  if (expressions.some(e => e.path === undefined)) return undefined;
  const names = [...new Set(expressions.map(e => e.path![0]!))];
  return { fields: new TopLevelFields(names), fieldOf: expressions.map(e => names.indexOf(e.path![0]!)) };
}

class JsonStage implements Stage {
  readonly name = 'json';
  readonly #expressions: readonly Expression[];
  readonly #source: string | undefined;
  /** What becomes of an input that is not a JSON object (`drop_malformed`). */
  readonly #malformed: StageResult;
  readonly #reader: FieldReader | undefined;

  constructor(expressions: readonly Expression[], source: string | undefined, dropMalformed: boolean) {
    this.#expressions = expressions;
    this.#source = source;
    this.#malformed = dropMalformed ? 'drop' : 'keep';
    this.#reader = fieldReader(expressions);
  }

  process(entry: PipelineEntry): StageResult {
    // A missing or non-string source leaves the entry as it is (and is not "malformed").
    const input =
      this.#source === undefined ? entry.line : extractedValueString(entry.extracted[this.#source]);
    if (input === undefined) return 'keep';
    if (this.#reader !== undefined) return this.#readFields(entry, input, this.#reader);
    // Not an object (a plain-text line among JSON ones): malformed, whatever it is.
    if (!mayBeObject(input)) return this.#malformed;
    let data: unknown;
    try {
      data = JSON.parse(input, withoutPrototype);
    } catch {
      return this.#malformed;
    }
    // Promtail unmarshals into a map: `null` is an empty map, anything but an object is malformed.
    if (typeof data !== 'object' || Array.isArray(data)) return this.#malformed;
    const extracted = entry.extracted;
    for (const e of this.#expressions) {
      if (e.path !== undefined) {
        extracted[e.name] = extractedValue(followPath(data, e.path));
        continue;
      }
      try {
        extracted[e.name] = extractedValue(TreeInterpreter.search(e.ast, data as JSONValue));
      } catch {
        // A failing search (a function given the wrong type…) sets nothing, as in Promtail.
      }
    }
    return 'keep';
  }

  /** process() for plain paths: what JSON.parse and followPath would give, from the fields read. */
  #readFields(entry: PipelineEntry, input: string, reader: FieldReader): StageResult {
    const kind = reader.fields.scan(input);
    if (kind === 'malformed' || kind === 'other') return this.#malformed;
    const extracted = entry.extracted;
    const expressions = this.#expressions;
    for (let i = 0; i < expressions.length; i++) {
      const e = expressions[i]!;
      // `null` (an empty map to Promtail) has no fields: every path gives null.
      const top = kind === 'object' ? reader.fields.value(reader.fieldOf[i]!) : undefined;
      extracted[e.name] = extractedValue(top === undefined ? null : followPath(top, e.path!, 1));
    }
    return 'keep';
  }
}

/** Compiles a `json` stage. */
export const createJsonStage: StageFactory = config => {
  const issues: StageIssue[] = [];
  const m = structConfig(config ?? {}, ['expressions', 'source', 'drop_malformed'], issues);
  if (m === undefined) return { issues };
  const expressions = compileExpressions(m.expressions, issues);
  const source = strictString(m, 'source', issues);
  if (source === '') issues.push({ path: ['source'], message: 'empty source' });
  const dropMalformed = strictBool(m, 'drop_malformed', issues) ?? false;
  if (issues.length > 0) return { issues };
  return { stage: new JsonStage(expressions, source, dropMalformed), issues };
};
