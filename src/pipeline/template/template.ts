//! A compiled Go text/template (the subset Promtail users rely on): compiled once at load time, then
//! executed per entry against a string map. Execution follows Go's text/template: a missing key prints
//! `<no value>`, `if` uses Go's truth, pipelines pass the previous result as the last argument, and a
//! runtime failure throws TemplateExecError (Promtail then leaves the entry unchanged).

import type { FuncDef, ParamType } from './funcs.js';
import { TemplateSyntaxError } from './lexer.js';
import { type Operand, type Pipeline, parseTemplateSource, type TemplateNode } from './parser.js';
import {
  isTrue,
  MISSING,
  printValue,
  type TemplateData,
  TemplateExecError,
  typeOf,
  type Value,
} from './values.js';

export type { TemplateData } from './values.js';
export { TemplateExecError } from './values.js';

export type CompileResult = { ok: true; template: GoTemplate } | { ok: false; message: string };

/** Compiles a template, or explains (with line and column) why it cannot run. */
export function compileTemplate(source: string): CompileResult {
  try {
    return { ok: true, template: new GoTemplate(source, parseTemplateSource(source)) };
  } catch (err) {
    if (!(err instanceof TemplateSyntaxError)) throw err;
    return { ok: false, message: `${err.message}${where(source, err.pos)}` };
  }
}

function where(source: string, pos: number): string {
  if (pos < 0) return '';
  const before = source.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}

export class GoTemplate {
  readonly source: string;
  /** The output when the template has no actions: executing it then costs nothing. */
  readonly constant: string | undefined;
  readonly #nodes: readonly TemplateNode[];

  constructor(source: string, nodes: readonly TemplateNode[]) {
    this.source = source;
    this.#nodes = nodes;
    this.constant = nodes.every(n => n.type === 'text')
      ? nodes.map(n => (n.type === 'text' ? n.text : '')).join('')
      : undefined;
  }

  /** Runs the template with `data` as `.`; throws TemplateExecError when Go's execution would fail. */
  execute(data: TemplateData): string {
    if (this.constant !== undefined) return this.constant;
    return walk(this.#nodes, data, '');
  }
}

function walk(nodes: readonly TemplateNode[], data: TemplateData, out: string): string {
  for (const node of nodes) {
    if (node.type === 'text') out += node.text;
    else if (node.type === 'action') out += printValue(pipeline(node.pipe, data));
    else out = walk(isTrue(pipeline(node.pipe, data)) ? node.then : node.otherwise, data, out);
  }
  return out;
}

function pipeline(pipe: Pipeline, data: TemplateData): Value {
  let piped: Value | undefined;
  for (const cmd of pipe.commands) {
    const [first, ...args] = cmd.operands as [Operand, ...Operand[]];
    piped =
      first.type === 'func' ? call(first.fn, first.name, args, piped, data) : operand(first, 'value', data);
  }
  return piped!;
}

function call(
  fn: FuncDef,
  name: string,
  argOps: readonly Operand[],
  piped: Value | undefined,
  data: TemplateData,
): Value {
  if (fn.shortCircuit !== undefined) {
    // Go's and/or stop at the first argument that settles the result and return that argument.
    const wantTrue = fn.shortCircuit === 'or';
    let v: Value = MISSING;
    for (const op of argOps) {
      v = operand(op, 'value', data);
      if (isTrue(v) === wantTrue) return v;
    }
    return piped ?? v;
  }
  const args: Value[] = [];
  for (let i = 0; i < argOps.length; i++) args.push(operand(argOps[i]!, paramType(fn, i), data));
  if (piped !== undefined) args.push(coerce(piped, paramType(fn, args.length)));
  try {
    return fn.call(args);
  } catch (err) {
    if (err instanceof TemplateExecError) throw err;
    throw new TemplateExecError(`error calling ${name}: ${(err as Error).message}`);
  }
}

function paramType(fn: FuncDef, i: number): ParamType {
  return fn.params[i] ?? fn.variadic!;
}

function operand(op: Operand, param: ParamType, data: TemplateData): Value {
  switch (op.type) {
    case 'field':
      return coerce(data.get(op.names[0]!) ?? MISSING, param);
    case 'dot':
      return coerce(data, param);
    case 'string':
      return op.value;
    case 'number':
      // Go passes an integer to an int parameter, and a float-looking constant as float64 elsewhere.
      return param !== 'int' && op.lit.floatSyntax ? op.lit.float : op.lit.int!;
    case 'bool':
      return op.value;
    case 'nil':
      return null;
    case 'func':
      return coerce(call(op.fn, op.name, [], undefined, data), param);
    case 'pipe':
      return coerce(pipeline(op.pipe, data), param);
  }
}

/** Go's validateType for a computed argument. */
function coerce(v: Value, param: ParamType): Value {
  switch (param) {
    case 'value':
      return v;
    case 'any':
      return v === MISSING ? null : v;
    case 'string':
      if (typeof v === 'string') return v;
      break;
    case 'int':
      if (typeof v === 'bigint') return v;
      break;
  }
  if (v === MISSING) throw new TemplateExecError(`invalid value; expected ${param}`);
  throw new TemplateExecError(`wrong type for value; expected ${param}; got ${typeOf(v)}`);
}
