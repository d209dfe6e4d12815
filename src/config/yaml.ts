//! The only importer of js-yaml. Parses a config into plain values and, from the same parser events,
//! an index of where every mapping key and sequence item sits (js-yaml 5 has no position listener, but
//! its event API gives source offsets) and the exact text of every scalar, so `port: 0123` or
//! `password: 00123` can be read as written where a string is expected (as Go's yaml.v2 does).

import {
  CORE_SCHEMA,
  constructFromEvents,
  dump,
  EVENT_ID,
  type Event,
  getScalarValue,
  mergeTag,
  parseEvents,
  SCALAR_STYLE,
  YAMLException,
} from 'js-yaml';
import { errorMessage } from '../core/errors.js';

/** Core schema (YAML 1.2) plus `<<` merge keys, which Promtail's yaml.v2 also understands. */
const SCHEMA = CORE_SCHEMA.withTags(mergeTag);

export interface ScalarInfo {
  /** The scalar's text as written (unquoted, escapes decoded). */
  text: string;
  /** Written plain (not quoted, not a block scalar). */
  plain: boolean;
}

interface Entry {
  path: YamlPath;
  /** Offset of the mapping key, or of the sequence item's node; -1 when unknown. */
  offset: number;
  scalar?: ScalarInfo;
}

export type YamlPath = ReadonlyArray<string | number>;

function pathKey(path: YamlPath): string {
  let key = '';
  for (const part of path) key += typeof part === 'number' ? `\u0000#${part}` : `\u0000${part}`;
  return key;
}

/** Positions and scalar texts of a parsed document, by path. */
export class YamlIndex {
  readonly #entries = new Map<string, Entry>();
  readonly #lineStarts: number[] = [0];

  constructor(source: string, events: readonly Event[]) {
    for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1))
      this.#lineStarts.push(i + 1);
    this.#build(source, events);
  }

  /** 1-based line (in the parsed text) of `path`, or of its nearest ancestor that has one. */
  line(path: YamlPath): number | undefined {
    for (let n = path.length; n >= 0; n--) {
      const offset = this.#entries.get(pathKey(path.slice(0, n)))?.offset;
      if (offset !== undefined && offset >= 0) return this.#lineOf(offset);
    }
    return undefined;
  }

  /**
   * The deepest path with a key or an item on `line` (1-based, in the parsed text), for a problem found
   * in the raw text (an unset variable) to be named by its path; undefined when the line has none.
   */
  pathAt(line: number): YamlPath | undefined {
    let best: YamlPath | undefined;
    for (const entry of this.#entries.values()) {
      if (entry.offset < 0 || (best !== undefined && entry.path.length <= best.length)) continue;
      if (this.#lineOf(entry.offset) === line) best = entry.path;
    }
    return best;
  }

  /** How the scalar at `path` was written; undefined when it is not a scalar or came through an alias. */
  scalar(path: YamlPath): ScalarInfo | undefined {
    return this.#entries.get(pathKey(path))?.scalar;
  }

  #lineOf(offset: number): number {
    let lo = 0;
    let hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  #build(source: string, events: readonly Event[]): void {
    // One frame per open collection. `path` is null inside a complex (non-scalar) mapping key.
    interface Frame {
      kind: 'map' | 'seq' | 'doc';
      path: YamlPath | null;
      next: number;
      key: string | undefined;
      wantKey: boolean;
      /** This collection is itself a mapping key: when it closes, the parent's value comes next. */
      isKey?: boolean;
    }
    const stack: Frame[] = [];
    let documents = 0;
    const valueDone = (): void => {
      const top = stack.at(-1);
      if (top?.kind === 'map') top.wantKey = true;
    };
    for (const ev of events) {
      if (ev.type === EVENT_ID.DOCUMENT) {
        documents++;
        stack.push({
          kind: 'doc',
          path: documents === 1 ? [] : null,
          next: 0,
          key: undefined,
          wantKey: false,
        });
        continue;
      }
      if (ev.type === EVENT_ID.POP) {
        if (stack.pop()?.isKey !== true) valueDone();
        continue;
      }
      const top = stack.at(-1);
      if (top === undefined) continue;
      // A mapping key: record where it is; its value comes next.
      if (top.kind === 'map' && top.wantKey) {
        top.wantKey = false;
        if (ev.type === EVENT_ID.SCALAR && top.path !== null) {
          top.key = getScalarValue(source, ev);
          const keyPath = [...top.path, top.key];
          this.#entries.set(pathKey(keyPath), { path: keyPath, offset: ev.valueStart });
        } else {
          top.key = undefined;
        }
        if (ev.type === EVENT_ID.MAPPING || ev.type === EVENT_ID.SEQUENCE) {
          const kind = ev.type === EVENT_ID.MAPPING ? 'map' : 'seq';
          stack.push({ kind, path: null, next: 0, key: undefined, wantKey: true, isKey: true });
        }
        continue;
      }
      let path: YamlPath | null = null;
      if (top.path !== null) {
        if (top.kind === 'doc') path = top.path;
        else if (top.kind === 'seq') path = [...top.path, top.next];
        else if (top.key !== undefined) path = [...top.path, top.key];
      }
      if (top.kind === 'seq') top.next++;
      if (path !== null) {
        const key = pathKey(path);
        let entry = this.#entries.get(key);
        if (entry === undefined) {
          entry = { path, offset: nodeOffset(ev) };
          this.#entries.set(key, entry);
        }
        if (ev.type === EVENT_ID.SCALAR) {
          entry.scalar = { text: getScalarValue(source, ev), plain: ev.style === SCALAR_STYLE.PLAIN };
        }
      }
      if (ev.type === EVENT_ID.MAPPING || ev.type === EVENT_ID.SEQUENCE) {
        stack.push({
          kind: ev.type === EVENT_ID.MAPPING ? 'map' : 'seq',
          path,
          next: 0,
          key: undefined,
          wantKey: true,
        });
      } else {
        valueDone();
      }
    }
  }
}

function nodeOffset(ev: Event): number {
  switch (ev.type) {
    case EVENT_ID.SCALAR:
      return ev.valueStart;
    case EVENT_ID.MAPPING:
    case EVENT_ID.SEQUENCE:
      return ev.start;
    case EVENT_ID.ALIAS:
      return ev.anchorStart;
    default:
      return -1;
  }
}

export interface ParseFailure {
  ok: false;
  message: string;
  /** 1-based, in the parsed text. */
  line?: number;
}

export type ParseResult = { ok: true; value: unknown; index: YamlIndex } | ParseFailure;

/** Parses one YAML document; an empty document is `null`. Never throws. */
export function parseYaml(text: string): ParseResult {
  try {
    const events = parseEvents(text, {});
    const docs = constructFromEvents(events, { source: text, schema: SCHEMA });
    if (docs.length > 1) {
      return { ok: false, message: `Expected one YAML document, found ${docs.length} (separated by ---)` };
    }
    return { ok: true, value: docs[0] ?? null, index: new YamlIndex(text, events) };
  } catch (err) {
    if (err instanceof YAMLException) {
      const line = err.mark === undefined ? undefined : err.mark.line + 1;
      return { ok: false, message: `Invalid YAML: ${err.reason}`, line };
    }
    return { ok: false, message: `Invalid YAML: ${errorMessage(err)}` };
  }
}

/** Renders a value as block YAML (no line folding); never throws. */
export function dumpYaml(value: unknown): string {
  try {
    return dump(value, { lineWidth: -1, skipInvalid: true });
  } catch (err) {
    return `# cannot render as YAML: ${errorMessage(err)}\n`;
  }
}
