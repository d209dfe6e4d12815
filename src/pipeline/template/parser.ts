//! Builds the tree of a Go text/template from its tokens (lexer.ts) and checks, at load time, what Go
//! only finds when it runs: unknown functions, wrong argument counts, literals of the wrong type, and
//! invalid literal regexes. Anything outside the subset (range, with, define, variables…) is an error
//! that names it.

import { FUNCS, type FuncDef, type ParamType } from './funcs.js';
import { lex, TemplateSyntaxError, type Token } from './lexer.js';
import { type NumberLiteral, parseNumberLiteral } from './values.js';

export type Operand =
  | { readonly type: 'field'; readonly names: readonly string[]; readonly pos: number }
  | { readonly type: 'dot'; readonly pos: number }
  | { readonly type: 'string'; readonly value: string; readonly pos: number }
  | { readonly type: 'number'; readonly lit: NumberLiteral; readonly pos: number }
  | { readonly type: 'bool'; readonly value: boolean; readonly pos: number }
  | { readonly type: 'nil'; readonly pos: number }
  | { readonly type: 'func'; readonly name: string; readonly fn: FuncDef; readonly pos: number }
  | { readonly type: 'pipe'; readonly pipe: Pipeline; readonly pos: number };

export interface Command {
  readonly operands: readonly Operand[];
}

export interface Pipeline {
  readonly commands: readonly Command[];
}

export type TemplateNode =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'action'; readonly pipe: Pipeline }
  | {
      readonly type: 'if';
      readonly pipe: Pipeline;
      readonly then: readonly TemplateNode[];
      readonly otherwise: readonly TemplateNode[];
    };

const UNSUPPORTED_ACTIONS = new Set(['range', 'with', 'define', 'template', 'block', 'break', 'continue']);

/** The static type of an operand or a function result, for load-time checks. */
type StaticType = 'string' | 'field' | 'int' | 'int64' | 'float' | 'bool' | 'nil' | 'data' | 'any';

class Parser {
  readonly #tokens: Token[];
  #i = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  #peek(offset = 0): Token | undefined {
    return this.#tokens[this.#i + offset];
  }

  #next(): Token {
    const t = this.#tokens[this.#i++];
    if (t === undefined) throw new TemplateSyntaxError('unexpected end of template', -1);
    return t;
  }

  #expect(kind: Token['kind'], what: string): Token {
    const t = this.#next();
    if (t.kind !== kind) throw new TemplateSyntaxError(`unexpected ${describe(t)} ${what}`, t.pos);
    return t;
  }

  /** Parses nodes until `{{else}}`/`{{end}}` (returned, the `{{` and keyword consumed) or the end. */
  list(inside: boolean): [TemplateNode[], 'else' | 'end' | 'eof'] {
    const nodes: TemplateNode[] = [];
    for (;;) {
      const t = this.#peek();
      if (t === undefined) {
        if (inside) throw new TemplateSyntaxError('unexpected EOF: missing {{end}}', -1);
        return [nodes, 'eof'];
      }
      this.#i++;
      if (t.kind === 'text') {
        nodes.push({ type: 'text', text: t.value });
        continue;
      }
      const kw = this.#peek();
      if (kw?.kind === 'ident' && (kw.value === 'else' || kw.value === 'end')) {
        if (!inside) throw new TemplateSyntaxError(`unexpected {{${kw.value}}}`, kw.pos);
        this.#i++;
        return [nodes, kw.value];
      }
      if (kw?.kind === 'ident' && kw.value === 'if') {
        this.#i++;
        nodes.push(this.#if());
        continue;
      }
      if (kw?.kind === 'ident' && UNSUPPORTED_ACTIONS.has(kw.value))
        throw new TemplateSyntaxError(`{{${kw.value}}} is not supported`, kw.pos);
      const pipe = this.#pipeline('close');
      nodes.push({ type: 'action', pipe });
    }
  }

  /** After `{{if`: the condition, the branches and the closing `{{end}}`. */
  #if(): TemplateNode {
    const pipe = this.#pipeline('close');
    const [then, stop] = this.list(true);
    if (stop === 'end') {
      this.#expect('close', 'in {{end}}');
      return { type: 'if', pipe, then, otherwise: [] };
    }
    const next = this.#peek();
    if (next?.kind === 'ident' && next.value === 'if') {
      // `{{else if …}}` nests an if that shares the outer `{{end}}`.
      this.#i++;
      return { type: 'if', pipe, then, otherwise: [this.#if()] };
    }
    if (next?.kind === 'ident' && next.value === 'with')
      throw new TemplateSyntaxError('{{else with}} is not supported', next.pos);
    this.#expect('close', 'in {{else}}');
    const [otherwise, stop2] = this.list(true);
    if (stop2 === 'else') throw new TemplateSyntaxError('expected {{end}}; found {{else}}', -1);
    this.#expect('close', 'in {{end}}');
    return { type: 'if', pipe, then, otherwise };
  }

  /** A pipeline up to (and consuming) `end`: `close` for an action, `rparen` for `( … )`. */
  #pipeline(end: 'close' | 'rparen'): Pipeline {
    const commands: Command[] = [];
    for (;;) {
      const operands: Operand[] = [];
      for (;;) {
        const t = this.#peek();
        if (t === undefined) throw new TemplateSyntaxError('unclosed action', -1);
        if (t.kind === end || t.kind === 'pipe') break;
        operands.push(this.#operand());
      }
      const stop = this.#next();
      if (operands.length === 0) throw new TemplateSyntaxError('missing value for command', stop.pos);
      commands.push({ operands });
      if (stop.kind === end) break;
    }
    return { commands };
  }

  #operand(): Operand {
    const t = this.#next();
    const prev = this.#tokens[this.#i - 2];
    const pos = t.pos;
    switch (t.kind) {
      case 'field':
        if (prev?.kind === 'rparen' && prev.pos + 1 === t.pos)
          throw new TemplateSyntaxError('fields of a parenthesized pipeline are not supported', t.pos);
        return { type: 'field', names: t.value.split('.'), pos };
      case 'dot':
        return { type: 'dot', pos };
      case 'string':
        return { type: 'string', value: t.value, pos };
      case 'char':
      case 'number': {
        const lit = parseNumberLiteral(t.value, t.kind === 'char' ? Number(t.value) : undefined);
        if (lit === undefined) throw new TemplateSyntaxError(`illegal number syntax: ${t.value}`, pos);
        return { type: 'number', lit, pos };
      }
      case 'bool':
        return { type: 'bool', value: t.value === 'true', pos };
      case 'nil':
        return { type: 'nil', pos };
      case 'lparen':
        return { type: 'pipe', pipe: this.#pipeline('rparen'), pos };
      case 'ident': {
        if (UNSUPPORTED_ACTIONS.has(t.value) || t.value === 'if' || t.value === 'else' || t.value === 'end')
          throw new TemplateSyntaxError(`unexpected {{${t.value}}} inside an action`, pos);
        const fn = FUNCS.get(t.value);
        if (fn === undefined)
          throw new TemplateSyntaxError(
            `function "${t.value}" is not supported (available: ${[...FUNCS.keys()].join(', ')})`,
            pos,
          );
        return { type: 'func', name: t.value, fn, pos };
      }
      case 'variable':
      case 'declare':
        throw new TemplateSyntaxError(`variables are not supported (found ${t.value})`, pos);
      default:
        throw new TemplateSyntaxError(`unexpected ${describe(t)} in operand`, pos);
    }
  }
}

function describe(t: Token): string {
  if (t.kind === 'close') return '"}}"';
  if (t.kind === 'rparen') return '")"';
  if (t.kind === 'lparen') return '"("';
  if (t.kind === 'pipe') return '"|"';
  return JSON.stringify(t.value);
}

// ---------------------------------------------------------------------------------------------------
// Load-time checks.

function operandType(op: Operand): StaticType {
  switch (op.type) {
    case 'field':
      return 'field';
    case 'dot':
      return 'data';
    case 'string':
      return 'string';
    case 'number':
      return op.lit.floatSyntax ? 'float' : 'int';
    case 'bool':
      return 'bool';
    case 'nil':
      return 'nil';
    case 'func':
      return op.fn.result;
    case 'pipe':
      return checkPipeline(op.pipe);
  }
}

const GO_TYPE: Record<StaticType, string> = {
  string: 'string',
  field: 'string',
  int: 'int',
  int64: 'int64',
  float: 'float64',
  bool: 'bool',
  nil: 'nil',
  data: 'map[string]string',
  any: 'interface {}',
};

/** Why a value of static type `type` (from `op`, when it is an argument written out) cannot be `param`. */
function argProblem(param: ParamType, type: StaticType, op: Operand | undefined): string | undefined {
  if (param === 'any' || param === 'value' || type === 'any') return undefined;
  if (op?.type === 'nil') return `cannot assign nil to ${param}`;
  if (param === 'string') {
    if (type === 'string' || type === 'field') return undefined;
    if (op?.type === 'number' || op?.type === 'bool') return `expected string; found ${literalText(op)}`;
    return `wrong type for value; expected string; got ${GO_TYPE[type]}`;
  }
  // param === 'int'
  if (op?.type === 'number')
    return op.lit.int === undefined ? `expected integer; found ${op.lit.text}` : undefined;
  if (type === 'int') return undefined;
  if (op?.type === 'string' || op?.type === 'bool') return `expected integer; found ${literalText(op)}`;
  return `wrong type for value; expected int; got ${GO_TYPE[type]}`;
}

function literalText(op: Operand): string {
  if (op.type === 'number') return op.lit.text;
  if (op.type === 'string') return JSON.stringify(op.value);
  if (op.type === 'bool') return String(op.value);
  return op.type;
}

/** Checks a pipeline and returns the static type of its result. */
export function checkPipeline(pipe: Pipeline): StaticType {
  let piped: StaticType | undefined;
  for (const [index, cmd] of pipe.commands.entries()) {
    const [first, ...rest] = cmd.operands as [Operand, ...Operand[]];
    if (first.type !== 'func') {
      if (index > 0)
        throw new TemplateSyntaxError(`non executable command in pipeline stage ${index + 1}`, first.pos);
      if (rest.length > 0)
        throw new TemplateSyntaxError(
          `can't give argument to non-function ${describeOperand(first)}`,
          first.pos,
        );
      if (first.type === 'nil') throw new TemplateSyntaxError('nil is not a command', first.pos);
      if (first.type === 'field' && first.names.length > 1)
        throw new TemplateSyntaxError(
          `.${first.names.join('.')}: extracted values are strings and have no fields`,
          first.pos,
        );
      piped = operandType(first);
      continue;
    }
    checkCall(first, rest, piped);
    piped = first.fn.result;
  }
  return piped ?? 'any';
}

function describeOperand(op: Operand): string {
  if (op.type === 'field') return `.${op.names.join('.')}`;
  if (op.type === 'dot') return '.';
  return literalText(op);
}

function checkCall(
  fnOp: Extract<Operand, { type: 'func' }>,
  args: Operand[],
  piped: StaticType | undefined,
): void {
  const { fn, name } = fnOp;
  const count = args.length + (piped === undefined ? 0 : 1);
  const fixed = fn.params.length;
  if (fn.variadic === undefined ? count !== fixed : count < fixed)
    throw new TemplateSyntaxError(
      `wrong number of args for ${name}: want ${fn.variadic === undefined ? '' : 'at least '}${fixed} got ${count}`,
      fnOp.pos,
    );
  if (fn.minArgs !== undefined && count < fn.minArgs)
    throw new TemplateSyntaxError(`missing argument for comparison in ${name}`, fnOp.pos);
  const paramOf = (i: number): ParamType => fn.params[i] ?? fn.variadic!;
  for (const [i, arg] of args.entries()) {
    if (arg.type === 'field' && arg.names.length > 1)
      throw new TemplateSyntaxError(
        `.${arg.names.join('.')}: extracted values are strings and have no fields`,
        arg.pos,
      );
    if (arg.type === 'func') checkCall(arg, [], undefined);
    const problem = argProblem(paramOf(i), operandType(arg), arg);
    if (problem !== undefined) throw new TemplateSyntaxError(`${name}: ${problem}`, arg.pos);
    if (arg.type === 'string') {
      const literal = fn.checkLiteral?.(i, arg.value);
      if (literal !== undefined) throw new TemplateSyntaxError(`${name}: ${literal}`, arg.pos);
    }
  }
  if (piped !== undefined) {
    const problem = argProblem(paramOf(count - 1), piped, undefined);
    if (problem !== undefined) throw new TemplateSyntaxError(`${name}: ${problem}`, fnOp.pos);
  }
}

function checkNodes(nodes: readonly TemplateNode[]): void {
  for (const node of nodes) {
    if (node.type === 'text') continue;
    checkPipeline(node.pipe);
    if (node.type === 'if') {
      checkNodes(node.then);
      checkNodes(node.otherwise);
    }
  }
}

/** Parses and checks a template; throws TemplateSyntaxError. */
export function parseTemplateSource(source: string): TemplateNode[] {
  const parser = new Parser(lex(source));
  const [nodes] = parser.list(false);
  checkNodes(nodes);
  return nodes;
}
